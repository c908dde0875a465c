"""The live console on a real-time Ray run (``qnemu run --console --ray``) in a
pseudo-terminal: a link cut and mended, a node crash that kills its actor's process and a
restart that starts a new one, pause and resume, then quit with a complete summary.

Real Ray actors in a real ``qnemu`` process; each step waits for the prompt or for text
the command prints, with generous timeouts (the machine may be loaded).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

SCENARIO = """
name: console-ray-ring
seed: 4
duration_s: 2.0
dilation: 100
topology: {generator: ring, n: 5, hop_km: 5, hardware: trapped_ion, memories: 4}
runtime: {nodes_per_actor: 1}
control: {architecture: distributed, heartbeat_s: 0.001, max_purification_rounds: 0}
tenants:
  - {name: t, app: dqs, src: n0, dst: n2, rate_hz: 100, f_min: 0.55, arrivals: backlog}
"""
PROMPT = "qnemu> "
NO_METRICS = ("--no-metrics", "--results", "runs")


def _ask_until(child: pexpect.spawn, command: str, wanted: str, other: str) -> None:
    """Type ``command`` until its answer shows ``wanted`` (``other``: the answer before)."""
    for _ in range(80):
        child.sendline(command)
        index = child.expect([wanted, other])
        child.expect_exact(PROMPT)
        if index == 0:
            return
        time.sleep(0.25)
    pytest.fail(f"{command!r} never showed {wanted!r}")


def _stats_time(child: pexpect.spawn) -> float:
    child.sendline("stats")
    child.expect(r"emulated ([0-9.]+) s")
    value = float(child.match.group(1))
    child.expect_exact(PROMPT)
    return value


@pytest.mark.ray
def test_the_console_drives_a_ray_run_kills_and_restarts_a_process_and_pauses(tmp_path):
    scenario = tmp_path / "ring.yaml"
    scenario.write_text(SCENARIO)
    child = pexpect.spawn(
        sys.executable,
        ["-m", "qnemu.cli", "run", str(scenario), "--console", "--ray", *NO_METRICS],
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=120,
        dimensions=(40, 200),
        env={"PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "TERM": "dumb", "PATH": "/usr/bin:/bin"},
    )
    child.expect_exact(PROMPT)
    _ask_until(child, "nodes", r"n4\s+up", r"has not started")
    child.sendline("tenants")
    child.expect_exact("n0-n1-n2")
    child.expect_exact(PROMPT)
    child.sendline("link n1 n2 down")
    child.expect(r"link_down n1~n2 at ([0-9.]+) s")
    cut_at = float(child.match.group(1))
    child.expect_exact(PROMPT)
    _ask_until(child, "tenants", "n0-n4-n3-n2", "n0-n1-n2")
    child.sendline("link n1 n2 up")
    child.expect(r"link_down n1~n2 ended at")
    child.expect_exact(PROMPT)
    child.sendline("node n3 crash")
    child.expect(r"node_crash n3 at")
    child.expect_exact(PROMPT)
    _ask_until(child, "nodes", r"n3\s+crashed\s+\(process killed\)", r"n3\s+(up|crashed)")
    child.sendline("node n3 restart")
    child.expect_exact("ended at")
    child.expect_exact(PROMPT)
    _ask_until(child, "nodes", r"n3\s+up", r"n3\s+crashed")
    child.sendline("pause")
    child.expect(r"paused at ([0-9.]+) s")
    held = float(child.match.group(1))
    child.expect_exact(PROMPT)
    time.sleep(1.0)
    first = _stats_time(child)
    time.sleep(1.5)
    assert _stats_time(child) == first <= held + 1e-4  # stats shows 4 decimals
    child.sendline("resume")
    child.expect(r"resumed at ([0-9.]+) s")
    child.expect_exact(PROMPT)
    child.sendline("quit")
    child.expect(r"results: (\S+)")
    folder = tmp_path / child.match.group(1).strip()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed"
    events = [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]
    commands = [(e["t_s"], e["command"]) for e in events if e["event"] == "console"]
    assert [c for _, c in commands] == [
        "link n1 n2 down",
        "link n1 n2 up",
        "node n3 crash",
        "node n3 restart",
        "pause",
        "resume",
        "quit",
    ]
    assert commands[0][0] == pytest.approx(cut_at, abs=1e-6)  # printed to 6 decimals
    faults = [e for e in events if e["event"] == "fault"]
    assert [(f["kind"], f["target"], f["origin"]) for f in faults] == [
        ("link_down", "n1~n2", "console"),
        ("node_crash", "n3", "console"),
    ]
    assert faults[0]["t_s"] == pytest.approx(cut_at, abs=1e-6)  # printed to 6 decimals
    (killed,) = [e for e in events if e["event"] == "actor_killed"]
    (rejoined,) = [e for e in events if e["event"] == "actor_rejoined"]
    assert killed["node"] == "n3" and rejoined["pid"] != killed["pid"]
    assert commands[4][0] == pytest.approx(commands[5][0])  # no emulated time while held
    row = {r["target"]: r for r in summary["faults"]}["n1~n2"]
    assert row["detected_s"] is not None
    assert Path(summary["results"]).parts[0] == "runs"
