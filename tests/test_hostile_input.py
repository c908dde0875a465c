"""Hostile or absurd input fails fast and clearly: exit 2, one ``error:`` line (at most
200 characters, naming the field), no traceback, bounded time and memory.

The CLI cases run the real command in a subprocess under a memory limit; the time limit
is only a guard against a hang (performance lives in ``benchmarks/``, never in asserts).
"""

import random
import resource
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qnemu.errors import ScenarioError
from qnemu.experiments.plan import parse_sweep
from qnemu.scenario import (
    MAX_YAML_DEPTH,
    load_scenario,
    load_yaml,
    parse_overrides,
)

QNEMU = Path(sys.executable).with_name("qnemu")
MEMORY_LIMIT_BYTES = 4 * 2**30  # the alias bomb took 5.8 GB before the fix
GUARD_S = 120  # a hang guard only, not a timing assert

GOOD = """\
name: hostile
seed: 1
duration_s: 0.01
topology: {generator: chain, n: 3, hop_km: 5, hardware: er_telecom, memories: 2}
tenants: [{name: t, app: qkd, src: n0, dst: n2, rate_hz: 10, f_min: 0.6}]
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT_BYTES, MEMORY_LIMIT_BYTES))


def qnemu(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """The installed ``qnemu`` command, as a user runs it."""
    extra = ["--metrics-port", "0", "--metrics-linger", "0"] if args[0] == "run" else []
    return subprocess.run(
        [str(QNEMU), *args, *extra],
        capture_output=True,
        text=True,
        timeout=GUARD_S,
        cwd=cwd,
        preexec_fn=_limit_memory,
    )


def assert_one_clean_line(result: subprocess.CompletedProcess, field: str) -> str:
    """Exit 2, exactly one ``error:`` line on stderr naming ``field``, no traceback."""
    lines = result.stderr.splitlines()
    assert result.returncode == 2, (result.returncode, result.stderr[-2000:])
    assert len(lines) == 1, result.stderr[-2000:]
    line = lines[0]
    assert line.startswith("error: "), line
    assert len(line) <= 200, line
    assert field in line, line
    assert "Traceback" not in result.stderr and "╭" not in result.stderr
    return line


def _alias_bomb(levels: int = 9) -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, levels):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]")
    return "\n".join(lines) + "\n"


def _set(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


FILE_CASES = {
    "alias bomb": (_alias_bomb() + GOOD, "MAX_YAML_VALUES"),
    "alias bomb inside a field": (
        "anchors: &bomb {"
        + ", ".join(_alias_bomb().splitlines())
        + "}\n"
        + _set(GOOD, "rate_hz: 10", "rate_hz: [*bomb, *bomb]"),
        "MAX_YAML_VALUES",
    ),
    "nested 900 levels": (
        _set(GOOD, "name: hostile", "name: " + "[" * 900 + "]" * 900),
        "MAX_YAML_DEPTH",
    ),
    "hop of 1e308 km": (_set(GOOD, "hop_km: 5", "hop_km: 1e308"), "topology.hop_km"),
    "link of 1e308 km": (
        GOOD.replace(
            "topology: {generator: chain, n: 3, hop_km: 5, hardware: er_telecom, memories: 2}",
            "topology:\n  nodes: [{id: n0}, {id: n1}, {id: n2}]\n"
            "  links: [{a: n0, b: n1, length_km: 1.0e+308}, "
            "{a: n1, b: n2, length_km: 5}]",
        ),
        "topology.links[0].length_km",
    ),
    "1e12 memories": (_set(GOOD, "memories: 2", "memories: 1000000000000"), "MAX_MEMORIES"),
    "1e12 memories written 1e12": (
        _set(GOOD, "memories: 2", "memories: 1e12"),
        "topology.memories",
    ),
    "profile named true": (GOOD + "hardware:\n  true: {base: er_telecom}\n", "hardware.true"),
    "key with a newline": (GOOD + '"bad\\nkey": 1\n', "bad\\nkey"),
    "key with an ANSI escape": (GOOD + '"\\e[31mred": 1\n', "\\x1b[31mred"),
    "key of 10,000 characters": (GOOD + "? " + "k" * 10_000 + "\n: 1\n", "kkkk"),
    "value of 1 MB": (_set(GOOD, "name: hostile", "name: [" + "1," * 500_000 + "1]"), "name"),
    "integer of 5000 digits": (_set(GOOD, "seed: 1", "seed: 1" + "0" * 5000), "invalid YAML"),
    "duration .inf": (_set(GOOD, "duration_s: 0.01", "duration_s: .inf"), "duration_s"),
    "duration .nan": (_set(GOOD, "duration_s: 0.01", "duration_s: .nan"), "duration_s"),
    "duration 1e12": (_set(GOOD, "duration_s: 0.01", "duration_s: 1e12"), "MAX_DURATION_S"),
    "dilation .inf": (GOOD + "dilation: .inf\n", "dilation"),
    "duration x dilation of a year": (GOOD + "dilation: 3.2e9\n", "MAX_WALL_S"),
    "chain of 1e6 nodes": (_set(GOOD, "n: 3", "n: 1000000"), "MAX_NODES"),
    "grid of 1e8 nodes": (
        _set(GOOD, "generator: chain, n: 3,", "generator: grid, rows: 10000, cols: 10000,"),
        "MAX_NODES",
    ),
    "report every picosecond": (GOOD + "control: {report_interval_s: 1e-12}\n", "MAX_REPORTS"),
    "attenuation .inf": (
        GOOD.replace("memories: 2}", "memories: 2, attenuation_db_per_km: .inf}"),
        "topology.attenuation_db_per_km",
    ),
    "controller name that is not a name": (
        GOOD + "control: {architecture: 'rm -rf /'}\n",
        "control.architecture",
    ),
    "top level is a list": ("- 1\n- 2\n", "top level"),
    "not YAML": ("a: [1, 2\n", "invalid YAML"),
}


@pytest.mark.parametrize("case", list(FILE_CASES), ids=list(FILE_CASES))
def test_hostile_scenario_file_is_one_clean_line(tmp_path, case):
    text, field = FILE_CASES[case]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    assert_one_clean_line(qnemu("validate", str(path)), field)


@pytest.mark.parametrize(
    "case", ["alias bomb", "duration .inf", "dilation .inf", "duration 1e12", "1e12 memories"]
)
def test_hostile_scenario_is_refused_by_run_before_anything_starts(tmp_path, case):
    text, field = FILE_CASES[case]
    path = tmp_path / "hostile.yaml"
    path.write_text(text)
    results = tmp_path / "runs"
    assert_one_clean_line(qnemu("run", str(path), "--virtual", "--results", str(results)), field)
    assert not results.exists()


CLI_CASES = {
    "--dilation inf": (["run", "{file}", "--virtual", "--dilation", "inf"], "dilation"),
    "--dilation 1e12": (["run", "{file}", "--virtual", "--dilation", "1e12"], "MAX_WALL_S"),
    "--dilation abc": (["run", "{file}", "--virtual", "--dilation", "abc"], "--dilation"),
    "unknown option": (["run", "{file}", "--no-such-option"], "--no-such-option"),
    "unknown command": (["frobnicate"], "frobnicate"),
    "missing argument": (["validate"], "SCENARIO"),
    "--set a huge number": (
        ["run", "{file}", "--virtual", "--set", "duration_s=1e999"],
        "duration_s",
    ),
    "--set a bomb": (
        ["run", "{file}", "--virtual", "--set", "name=" + "[" * 500 + "]" * 500],
        "MAX_YAML_DEPTH",
    ),
    "compare --repeats 1e9": (
        ["compare", "{file}", "--virtual", "--repeats", "1000000000"],
        "MAX_REPEATS",
    ),
    "compare --repeats written 1e9": (["compare", "{file}", "--repeats", "1e9"], "--repeats"),
    "compare a huge sweep": (
        [
            "compare",
            "{file}",
            "--virtual",
            "--sweep",
            "duration_s=" + ",".join(f"{i}e-4" for i in range(1, 2001)),
        ],
        "MAX_POINTS",
    ),
}


@pytest.mark.parametrize("case", list(CLI_CASES), ids=list(CLI_CASES))
def test_hostile_command_line_is_one_clean_line(tmp_path, case):
    args, field = CLI_CASES[case]
    path = tmp_path / "good.yaml"
    path.write_text(GOOD)
    results = tmp_path / "runs"
    args = [a.replace("{file}", str(path)) for a in args]
    if args[0] in ("run", "compare"):
        args += ["--results", str(results)]
    assert_one_clean_line(qnemu(*args), field)
    assert not results.exists()


def test_numbers_written_as_people_write_them_run(tmp_path):
    path = tmp_path / "good.yaml"
    path.write_text(
        GOOD.replace("duration_s: 0.01", "duration_s: 1e-2").replace("hop_km: 5", "hop_km: 5E0")
    )
    result = qnemu(
        "run",
        str(path),
        "--virtual",
        "--quiet",
        "--results",
        str(tmp_path / "r"),
        "--set",
        "duration_s=1e-3",
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "1e-03" in result.stdout or "0.001 s emulated" in result.stdout


# ------------------------------------------------------------------ user code in scenarios


def _controller_scenario(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "imported"
    (tmp_path / "evil.py").write_text(
        f"from pathlib import Path\nPath({str(marker)!r}).write_text('ran')\n"
    )
    path = tmp_path / "s.yaml"
    path.write_text(GOOD + "control: {architecture: evil.py:Evil}\n")
    return path, marker


def test_validate_does_not_import_a_user_controller(tmp_path):
    path, marker = _controller_scenario(tmp_path)
    result = qnemu("validate", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    assert "not loaded" in result.stdout and "--load-controllers" in result.stdout


def test_validate_load_controllers_imports_it(tmp_path):
    path, marker = _controller_scenario(tmp_path)
    result = qnemu("validate", str(path), "--load-controllers", cwd=tmp_path)
    assert marker.exists()
    assert_one_clean_line(result, "control.architecture")  # evil.py has no Evil class


# ---------------------------------------------------------------------- in-process cases


@pytest.mark.parametrize(
    "text, value",
    [
        ("1e-6", 1e-6),
        ("2E3", 2000.0),
        (".5", 0.5),
        ("-.5", -0.5),
        ("1.0e+6", 1e6),
        ("1_000.5", 1000.5),
        ("+3e2", 300.0),
        (".inf", float("inf")),
        ("12", 12),
        ("1e", "1e"),
        ("e5", "e5"),
        ("1.2.3", "1.2.3"),
        ("2024-01-02", None),
    ],
)
def test_numbers_parse_the_way_people_write_them(text, value):
    loaded = load_yaml(text, "value")
    if value is None:
        assert not isinstance(loaded, (int, float, str))  # still a date
    else:
        assert loaded == value and type(loaded) is type(value)


def test_overrides_and_sweeps_read_exponents_as_numbers():
    assert parse_overrides(["duration_s=1e-6"]) == {"duration_s": 1e-6}
    assert parse_sweep(["duration_s=1e-3,2E-3,.5"])[0].values == (1e-3, 2e-3, 0.5)


def test_a_nested_mapping_from_python_is_refused_not_a_recursion_error():
    data = yaml.safe_load(GOOD)
    deep: list = []
    for _ in range(5000):
        deep = [deep]
    data["name"] = deep
    with pytest.raises(ScenarioError, match="MAX_YAML_DEPTH"):
        load_scenario(data)


def test_a_self_referencing_mapping_is_refused():
    data = yaml.safe_load(GOOD)
    loop: list = []
    loop.append(loop)
    data["name"] = loop
    with pytest.raises(ScenarioError, match="nested deeper"):
        load_scenario(data)


_ABSURD = [
    None,
    True,
    -1,
    0,
    1e308,
    -1e308,
    float("inf"),
    float("nan"),
    10**30,
    "",
    "x" * 5000,
    "\n\x1b[2J",
    [],
    {},
    [[[[]]]],
    {"a": {"b": {}}},
    "1e999",
    "auto",
    2**63,
    -0.0,
    "true",
]
_FIELDS = [
    ("duration_s",),
    ("dilation",),
    ("seed",),
    ("name",),
    ("topology", "n"),
    ("topology", "hop_km"),
    ("topology", "memories"),
    ("topology", "hardware"),
    ("topology", "generator"),
    ("tenants", 0, "rate_hz"),
    ("tenants", 0, "f_min"),
    ("tenants", 0, "src"),
    ("control",),
    ("control", "cutoff_s"),
    ("control", "report_interval_s"),
    ("control", "k_paths"),
    ("classical", "loss"),
    ("classical", "jitter_s"),
    ("hardware",),
    ("runtime", "nodes_per_actor"),
    ("tenants",),
    ("topology",),
]


def _mutated(rng: random.Random) -> dict:
    data = yaml.safe_load(GOOD)
    for _ in range(rng.randint(1, 3)):
        *parents, last = rng.choice(_FIELDS)
        target = data
        for key in parents:
            if isinstance(target, dict):
                target = target.setdefault(key, {})
            elif isinstance(target, list) and isinstance(key, int) and key < len(target):
                target = target[key]
            else:
                break
        else:
            if isinstance(target, dict) and isinstance(last, str):
                target[last] = rng.choice(_ABSURD)
    return data


def test_fuzzed_scenarios_load_or_give_clean_problems():
    """300 scenarios with one to three absurd values: each loads, or every problem is one
    printable line of at most 193 characters (``error: `` makes 200)."""
    rng = random.Random(20260101)
    for _ in range(300):
        data = _mutated(rng)
        try:
            load_scenario(data)
        except ScenarioError as exc:
            assert exc.problems
            for problem in exc.problems:
                assert problem.isprintable() and len(problem) <= 193, problem


def test_max_yaml_depth_allows_real_scenarios():
    assert MAX_YAML_DEPTH >= 16
    load_scenario(GOOD)
