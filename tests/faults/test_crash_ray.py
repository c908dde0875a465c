"""A node crash in a Ray run with one node per actor kills the actor's process for real;
a new process rejoins at the crash's end, the run completes, and an unplanned death in
the same kind of run still fails it (tests/runtime/test_reliability.py has the rest).

Real Ray actors, real processes, real sockets. On a 5-node ring the tenant n0 -> n2 runs
over n1; n1 crashes, the tenant is re-routed the long way round (n0-n4-n3-n2) on the
heartbeats' evidence, and back once n1's new process is up.
"""

from __future__ import annotations

import json
import os
import signal

import pytest

from qnemu.emulation import Emulation
from qnemu.runtime.failure import RunFailed
from qnemu.scenario import load_scenario

CRASH_AT, CRASH_FOR = 0.08, 0.12
DILATION = 150  # wall s per emulated s: a 1 ms heartbeat is 150 ms of wall time


def _ring(faults: list[dict], duration_s: float = 0.3) -> dict:
    return {
        "name": "crash-ring",
        "seed": 7,
        "duration_s": duration_s,
        "dilation": DILATION,
        "topology": {
            "generator": "ring",
            "n": 5,
            "hop_km": 5,
            "hardware": "trapped_ion",
            "memories": 4,
        },
        "runtime": {"nodes_per_actor": 1},
        "control": {
            "architecture": "distributed",
            "heartbeat_s": 1e-3,
            "heartbeat_misses": 3,
            "max_purification_rounds": 0,
        },
        "tenants": [
            {
                "name": "t",
                "app": "dqs",
                "src": "n0",
                "dst": "n2",
                "rate_hz": 100,
                "f_min": 0.55,
                "arrivals": "backlog",
            }
        ],
        "faults": faults,
    }


def _events(emulation: Emulation) -> list[dict]:
    assert emulation.folder is not None
    path = emulation.folder.path / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.ray
def test_a_node_crash_kills_its_process_and_a_new_one_rejoins(ray_local, tmp_path):
    scenario = load_scenario(_ring([{"at_s": CRASH_AT, "node": "n1", "crash_for_s": CRASH_FOR}]))
    emulation = Emulation(scenario, results_dir=tmp_path)
    first: dict[str, int] = {}

    def watch(progress):
        if not first and emulation.actor_pids:
            first.update({f"n{i}": pid for i, pid in enumerate(emulation.actor_pids)})

    emulation.on_progress = watch
    summary = emulation.run()
    events = _events(emulation)
    assert summary["status"] == "completed", summary["reason"]
    # the process of n1 (host 1) was killed and a different one took its place
    (killed,) = [e for e in events if e["event"] == "actor_killed"]
    (rejoined,) = [e for e in events if e["event"] == "actor_rejoined"]
    assert killed["node"] == rejoined["node"] == "n1"
    assert killed["pid"] == first["n1"] == rejoined["previous_pid"]
    assert rejoined["pid"] != killed["pid"] and emulation.actor_pids[1] == rejoined["pid"]
    with pytest.raises(ProcessLookupError):
        os.kill(killed["pid"], 0)
    assert CRASH_AT <= killed["t_s"] < CRASH_AT + CRASH_FOR
    assert killed["t_s"] < rejoined["t_s"] <= CRASH_AT + CRASH_FOR
    assert summary["emulator"]["process_crashes"] == 1
    assert summary["emulator"]["process_rejoins"] == 1
    # detected by heartbeats, re-routed around n1 and back, served after recovery
    (row,) = summary["faults"]
    assert row["kind"] == "node_crash" and row["target"] == "n1"
    assert row["detected_s"] is not None and row["recovered_s"] is not None
    paths = [r["path"] for r in events if r["event"] == "reroute"]
    assert ["n0", "n4", "n3", "n2"] in paths and paths[-1] == ["n0", "n1", "n2"]
    back = max(r["t_s"] for r in events if r["event"] == "reroute")
    after = [
        d
        for d in events
        if d["event"] == "delivered"
        and d["t_s"] - d["latency_s"] > back
        and any("n1" in lp.split("#")[0].split("~") for lp in d["link_pairs"])
    ]
    assert after, "nothing delivered over the rejoined node"
    print(
        f"kill->rejoined wall {summary['emulator']['rejoin_wall_s']} s, spawn->armed "
        f"{summary['emulator']['rejoin_spawn_wall_s']} s; "
        f"detected {row['detected_s']:.4f} s, recovered {row['recovered_s']:.4f} s; "
        f"frames lost to the dead host {summary['emulator']['frames_lost']}"
    )


@pytest.mark.ray
def test_an_unplanned_death_in_a_run_with_planned_crashes_still_fails_it(ray_local, tmp_path):
    hit = {}

    def strike(progress):
        if not hit and progress.emulated_s > 0.03:
            hit["pid"] = emulation.actor_pids[3]
            os.kill(hit["pid"], signal.SIGKILL)

    raw = _ring([{"at_s": 0.2, "node": "n1", "crash_for_s": 0.05}], duration_s=0.3)
    emulation = Emulation(load_scenario(raw), results_dir=tmp_path, on_progress=strike)
    with pytest.raises(RunFailed) as failed:
        emulation.run()
    assert "node n3" in str(failed.value)
    assert emulation.summary is not None and emulation.summary["status"] == "failed"
