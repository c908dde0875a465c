"""Real Ray actors, real sockets, real time: causality, results folder, link rate."""

import json
import math
from pathlib import Path

import pytest

from qnemu.emulation import Emulation
from qnemu.physics import analytic
from qnemu.planning.plan import NetworkPlan
from qnemu.scenario import load_scenario

pytestmark = pytest.mark.ray

RAW = {"max_purification_rounds": 0}  # these tests check raw link and swap behavior

STABLE = {
    "mem": {
        "base": "er_telecom",
        "t1_s": 1.0e9,
        "t2_s": 1.0e9,
        "modes": 10,
        "source_efficiency": 0.5,
        "coupling_efficiency": 0.5,
        "memory_efficiency": 0.5,
        "detector_efficiency": 0.5,
    }
}
# an efficient telecom memory: links at tens of kHz, so a short run has plenty of pairs
EFFICIENT = {
    "mem": {
        "base": "er_telecom",
        "t1_s": 1.0,
        "t2_s": 0.1,
        "source_efficiency": 0.9,
        "coupling_efficiency": 0.9,
        "memory_efficiency": 0.9,
        "detector_efficiency": 0.9,
    }
}


def _events(folder):
    with open(Path(folder) / "events.jsonl") as handle:
        return [json.loads(line) for line in handle]


@pytest.fixture(scope="module")
def asymmetric_run(ray_local, tmp_path_factory):
    """A 4-node chain whose end hops differ twenty-fold, each node in its own actor."""
    scenario = load_scenario(
        {
            "name": "asymmetric",
            "seed": 5,
            "duration_s": 0.05,
            "dilation": 50,
            "topology": {
                "nodes": [
                    {"id": n, "hardware": "mem", "memories": 4} for n in ("a", "r1", "r2", "b")
                ],
                "links": [
                    {"a": "a", "b": "r1", "length_km": 2.0},
                    {"a": "r1", "b": "r2", "length_km": 10.0},
                    {"a": "r2", "b": "b", "length_km": 40.0},
                ],
            },
            "hardware": EFFICIENT,
            "control": RAW,
            "tenants": [
                {
                    "name": "t",
                    "app": "dqc",
                    "src": "a",
                    "dst": "b",
                    "rate_hz": 10,
                    "arrivals": "backlog",
                    "f_min": 0.5,
                }
            ],
        }
    )
    summary = Emulation(scenario, results_dir=tmp_path_factory.mktemp("runs")).run()
    return scenario, summary, _events(summary["results"])


def test_run_delivers_pairs_across_actors(asymmetric_run):
    _, summary, _ = asymmetric_run
    assert summary["tenants"]["t"]["pairs_delivered"] > 20
    assert summary["emulator"]["actors"] == 4
    assert summary["emulator"]["handovers"] > 0  # ground truth moved between actors
    assert 0.5 < summary["tenants"]["t"]["fidelity_mean"] <= 1.0


def test_the_summary_says_where_the_actors_cpu_went(asymmetric_run):
    _, summary, _ = asymmetric_run
    emulator = summary["emulator"]
    split = emulator["actor_cpu_us_per_message"]
    # four actors exchanged messages and hand-overs: each part of the loop did real work
    assert split["events"] > 0 and split["frames"] > 0 and split["loop"] > 0
    assert split["total"] == pytest.approx(
        split["events"] + split["frames"] + split["loop"], abs=0.2
    )
    assert emulator["actor_cpu_s"] == pytest.approx(
        split["total"] * emulator["messages"] / 1e6, rel=0.01, abs=0.002
    )
    assert emulator["wakes_per_message"] > 0


def test_results_folder_has_the_documented_form(asymmetric_run):
    _, summary, _ = asymmetric_run
    folder = Path(summary["results"])
    assert {p.name for p in folder.iterdir()} == {
        "scenario.yaml",
        "events.jsonl",
        "pairs.jsonl",
        "summary.json",
    }
    on_disk = json.loads((folder / "summary.json").read_text())
    assert set(on_disk) >= {
        "scenario",
        "controller",
        "duration_s",
        "tenants",
        "violations",
        "emulator",
    }
    assert set(on_disk["tenants"]["t"]) >= {
        "pairs_delivered",
        "rate_hz",
        "fidelity_mean",
        "fidelity_min",
        "latency_mean_s",
        "utility",
    }
    assert set(on_disk["emulator"]) >= {
        "dilation",
        "lateness_p50_s",
        "lateness_p99_s",
        "overloaded",
    }
    pairs = [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]
    assert len(pairs) == on_disk["tenants"]["t"]["pairs_delivered"]
    assert set(pairs[0]) >= {"tenant", "src", "dst", "t_delivered_s", "fidelity", "latency_s"}


