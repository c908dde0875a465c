"""The live console for real: ``qnemu run --console`` in a pseudo-terminal (pexpect),
typing commands and reading the screen; then ``qnemu run --replay`` of that run.

Nothing here times anything: each step waits for the prompt or for text the command
prints, with a generous timeout.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

pexpect = pytest.importorskip("pexpect")

SCENARIO = """
name: console-ring
seed: 2
duration_s: 30
topology: {generator: ring, n: 6, hop_km: 5, hardware: trapped_ion, memories: 8}
control: {architecture: distributed, heartbeat_s: 0.001, max_purification_rounds: 0}
tenants:
  - {name: t, app: dqs, src: n0, dst: n2, rate_hz: 100, f_min: 0.55, arrivals: backlog}
"""
PROMPT = "qnemu> "


def _qnemu(args: list[str], cwd: Path) -> pexpect.spawn:
    child = pexpect.spawn(
        sys.executable,
        ["-m", "qnemu.cli", *args],
        cwd=str(cwd),
        encoding="utf-8",
        timeout=90,
        dimensions=(40, 200),
        env={"PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "TERM": "dumb", "PATH": "/usr/bin:/bin"},
    )
    return child


def _events(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def test_the_console_cuts_a_link_crashes_a_node_and_the_run_replays(tmp_path):
    scenario = tmp_path / "ring.yaml"
    scenario.write_text(SCENARIO)
    child = _qnemu(
        [
            "run",
            str(scenario),
            "--console",
            "--dilation",
            "40",
            "--no-metrics",
            "--results",
            "runs",
        ],
        tmp_path,
    )
    child.expect_exact(PROMPT)
    child.sendline("nodes")
    child.expect(r"n5\s+up")
    child.expect_exact(PROMPT)
    child.sendline("tenants")
    child.expect_exact("n0-n1-n2")
    child.expect_exact(PROMPT)
    # tab completion of node names: "link n1 n" + Tab completes the only neighbor left
    child.send("link n1 n2 do\t")
    child.expect_exact("down")
    child.sendline("")
    child.expect(r"link_down n1~n2 at [0-9.]+ s")
    child.expect_exact(PROMPT)
    # the source re-routes once its heartbeats and the flooding told it (emulated ms;
    # at dilation 40 a few wall tenths of a second): ask until the detour shows
    for _ in range(60):
        child.sendline("tenants")
        index = child.expect(["n0-n5-n4-n3-n2", "n0-n1-n2"])
        child.expect_exact(PROMPT)
        if index == 0:
            break
    else:
        pytest.fail("the tenant never moved to the detour")
    child.sendline("link n1 n2 up")
    child.expect(r"link_down n1~n2 ended at")
    child.expect_exact(PROMPT)
    child.sendline("node n4 crash")
    child.expect(r"node_crash n4 at")
    child.expect_exact(PROMPT)
    child.sendline("nodes")
    child.expect(r"n4\s+crashed")
    child.expect_exact(PROMPT)
    child.sendline("node n4 restart")
    child.expect_exact("ended at")
    child.expect_exact(PROMPT)
    child.sendline("pairs n0")
    child.expect(r"n0\s+\d+/8")
    child.expect_exact(PROMPT)
    child.sendline("link n1 n3 down")
    child.expect_exact("no link between 'n1' and 'n3'")
    child.expect_exact(PROMPT)
    child.sendline("stats")
    child.expect(r"t: \d+ pairs")
    child.expect_exact(PROMPT)
    child.sendline("quit")
    child.expect_exact("results:")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before

    (folder,) = (tmp_path / "runs").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "completed"
    assert 0 < summary["emulated_s"] < 30
    events = _events(folder)
    commands = [(e["t_s"], e["command"]) for e in events if e["event"] == "console"]
    assert [c for _, c in commands] == [
        "link n1 n2 down",
        "link n1 n2 up",
        "node n4 crash",
        "node n4 restart",
        "quit",
    ]
    faults = [e for e in events if e["event"] == "fault"]
    assert [(f["kind"], f["target"], f["origin"]) for f in faults] == [
        ("link_down", "n1~n2", "console"),
        ("node_crash", "n4", "console"),
    ]
    assert faults[0]["t_s"] == pytest.approx(commands[0][0])

    # the same faults at the same emulated times, from the recorded run alone
    replay = _qnemu(
        ["run", "--replay", str(folder), "--virtual", "--no-metrics", "--results", "again"],
        tmp_path,
    )
    replay.expect(pexpect.EOF)
    replay.close()
    assert replay.exitstatus == 0, replay.before
    (second,) = (tmp_path / "again").iterdir()
    again = [e for e in _events(second) if e["event"] in ("fault", "fault_end")]
    first = [e for e in events if e["event"] in ("fault", "fault_end")]
    assert [(e["event"], e["kind"], e["target"]) for e in again] == [
        (e["event"], e["kind"], e["target"]) for e in first
    ]
    for a, b in zip(again, first, strict=True):
        assert a["t_s"] == pytest.approx(b["t_s"], abs=1e-9)
