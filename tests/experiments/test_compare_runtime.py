"""``qnemu compare`` reuses one Ray, shares one dilation, and reads --set/--dilation like run."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from qnemu.experiments import compare
from qnemu.experiments.runner import PLAN_FILE, Dilation, _recorded_dilation


def qnemu(*args, timeout=300):
    """``python -m qnemu ARGS`` in a subprocess (the real CLI, its usage errors included)."""
    return subprocess.run(
        [sys.executable, "-m", "qnemu", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _folder(done):
    match = re.search(r"^comparison: (.+)$", done.stdout, re.MULTILINE)
    assert match, done.stdout + done.stderr
    return Path(match.group(1))


def _run_summaries(folder):
    return [json.loads(p.read_text()) for p in sorted((folder / "runs").glob("*/*/summary.json"))]


@pytest.mark.ray
def test_compare_starts_ray_once_and_every_run_shares_one_calibrated_dilation(tiny, tmp_path):
    done = qnemu(
        "compare",
        tiny,
        "--controllers",
        "distributed,centralized",
        "--repeats",
        1,
        "--set",
        "duration_s=0.02",
        "--results",
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("ray: embedded Ray started once for 2 runs") == 1
    folder = _folder(done)
    runs = _run_summaries(folder)
    assert len(runs) == 2
    assert all(r["duration_s"] == 0.02 for r in runs)  # --set reached every run
    emulators = [r["emulator"] for r in runs]
    # one Ray for the whole comparison: every run ran on the same Ray node, none started it
    assert len({e["ray_node_id"] for e in emulators}) == 1
    assert not any(e["ray_started"] for e in emulators)
    # calibrated once (at the first run), one dilation for all, recorded with the comparison
    assert sum("calibrated_lateness_s" in e for e in emulators) == 1
    recorded = json.loads((folder / PLAN_FILE).read_text())["dilation"]
    assert recorded["source"] == "auto" and recorded["value"] >= 1
    assert recorded["calibrated_lateness_s"] > 0
    assert {e["dilation"] for e in emulators} == {recorded["value"]}
    assert json.loads((folder / "summary.json").read_text())["dilation"] == recorded
    # each run said its dilation, why, and how long it should take, before it started
    said = re.findall(r"dilation (\S+) \((auto.*?)\); expected wall time", done.stdout)
    assert len(said) == 2 and {float(d) for d, _ in said} == {recorded["value"]}
    assert "calibrated once at the comparison's first run" in said[1][1]


@pytest.mark.ray
def test_compare_dilation_option_holds_for_every_run(ray_local, tiny, tmp_path):
    folder = compare(
        tiny,
        "distributed",
        repeats=2,
        results_dir=tmp_path,
        dilation=20,
        overrides={"duration_s": 0.01},
        quiet=True,
    )
    recorded = json.loads((folder / PLAN_FILE).read_text())["dilation"]
    assert recorded == {
        "value": 20.0,
        "source": "--dilation",
        "reason": "set by --dilation",
        "calibrated_lateness_s": None,
    }
    runs = _run_summaries(folder)
    assert [r["emulator"]["dilation"] for r in runs] == [20.0, 20.0]
    assert {r["emulator"]["dilation_reason"] for r in runs} == {"set by --dilation"}
    assert [r["seed"] for r in runs] == [5, 6]


BAD = {
    "dilation not a number": (["--dilation", "abc"], "Invalid value for '--dilation'"),
    "dilation below one": (["--dilation", "0.5"], "dilation"),
    "set without =": (["--set", "duration_s"], "an override must look like path.to.key=value"),
    "set unknown key": (["--set", "control.nosuch=1"], "control.nosuch"),
    "set bad value": (["--set", "duration_s=-1"], "duration_s"),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_compare_reads_set_and_dilation_like_run_with_the_same_errors(tiny, tmp_path, case):
    args, words = BAD[case]
    done = qnemu("compare", tiny, *args, "--results", tmp_path / "out", "--virtual")
    ran = qnemu(
        "run", tiny, *args, "--results", tmp_path / "out", "--virtual", "--metrics-port", "0"
    )
    assert done.returncode == 2 and ran.returncode == 2, done.stderr + ran.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and words in lines[0]
    assert lines[0].replace("qnemu compare", "qnemu run") == ran.stderr.strip()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ["--set", "seed=3"],
            "error: --set seed: cannot be set, it is set by --seed and the repeat number",
        ),
        (
            ["--set", "duration_s=0.1", "--sweep", "duration_s=0.1,0.2"],
            "error: --set duration_s: is also swept; give it once, with --set or --sweep",
        ),
    ],
)
def test_compare_refuses_a_set_that_fights_the_comparison(tiny, tmp_path, args, line):
    done = qnemu("compare", tiny, *args, "--results", tmp_path / "out", "--virtual")
    assert done.returncode == 2 and done.stderr.strip() == line


def test_set_and_dilation_reach_every_virtual_run_and_are_recorded(tiny, tmp_path):
    folder = compare(
        tiny,
        "distributed,centralized",
        repeats=1,
        results_dir=tmp_path,
        mode="virtual",
        dilation=7,
        overrides={"duration_s": 0.05},
        quiet=True,
    )
    plan = json.loads((folder / PLAN_FILE).read_text())
    assert plan["scenario"]["duration_s"] == 0.05 and plan["scenario"]["dilation"] == 7
    assert plan["dilation"]["source"] == "virtual"  # virtual time has none
    assert [r["duration_s"] for r in _run_summaries(folder)] == [0.05, 0.05]


def test_resume_keeps_the_dilation_the_comparison_calibrated(tmp_path):
    (tmp_path / PLAN_FILE).write_text(
        json.dumps(
            {
                "dilation": {
                    "value": 50.0,
                    "source": "auto",
                    "reason": "why",
                    "calibrated_lateness_s": 1e-4,
                }
            }
        )
    )
    kept = _recorded_dilation(tmp_path, Dilation(None, "auto"))
    assert kept == Dilation(50.0, "auto", "why", 1e-4)
    given = Dilation(20.0, "--dilation", "set by --dilation")
    assert _recorded_dilation(tmp_path, given) is given
