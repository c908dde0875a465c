"""Faults and recovery in virtual time, on rings and chains: every built-in control plane
detects a link failure from missing heartbeats and re-routes around it, a tenant with no
path left is withdrawn and served again, a crashed node loses its state and rejoins, a
stopped controller decides nothing meanwhile.

Virtual time runs the same Node/Host code a Ray run does; the assertions are on orderings
and counts (no wall-clock timing), with margins from the rates involved.
"""

from __future__ import annotations

import json

import pytest

from qnemu.emulation import Emulation
from qnemu.scenario import load_scenario

HOP_KM = 5
HEARTBEAT_S = 1e-3
MISSES = 3


def _ring(architecture: str, faults: list[dict], **control) -> dict:
    return {
        "name": f"ring-{architecture}",
        "seed": 5,
        "duration_s": 0.3,
        "topology": {
            "generator": "ring",
            "n": 6,
            "hop_km": HOP_KM,
            "hardware": "trapped_ion",
            "memories": 8,
        },
        "control": {
            "architecture": architecture,
            "heartbeat_s": HEARTBEAT_S,
            "heartbeat_misses": MISSES,
            "max_purification_rounds": 0,
            **control,
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


def _run(tmp_path, raw: dict) -> tuple[dict, list[dict]]:
    emulation = Emulation(load_scenario(raw), mode="virtual", results_dir=tmp_path)
    summary = emulation.run()
    assert emulation.folder is not None
    path = emulation.folder.path / "events.jsonl"
    events = [json.loads(line) for line in path.read_text().splitlines()]
    return summary, events


def _of(events: list[dict], kind: str) -> list[dict]:
    return [e for e in events if e["event"] == kind]


DOWN_AT, DOWN_FOR = 0.1, 0.1


@pytest.mark.parametrize(
    ("architecture", "control"),
    [
        ("distributed", {}),
        ("centralized", {"location": "n3"}),
        (
            "hierarchical",
            {"location": "n3", "domains": {"w": ["n0", "n1", "n5"], "e": ["n2", "n3", "n4"]}},
        ),
    ],
)
def test_every_control_plane_reroutes_around_a_link_down_on_a_ring(tmp_path, architecture, control):
    summary, events = _run(
        tmp_path,
        _ring(
            architecture,
            [{"at_s": DOWN_AT, "link": ["n1", "n2"], "down_for_s": DOWN_FOR}],
            **control,
        ),
    )
    assert summary["status"] == "completed"
    # detected by both ends from their own heartbeats, after MISSES silent intervals
    down = [e for e in _of(events, "detected") if not e["up"]]
    assert {e["node"] for e in down} == {"n1", "n2"}
    for e in down:
        assert e["link"] == "n1~n2"
        assert DOWN_AT + MISSES * HEARTBEAT_S <= e["t_s"] <= DOWN_AT + (MISSES + 2) * HEARTBEAT_S
    # re-routed on the remaining graph (the other side of the ring), then back once up
    reroutes = _of(events, "reroute")
    assert [r["path"] for r in reroutes] == [
        ["n0", "n5", "n4", "n3", "n2"],
        ["n0", "n1", "n2"],
    ]
    first_detection = min(e["t_s"] for e in down)
    assert first_detection < reroutes[0]["t_s"] < DOWN_AT + DOWN_FOR
    assert reroutes[1]["t_s"] > DOWN_AT + DOWN_FOR
    where = {"distributed": "n0", "centralized": "n3", "hierarchical": "n3"}[architecture]
    assert {r["node"] for r in reroutes} == {where}
    # the tenant is served over the detour while the link is down
    delivered = _of(events, "delivered")
    detour = [
        d
        for d in delivered
        if reroutes[0]["t_s"] < d["t_s"] - d["latency_s"] and d["t_s"] < DOWN_AT + DOWN_FOR
    ]
    assert detour, "nothing delivered over the detour"
    (row,) = summary["faults"]
    assert row["kind"] == "link_down" and row["target"] == "n1~n2"
    assert row["tenants"] == ["t"]
    assert row["detected_s"] == pytest.approx(first_detection - DOWN_AT)
    assert row["recovered_s"] is not None and row["recovered_s"] > row["detected_s"]
    assert row["until_s"] == pytest.approx(DOWN_AT + DOWN_FOR)


def test_a_tenant_with_no_path_left_is_withdrawn_and_served_again(tmp_path):
    raw = _ring("distributed", [{"at_s": 0.1, "link": ["n1", "n2"], "down_for_s": 0.1}])
    raw["topology"] = {
        "generator": "chain",
        "n": 3,
        "hop_km": HOP_KM,
        "hardware": "trapped_ion",
        "memories": 8,
    }
    summary, events = _run(tmp_path, raw)
    reroutes = _of(events, "reroute")
    assert [r["path"] for r in reroutes] == [None, ["n0", "n1", "n2"]]
    withdrawn, back = reroutes[0]["t_s"], reroutes[1]["t_s"]
    delivered = [d["t_s"] for d in _of(events, "delivered")]
    # nothing made after the withdrawal arrives before the path is back
    made_between = [
        d for d in _of(events, "delivered") if withdrawn < d["t_s"] - d["latency_s"] < 0.2
    ]
    assert made_between == []
    assert any(t > back for t in delivered), "never served again"
    (row,) = summary["faults"]
    assert row["recovered_s"] is not None and row["recovered_s"] > 0.1


def test_a_crashed_node_loses_its_state_and_the_path_avoids_it_until_it_is_back(tmp_path):
    summary, events = _run(
        tmp_path, _ring("distributed", [{"at_s": 0.1, "node": "n1", "crash_for_s": 0.08}])
    )
    assert summary["status"] == "completed"
    down = [e for e in _of(events, "detected") if not e["up"]]
    assert {e["node"] for e in down} == {"n0", "n2"}  # its neighbors noticed
    reroutes = _of(events, "reroute")
    assert reroutes[0]["path"] == ["n0", "n5", "n4", "n3", "n2"]
    assert reroutes[-1]["path"] == ["n0", "n1", "n2"] and reroutes[-1]["t_s"] > 0.18
    # n1 did nothing while down, and is on the path again after its restart
    n1 = [e for e in events if e.get("node") == "n1" and 0.1 < e["t_s"] < 0.18]
    assert all(e["event"] == "discard" and e["reason"] == "crash" for e in n1)
    setups = [e for e in _of(events, "path_setup") if e["node"] == "n1" and e["t_s"] > 0.18]
    assert setups and setups[-1]["path"] == ["n0", "n1", "n2"]
    swaps_after = [e for e in _of(events, "swap") if e["node"] == "n1" and e["t_s"] > 0.18]
    assert swaps_after, "the restarted node never worked again"
    (row,) = summary["faults"]
    assert row["kind"] == "node_crash" and row["detected_s"] is not None


def test_a_stopped_central_controller_decides_nothing_meanwhile(tmp_path):
    summary, events = _run(
        tmp_path,
        _ring(
            "centralized",
            [{"at_s": 0.1, "controller": "central", "down_for_s": 0.1}],
            location="n3",
        ),
    )
    decisions = [e["t_s"] for e in _of(events, "decision")]
    # instructions already in flight may land just after it stops; none is decided after
    assert not [t for t in decisions if 0.1 + 0.001 < t < 0.2]
    assert [t for t in decisions if t > 0.2], "the controller never decided again"
    assert [t for t in decisions if t < 0.1]
    (row,) = summary["faults"]
    assert row["kind"] == "controller_down" and row["target"] == "central"


def test_the_distributed_plane_keeps_working_when_a_controller_fault_names_central(tmp_path):
    _summary, events = _run(
        tmp_path, _ring("distributed", [{"at_s": 0.1, "controller": "central", "down_for_s": 0.1}])
    )
    decisions = [e["t_s"] for e in _of(events, "decision")]
    assert [t for t in decisions if 0.1 < t < 0.2]


def test_classical_loss_on_a_link_loses_messages_routed_over_it(tmp_path):
    summary, events = _run(
        tmp_path,
        _ring(
            "centralized",
            [{"at_s": 0.05, "link": ["n0", "n1"], "classical_loss": 0.5, "for_s": 0.1}],
            location="n3",
        ),
    )
    lost = [e["t_s"] for e in _of(events, "message_lost")]
    assert lost and all(0.05 <= t <= 0.15 for t in lost)
    assert summary["faults"][0]["kind"] == "classical_loss"


def test_degraded_memories_lower_the_fidelity_of_what_is_delivered(tmp_path):
    _summary, events = _run(
        tmp_path,
        _ring("distributed", [{"at_s": 0.1, "node": "n1", "t2_s": 2e-4, "for_s": 0.1}]),
    )
    delivered = _of(events, "delivered")

    def mean(ds):
        return sum(d["fidelity"] for d in ds) / len(ds)

    before = [d for d in delivered if d["t_s"] - d["latency_s"] < 0.1]
    during = [d for d in delivered if d["t_s"] - d["latency_s"] > 0.1 and d["t_s"] < 0.2]
    assert len(before) >= 5 and len(during) >= 5
    # the T2 of 0.2 ms against the pairs' ~0.1 ms storage: a drop well beyond sampling spread
    assert mean(during) < mean(before) - 0.02


def test_a_scenario_without_faults_runs_as_before(tmp_path):
    raw = _ring("distributed", [])
    del raw["faults"]
    summary, events = _run(tmp_path, raw)
    assert summary["faults"] == []
    assert not _of(events, "detected")


@pytest.mark.parametrize(
    ("architecture", "control"),
    [
        ("distributed", {}),
        ("centralized", {"location": "n3"}),
        (
            "hierarchical",
            {"location": "n3", "domains": {"w": ["n0", "n1", "n5"], "e": ["n2", "n3", "n4"]}},
        ),
    ],
)
def test_a_restarted_node_takes_back_what_it_said_before_its_crash(tmp_path, architecture, control):
    """n1 floods "n1~n2 down", crashes, and the fiber is mended while it is away: once it
    restarts, its own stale entry must not keep the link avoided (it re-originates it)."""
    summary, events = _run(
        tmp_path,
        {
            **_ring(
                architecture,
                [
                    {"at_s": 0.05, "link": ["n1", "n2"], "down_for_s": 0.1},
                    {"at_s": 0.08, "node": "n1", "crash_for_s": 0.1},
                ],
                **control,
            ),
            "duration_s": 0.4,
        },
    )
    assert summary["status"] == "completed"
    reroutes = _of(events, "reroute")
    assert reroutes[0]["path"] == ["n0", "n5", "n4", "n3", "n2"]
    assert reroutes[-1]["path"] == ["n0", "n1", "n2"] and reroutes[-1]["t_s"] > 0.18
    late = [d for d in _of(events, "delivered") if d["t_s"] - d["latency_s"] > 0.2]
    assert late and all(any(lp.startswith("n1~n2#") for lp in d["link_pairs"]) for d in late)


def test_requests_wait_while_a_tenant_has_no_path_and_are_served_when_it_returns(tmp_path):
    """Poisson requests keep arriving while the chain's only link n1-n2 is cut: they
    queue at the source and are served, oldest first, once the path is back."""
    raw = _ring("distributed", [{"at_s": 0.1, "link": ["n1", "n2"], "down_for_s": 0.1}])
    raw["topology"] = {"generator": "chain", "n": 3, "hop_km": HOP_KM}
    raw["topology"] |= {"hardware": "trapped_ion", "memories": 8}
    raw["tenants"][0] |= {"arrivals": "poisson", "rate_hz": 50}
    summary, events = _run(tmp_path, raw)
    withdrawn, back = (r["t_s"] for r in _of(events, "reroute"))
    asked = [r["t_s"] for r in _of(events, "request") if withdrawn < r["t_s"] < back]
    assert len(asked) >= 2  # about 50 Hz x 0.1 s of them
    served = _of(events, "served")
    asked_at = [s["t_s"] - s["waited_s"] for s in served]
    assert all(any(abs(a - t) < 1e-9 for a in asked_at) for t in asked), "a request was dropped"
    assert any(s["t_s"] > back and s["t_s"] - s["waited_s"] < back for s in served)
    assert summary["status"] == "completed"
