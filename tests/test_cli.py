"""The real CLI in a subprocess: bad input is one clear line and exit 2; runs finish."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qnemu.scenario import DEFAULT_SCENARIO_PATH

GOOD = {
    "name": "cli-test",
    "seed": 1,
    "duration_s": 0.01,
    "topology": {
        "generator": "chain",
        "n": 3,
        "hop_km": 5,
        "hardware": "er_telecom",
        "memories": 2,
    },
    "tenants": [{"name": "t", "app": "dqc", "src": "n0", "dst": "n2", "rate_hz": 10, "f_min": 0.6}],
}


QUIET_METRICS = ["--metrics-port", "0", "--metrics-linger", "0"]  # never clash on 9300


def qnemu(*args, cwd=None):
    extra = QUIET_METRICS if args and args[0] == "run" else []
    return subprocess.run(
        [sys.executable, "-m", "qnemu", *map(str, args), *extra],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


def _write(tmp_path, data, name="scenario.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _explicit(**link_overrides):
    link = {"a": "A", "b": "B", "length_km": 5.0, **link_overrides}
    return {
        "name": "bad",
        "seed": 1,
        "duration_s": 0.01,
        "topology": {
            "nodes": [
                {"id": "A", "hardware": "er_telecom", "memories": 2},
                {"id": "B", "hardware": "er_telecom", "memories": 2},
            ],
            "links": [link],
        },
        "tenants": [
            {"name": "t", "app": "qkd", "src": "A", "dst": "B", "rate_hz": 1, "f_min": 0.6}
        ],
    }


def _with(base, path, value):
    data = json.loads(json.dumps(base))
    target = data
    *parents, last = path
    for key in parents:
        target = target[key]
    target[last] = value
    return data


BAD = {
    "unknown node in a link": (_explicit(b="Z"), "topology.links[0].b"),
    "negative length": (_explicit(length_km=-3), "topology.links[0].length_km"),
    "t2 above twice t1": (
        _with(GOOD, ["hardware"], {"x": {"base": "er_telecom", "t1_s": 0.1, "t2_s": 0.5}}),
        "t2_s",
    ),
    "unknown profile": (_with(GOOD, ["topology", "hardware"], "unobtainium"), "unobtainium"),
    "unreachable tenant": (
        _with(
            _explicit(),
            ["topology", "nodes"],
            [
                {"id": "A", "hardware": "er_telecom", "memories": 2},
                {"id": "B", "hardware": "er_telecom", "memories": 2},
                {"id": "C", "hardware": "er_telecom", "memories": 2},
            ],
        )
        | {
            "tenants": [
                {"name": "t", "app": "qkd", "src": "A", "dst": "C", "rate_hz": 1, "f_min": 0.6}
            ]
        },
        "tenants[0].dst",
    ),
    "dilation below one": (_with(GOOD, ["dilation"], 0.5), "dilation"),
    "unknown generator": (_with(GOOD, ["topology", "generator"], "tree"), "topology.generator"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_scenario_is_one_clear_line_exit_2_and_leaves_no_results(tmp_path, case):
    data, field = BAD[case]
    scenario = _write(tmp_path, data)
    results = tmp_path / "runs"
    for command in (["run", scenario, "--results", results, "--virtual"], ["validate", scenario]):
        done = qnemu(*command)
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) >= 1 and all(line.startswith("error: ") for line in lines)
        assert any(field in line for line in lines), lines
    assert not results.exists()


def test_missing_file_is_a_clear_error(tmp_path):
    done = qnemu("run", tmp_path / "nope.yaml", "--results", tmp_path / "runs")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_validate_prints_the_resolved_network():
    done = qnemu("validate", DEFAULT_SCENARIO_PATH)
    assert done.returncode == 0, done.stderr
    assert "T_longEB" in done.stdout and "n0" in done.stdout


@pytest.mark.parametrize(
    "example", sorted(Path(DEFAULT_SCENARIO_PATH).parent.glob("*.yaml")), ids=lambda p: p.stem
)
def test_every_example_runs_in_virtual_time(tmp_path, example):
    done = qnemu("run", example, "--results", tmp_path, "--virtual", "--quiet")
    assert done.returncode == 0, done.stderr
    summary = json.loads(next(tmp_path.glob("*/summary.json")).read_text())
    assert sum(t["pairs_delivered"] for t in summary["tenants"].values()) > 0


@pytest.mark.ray
def test_qnemu_run_with_no_argument_runs_the_default_scenario_on_ray(tmp_path):
    done = qnemu("run", "--results", tmp_path / "runs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "dilation" in done.stdout and "results:" in done.stdout
    # the chosen dilation, its reason and the wall time to expect, before the run starts
    assert " (auto: " in done.stdout and "); expected wall time " in done.stdout
    folder = Path(done.stdout.split("results:")[-1].strip().split()[0])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["emulator"]["mode"] == "ray"
    # calibrated on this machine: 50 when quiet, 100 in one loaded CI run; never absurd
    assert summary["emulator"]["dilation"] <= 100
    assert sum(t["pairs_delivered"] for t in summary["tenants"].values()) > 0


@pytest.mark.ray
def test_ctrl_c_keeps_what_was_recorded_and_exits_130(tmp_path):
    import os
    import signal
    import time

    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qnemu",
            "run",
            "--results",
            str(tmp_path),
            "--dilation",
            "50",
            *QUIET_METRICS,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.time() + 120
    line = ""
    while "dilation" not in line and time.time() < deadline:
        line = process.stdout.readline()
    time.sleep(5)  # a few emulated milliseconds of pairs
    os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-2000:]
    assert "Traceback" not in stderr
    folder = next(tmp_path.iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["interrupted"] is True
    events = (folder / "events.jsonl").read_text().splitlines()
    assert len(events) > 10 and all(json.loads(line) for line in events)


def test_topo_draws_the_network_to_a_png(tmp_path):
    out = tmp_path / "mesh.png"
    done = qnemu("topo", Path(DEFAULT_SCENARIO_PATH).parent / "mesh-two-tenants.yaml", "--out", out)
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000