def test_no_pair_is_used_before_its_herald_arrived(asymmetric_run):
    _, _, events = asymmetric_run
    known = {(e["node"], e["pair"]): e["t_s"] for e in events if e["event"] == "herald"}
    swaps = [e for e in events if e["event"] == "swap"]
    assert swaps
    for swap_event in swaps:
        for pair in (swap_event["left_pair"], swap_event["right_pair"]):
            assert known[(swap_event["node"], pair)] <= swap_event["t_s"]


def test_no_end_node_uses_a_pair_before_every_correction_arrived(asymmetric_run):
    _, _, events = asymmetric_run
    arrived = {
        (e["node"], e["repeater"], e["left_pair"], e["right_pair"]): e["t_s"]
        for e in events
        if e["event"] == "outcome_received"
    }
    heralded = {(e["node"], e["pair"]): e["t_s"] for e in events if e["event"] == "herald"}
    uses = [e for e in events if e["event"] == "use"]
    assert uses
    for use in uses:
        assert heralded[(use["node"], use["pair"])] <= use["t_s"]
        assert len(use["chain"]) == 2  # both repeaters' outcomes, none missing
        for repeater, left, right in use["chain"]:
            assert arrived[(use["node"], repeater, left, right)] <= use["t_s"]


def test_delivery_respects_the_slower_end(asymmetric_run):
    _, _, events = asymmetric_run
    for pair in (e for e in events if e["event"] == "delivered"):
        assert pair["t_delivered_s"] == max(pair["src_used_s"], pair["dst_used_s"])
        # b is 40 km from its repeater, a 2 km: the outcome from r1 reaches b last
        assert pair["dst_used_s"] >= pair["src_used_s"]


def test_two_node_rate_on_real_actors_matches_the_link_model(ray_local, tmp_path):
    scenario = load_scenario(
        {
            "name": "two-node-rate",
            "seed": 3,
            "duration_s": 0.1,
            "dilation": 100,
            "topology": {
                "nodes": [
                    {"id": "a", "hardware": "mem", "memories": 1},
                    {"id": "b", "hardware": "mem", "memories": 1},
                ],
                "links": [{"a": "a", "b": "b", "length_km": 20.0}],
            },
            "hardware": STABLE,
            "control": RAW,
            "tenants": [
                {
                    "name": "t",
                    "app": "qkd",
                    "src": "a",
                    "dst": "b",
                    "rate_hz": 10,
                    "arrivals": "backlog",
                    "f_min": 0.5,
                }
            ],
        }
    )
    plan = NetworkPlan.build(scenario)
    link = plan.links["a~b"].model
    summary = Emulation(scenario, results_dir=tmp_path).run()
    # renewal: the pair is used at its herald, both memories attempt again from then on
    hold = 2 * link.herald_delay_s + plan.classical.processing_s
    p, period = link.p_attempt, link.period_s
    cycle = 1.0 / analytic.renewal_link_rate_hz(p, period, hold)
    expected = scenario.duration_s / cycle
    standard_error = math.sqrt(scenario.duration_s * period**2 * (1 - p) / p**2 / cycle**3)
    delivered = summary["tenants"]["t"]["pairs_delivered"]
    assert expected > 100
    assert abs(delivered - expected) < 4 * standard_error + 0.02 * expected  # 2%: lateness


def test_packing_several_nodes_per_actor_keeps_messages_timed(ray_local, tmp_path):
    scenario = load_scenario(
        {
            "name": "packed",
            "seed": 2,
            "duration_s": 0.03,
            "dilation": 50,
            "topology": {
                "generator": "chain",
                "n": 6,
                "hop_km": 5,
                "hardware": "mem",
                "memories": 4,
            },
            "hardware": EFFICIENT,
            "runtime": {"nodes_per_actor": 2},
            "control": RAW,
            "tenants": [
                {
                    "name": "t",
                    "app": "dqc",
                    "src": "n0",
                    "dst": "n5",
                    "rate_hz": 10,
                    "arrivals": "backlog",
                    "f_min": 0.5,
                }
            ],
        }
    )
    summary = Emulation(scenario, results_dir=tmp_path).run()
    assert summary["emulator"]["actors"] == 3
    assert summary["emulator"]["nodes_per_actor"] == 2
    assert summary["tenants"]["t"]["pairs_delivered"] > 0
    events = _events(summary["results"])
    known = {(e["node"], e["pair"]): e["t_s"] for e in events if e["event"] == "herald"}
    for swap_event in (e for e in events if e["event"] == "swap"):
        for pair in (swap_event["left_pair"], swap_event["right_pair"]):
            assert known[(swap_event["node"], pair)] <= swap_event["t_s"]
