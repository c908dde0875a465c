"""The command line a newcomer meets: cheap start-up (checked by what it imports, never by
time), conventions (--version, -h, flags shown as flags), bundled examples by name from
any directory, one-line topologies, warnings for --set that does nothing, the live view
and the topology picture. The real CLI runs in subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from rich.console import Console

from qnemu.emulation import Progress
from qnemu.examples import EXAMPLES_DIR, description, example_path, names
from qnemu.scenario import load_scenario
from qnemu.scenario.oneline import scenario_from_flags
from qnemu.scenario.unused import ignored_by_control, unused_reason

HEAVY = ("numpy", "scipy", "ray", "prometheus_client", "matplotlib", "networkx", "pydantic")
NO_METRICS = ["--no-metrics"]


def qnemu(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "qnemu", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _one_error(done):
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


# -- start-up: the import graph, not the clock ---------------------------------------------


@pytest.mark.parametrize("module", ["qnemu.cli", "qnemu.experiments.cli", "qnemu.telemetry.cli"])
def test_importing_the_command_line_loads_no_heavy_library(module):
    code = f"import sys, {module}; print(' '.join(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in done.stdout.split()}
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))


def test_help_builds_the_command_tree_without_heavy_libraries():
    code = (
        "import sys\nfrom qnemu.cli import app\n"
        "for args in (['--help'], ['run', '--help'], ['compare', '--help'], "
        "['dashboards', 'export', '--help']):\n"
        "    app(args)\n"
        "print('LOADED', ' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    loaded = {n.split(".")[0] for n in done.stdout.split("LOADED", 1)[1].split()}
    heavy = set(HEAVY) - {"pydantic"}  # typer itself coerces option values with pydantic
    assert not loaded & heavy, sorted(loaded & heavy)


# -- conventions ---------------------------------------------------------------------------


def test_version():
    done = qnemu("--version")
    assert done.returncode == 0 and done.stdout.startswith("qnemu ")


COMMANDS = [
    [],
    ["run"],
    ["compare"],
    ["validate"],
    ["topo"],
    ["examples"],
    ["examples", "show"],
    ["dashboards"],
    ["dashboards", "export"],
    ["dashboards", "snapshot"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "qnemu")
def test_minus_h_everywhere_and_no_placeholders(command):
    short, long = qnemu(*command, "-h"), qnemu(*command, "--help")
    assert short.returncode == 0 and short.stdout == long.stdout, short.stderr
    for placeholder in ("<bool>", "<list[str]>", "{scenario}", "{name}", "{directory}"):
        assert placeholder not in short.stdout, placeholder


def test_run_is_listed_first():
    rows = qnemu("-h").stdout.splitlines()
    listed = [line.split()[1] for line in rows if line.startswith("│ ") and len(line.split()) > 1]
    commands = [word for word in listed if not word.startswith("-")]
    assert commands[0] == "run", commands
    assert {"compare", "validate", "topo", "examples", "dashboards"} <= set(commands)


def test_a_flag_given_a_value_says_flags_take_none(tmp_path):
    line = _one_error(qnemu("run", "--virtual", "true", "--results", tmp_path / "r"))
    assert "take no value" in line and "not found" not in line
    assert not (tmp_path / "r").exists()


# -- bundled examples ----------------------------------------------------------------------


def test_examples_lists_every_bundled_scenario_with_its_first_sentence():
    done = qnemu("examples")
    assert done.returncode == 0, done.stderr
    flat = " ".join(done.stdout.split())
    for name in names():
        assert name in flat
        assert " ".join(description(example_path(name)).split()[:4]) in flat
    assert set(names()) >= {"default", "two-node", "violations"}


def test_examples_show_prints_the_yaml_and_an_unknown_name_is_one_error():
    done = qnemu("examples", "show", "two-node")
    assert done.returncode == 0
    assert done.stdout == (EXAMPLES_DIR / "two-node.yaml").read_text()
    assert "two-node" in _one_error(qnemu("examples", "show", "no-such"))


def test_a_bundled_example_and_controller_run_from_any_directory(tmp_path):
    done = qnemu(
        "run",
        "two-node",
        "--virtual",
        "--quiet",
        *NO_METRICS,
        "--results",
        "runs",
        "--controller",
        "examples.controllers.freshest_first:FreshestFirst",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (summary,) = (tmp_path / "runs").glob("*/summary.json")
    assert json.loads(summary.read_text())["status"] == "completed"


def test_the_controller_file_form_loads_from_any_directory(tmp_path):
    done = qnemu(
        "validate",
        "two-node",
        "--load-controllers",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    from qnemu.control.registry import load_controller

    cls = load_controller("examples/controllers/freshest_first.py:FreshestFirst")
    assert cls.__name__ == "FreshestFirst"


def test_an_unknown_scenario_name_lists_the_bundled_ones(tmp_path):
    line = _one_error(qnemu("validate", "two-nod", cwd=tmp_path))
    assert "two-node" in line and "not found" in line


# -- one-line topologies -------------------------------------------------------------------


def test_scenario_from_flags_builds_what_the_loader_validates():
    data = scenario_from_flags("grid,2,3", "nv_center", ["qkd:n0-n5@20", "qkd:n0-n5"])
    scenario = load_scenario(data)
    assert len(scenario.nodes) == 6 and {n.hardware for n in scenario.nodes} == {"nv_center"}
    assert [t.name for t in scenario.tenants] == ["qkd-n0-n5", "qkd-n0-n5-2"]
    assert [t.rate_hz for t in scenario.tenants] == [20.0, 10.0]


@pytest.mark.parametrize(
    ("topo", "tenant", "needle"),
    [
        ("tree,3", "qkd:n0-n2", "unknown generator"),
        ("grid,3", "qkd:n0-n2", "rows,cols"),
        ("chain,3", "qkd:n0", "APP:SRC-DST"),
        ("chain,3", "qkd:n0-n2@fast", "rate"),
    ],
)
def test_scenario_from_flags_names_the_flag_that_is_wrong(topo, tenant, needle):
    with pytest.raises(Exception, match=needle):
        scenario_from_flags(topo, None, [tenant])


def test_run_topo_builds_runs_and_saves_a_scenario(tmp_path):
    saved = tmp_path / "chain.yaml"
    done = qnemu(
        "run",
        "--topo",
        "chain,3",
        "--hardware",
        "er_telecom",
        "--tenant",
        "dqc:n0-n2@20",
        "--save",
        saved,
        "--virtual",
        *NO_METRICS,
        "--results",
        tmp_path / "r",
    )
    assert done.returncode == 0, done.stderr
    assert "chain-3" in done.stdout
    data = yaml.safe_load(saved.read_text())
    assert data["topology"]["generator"] == "chain" and data["tenants"][0]["rate_hz"] == 20
    assert saved.read_text().startswith("# chain-3: built by qnemu run --topo chain,3")
    assert qnemu("validate", saved).returncode == 0


def test_topo_flags_are_checked_before_anything_runs(tmp_path):
    assert "--topo" in _one_error(qnemu("run", "--tenant", "qkd:n0-n1", "--virtual"))
    assert "not both" in _one_error(qnemu("run", "two-node", "--topo", "chain,3", "--virtual"))
    assert "--topo" in _one_error(qnemu("run", "--topo", "line,3", "--virtual"))
    line = _one_error(qnemu("run", "--topo", "chain,3", "--tenant", "qkd:n0-n9", "--virtual"))
    assert "tenants[0].dst" in line


# -- a parameter that does nothing: one rule for run --set and compare --sweep --------------


def test_set_that_does_nothing_is_a_warning_and_the_run_goes_on(tmp_path):
    done = qnemu(
        "run",
        "two-node",
        "--virtual",
        "--quiet",
        *NO_METRICS,
        "--results",
        tmp_path / "r",
        "--set",
        "control.location=alice",
        "--set",
        "hardware.nv_center.t2_s=0.1",
        "--set",
        "seed=3",
    )
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, done.stderr
    assert "control.location" in warnings[0] and "distributed" in warnings[0]
    assert "hardware.nv_center.t2_s" in warnings[1] and "changes nothing" in warnings[1]


@pytest.mark.parametrize(
    ("sweep", "needle"),
    [
        ("hardware.nv_center.t2_s=0.1,1", "changes nothing"),
        ("control.location=alice,bob", "ignored by the distributed control plane"),
    ],
)
def test_compare_sweep_refuses_what_run_set_warns_of(tmp_path, sweep, needle):
    line = _one_error(
        qnemu(
            "compare",
            "two-node",
            "--controllers",
            "distributed",
            "--repeats",
            "1",
            "--virtual",
            "--sweep",
            sweep,
            "--results",
            tmp_path,
        )
    )
    assert needle in line


def test_the_rule_itself():
    base = load_scenario(EXAMPLES_DIR / "two-node.yaml")
    same = load_scenario(EXAMPLES_DIR / "two-node.yaml", {"hardware.nv_center.t2_s": 0.1})
    assert "changes nothing" in unused_reason("hardware.nv_center.t2_s", [base, same], [])
    assert ignored_by_control("control.location", ["distributed"])
    assert ignored_by_control("control.location", ["centralized"]) is None
    assert ignored_by_control("control.domains", ["centralized", "distributed"])
    assert ignored_by_control("control.domains", ["hierarchical", "distributed"]) is None
    assert ignored_by_control("control.cutoff_s", ["distributed"]) is None


# -- the live view and the picture ---------------------------------------------------------


def test_live_view_shows_tenants_violations_and_lateness():
    from qnemu.cli_view import render

    progress = Progress(
        0.25,
        0.5,
        12,
        {
            "alice-bob": {
                "pairs_delivered": 12,
                "rate_hz": 48.0,
                "fidelity_mean": 0.8123,
                "fidelity_min": 0.7,
                "latency_mean_s": 1e-3,
                "requested": 20,
                "served": 12,
            }
        },
        {"cutoff_expired": 3, "herald_late": 0},
        2.5e-4,
        True,
    )
    console = Console(record=True, width=120)
    console.print(render(progress, 0.5, 3.0))
    text = console.export_text()
    for needle in (
        "alice-bob",
        "48.0",
        "0.8123",
        "12/20",
        "cutoff_expired 3",
        "0.250 ms",
        "OVERLOADED",
        "0.250/0.5",
    ):
        assert needle in text, needle
    assert "herald_late" not in text


def test_live_view_is_off_when_not_a_terminal(tmp_path):
    done = qnemu("run", "two-node", "--virtual", *NO_METRICS, "--results", tmp_path / "r")
    assert done.returncode == 0, done.stderr
    assert "emulating" not in done.stdout and "\x1b[" not in done.stdout


def test_topo_draws_hierarchical_domains_and_optional_lengths(tmp_path):
    scenario = tmp_path / "hier.yaml"
    scenario.write_text(
        yaml.safe_dump(
            {
                "name": "hier",
                "duration_s": 0.1,
                "topology": {"generator": "grid", "rows": 2, "cols": 3, "hop_km": 10},
                "control": {"architecture": "hierarchical"},
                "tenants": [
                    {
                        "name": "t",
                        "app": "dqc",
                        "src": "n0",
                        "dst": "n5",
                        "rate_hz": 5,
                        "f_min": 0.6,
                    }
                ],
            }
        )
    )
    plain, labeled = tmp_path / "plain.png", tmp_path / "labeled.png"
    assert qnemu("topo", scenario, "--out", plain).returncode == 0
    assert qnemu("topo", scenario, "--out", labeled, "--lengths").returncode == 0
    assert plain.read_bytes()[:4] == b"\x89PNG" and labeled.read_bytes() != plain.read_bytes()


# -- one error printer ---------------------------------------------------------------------


def test_every_command_module_prints_errors_through_one_home():
    root = Path(__file__).parent.parent / "qnemu"
    for module in ("cli.py", "experiments/cli.py", "telemetry/cli.py"):
        text = (root / module).read_text()
        assert "def _fail" not in text and 'write(f"error:' not in text, module
        assert "from qnemu.cli_errors import" in text, module


def test_a_dashboards_error_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert "cannot write" in _one_error(qnemu("dashboards", "export", blocker / "sub"))


def test_the_last_line_never_contradicts_a_live_overload_warning():
    from qnemu.cli_view import _overload

    assert _overload({"overloaded": False, "overload_seen_at_s": None}) == "no"
    late = _overload({"overloaded": False, "overload_seen_at_s": 0.0578})
    assert late.startswith("no over the whole run") and "0.0578 s emulated was late" in late
    assert _overload({"overloaded": True, "overload_seen_at_s": 0.1}).startswith("YES")


def test_a_late_run_says_where_the_actors_cpu_went():
    from rich.console import Console

    from qnemu.cli_view import print_summary

    emulator = {
        "mode": "ray",
        "actors": 2,
        "dilation": 20.0,
        "lateness_p50_s": 1e-4,
        "lateness_p99_s": 0.0178,
        "overloaded": True,
        "overload_seen_at_s": 0.01,
        "actor_cpu_us_per_message": {"total": 102.8, "events": 40.0, "frames": 39.7, "loop": 23.2},
    }
    summary = {"scenario": "s", "controller": "c", "tenants": {}, "violations": {}}

    def printed(emulator: dict) -> str:
        console = Console(record=True, width=300)
        print_summary(console, {**summary, "emulator": emulator})
        return console.export_text()

    late = printed(emulator)
    assert "actors' CPU per message: 103 µs (node and controller logic 40, frames from " in late
    assert "waking up and sockets 23)" in late
    fine = printed({**emulator, "overloaded": False, "overload_seen_at_s": None})
    assert "CPU per message" not in fine
