"""The node logic in virtual time: rates, fidelities and waiting times against closed forms.

Virtual time runs the exact same Node/Host code as a Ray run, in one process and without
the wall clock, so the statistics here can use many pairs and tight tolerances.
"""

import json
import math

import numpy as np
import pytest

from qnemu.emulation import Emulation
from qnemu.physics import analytic, apply_correction, decohere, fidelity, swap
from qnemu.planning.plan import NetworkPlan
from qnemu.scenario import load_scenario


def _scenario(nodes, links, tenants, duration_s, hardware, cutoff_s="auto", seed=11):
    return load_scenario(
        {
            "name": "virtual-test",
            "seed": seed,
            "duration_s": duration_s,
            "dilation": 1,
            "topology": {"nodes": nodes, "links": links},
            "hardware": hardware,
            # raw pairs only: these tests check the link and swap physics, not purification
            "control": {
                "architecture": "distributed",
                "cutoff_s": cutoff_s,
                "admission": "none",
                "max_purification_rounds": 0,
            },
            "tenants": tenants,
        }
    )


def _events(summary):
    with open(f"{summary['results']}/events.jsonl") as handle:
        return [json.loads(line) for line in handle]


DEPHASING_ONLY = {
    "mem": {
        "base": "er_telecom",
        "t1_s": 1.0e9,
        "t2_s": 0.05,
        "gate_error": 0.0,
        "measurement_error": 0.0,
        "swap_success": 1.0,
    }
}


def test_two_node_rate_matches_the_link_model(tmp_path):
    hardware = {"mem": {"base": "er_telecom", "t1_s": 1.0e9, "t2_s": 1.0e9}}
    scenario = _scenario(
        [{"id": n, "hardware": "mem", "memories": 1} for n in ("a", "b")],
        [{"a": "a", "b": "b", "length_km": 20.0}],
        [
            {
                "name": "t",
                "app": "qkd",
                "src": "a",
                "dst": "b",
                "rate_hz": 10,
                "f_min": 0.5,
                "arrivals": "backlog",
            }
        ],
        duration_s=2.0,
        hardware=hardware,
    )
    plan = NetworkPlan.build(scenario)
    link = plan.links["a~b"]
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    # one memory per end: a renewal process. The photon of the successful attempt reaches
    # the midpoint station, its herald comes back; both ends use the pair at once and free
    # their memories, which attempt again from then on (R = 1 / cycle)
    hold = 2 * link.model.herald_delay_s + plan.classical.processing_s
    rate = analytic.renewal_link_rate_hz(link.model.p_attempt, link.model.period_s, hold)
    cycle = 1.0 / rate
    var_wait = link.model.period_s**2 * (1 - link.model.p_attempt) / link.model.p_attempt**2
    expected = scenario.duration_s / cycle
    standard_error = math.sqrt(scenario.duration_s * var_wait / cycle**3)
    delivered = summary["tenants"]["t"]["pairs_delivered"]
    assert expected > 200, "the test needs enough pairs to mean something"
    assert abs(delivered - expected) < 4 * standard_error


def test_two_node_fidelity_follows_the_recorded_storage_times(tmp_path):
    scenario = _scenario(
        [{"id": n, "hardware": "mem", "memories": 2} for n in ("a", "b")],
        [{"a": "a", "b": "b", "length_km": 50.0}],
        [
            {
                "name": "t",
                "app": "qkd",
                "src": "a",
                "dst": "b",
                "rate_hz": 10,
                "f_min": 0.5,
                "arrivals": "backlog",
            }
        ],
        duration_s=2.0,
        hardware=DEPHASING_ONLY,
    )
    link = NetworkPlan.build(scenario).links["a~b"]
    profile = scenario.profiles["mem"]
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    pairs = [e for e in _events(summary) if e["event"] == "delivered"]
    assert len(pairs) > 20
    for pair in pairs:
        rho = link.model.initial_state()
        rho = decohere(rho, 0, pair["src_waited_s"], profile.t1_s, profile.t2_s)
        rho = decohere(rho, 1, pair["dst_waited_s"], profile.t1_s, profile.t2_s)
        assert pair["fidelity"] == pytest.approx(fidelity(rho), abs=1e-9)
        assert pair["src_waited_s"] >= link.model.herald_delay_s


def test_three_node_chain_fidelity_matches_swap_of_the_two_recorded_links(tmp_path):
    nodes = [{"id": n, "hardware": "mem", "memories": 2} for n in ("a", "r", "b")]
    scenario = _scenario(
        nodes,
        [{"a": "a", "b": "r", "length_km": 10.0}, {"a": "r", "b": "b", "length_km": 30.0}],
        [
            {
                "name": "t",
                "app": "qkd",
                "src": "a",
                "dst": "b",
                "rate_hz": 10,
                "f_min": 0.5,
                "arrivals": "backlog",
            }
        ],
        duration_s=1.0,
        hardware=DEPHASING_ONLY,
    )
    plan = NetworkPlan.build(scenario)
    profile = scenario.profiles["mem"]
    events = _events(Emulation(scenario, results_dir=tmp_path, mode="virtual").run())
    created = {e["pair"]: e["created_s"] for e in events if e["event"] == "pair_generated"}
    swapped = {(e["left_pair"], e["right_pair"]): e["t_s"] for e in events if e["event"] == "swap"}
    pairs = [e for e in events if e["event"] == "delivered"]
    assert len(pairs) > 20
    rng = np.random.default_rng(0)
    for pair in pairs:
        left, right = pair["link_pairs"]
        t_swap = swapped[(left, right)]
        states = []
        for link_pair, name in ((left, "a~r"), (right, "r~b")):
            rho = plan.links[name].model.initial_state()
            for qubit in (0, 1):
                rho = decohere(rho, qubit, t_swap - created[link_pair], profile.t1_s, profile.t2_s)
            states.append(rho)
        # link r~b is stored as (r, b): the repeater's qubit is already first for the swap
        outcome, rho = swap(states[0], states[1], rng)
        rho = apply_correction(rho, outcome)
        rho = decohere(rho, 0, pair["src_used_s"] - t_swap, profile.t1_s, profile.t2_s)
        rho = decohere(rho, 1, pair["dst_used_s"] - t_swap, profile.t1_s, profile.t2_s)
        assert pair["fidelity"] == pytest.approx(fidelity(rho), abs=1e-9)


def test_two_segment_waiting_time_matches_the_closed_form(tmp_path):
    hardware = {"mem": {"base": "er_telecom", "t1_s": 1.0e9, "t2_s": 1.0e9, "swap_success": 1.0}}
    nodes = [{"id": n, "hardware": "mem", "memories": 2} for n in ("a", "r", "b")]
    scenario = _scenario(
        nodes,
        [{"a": "a", "b": "r", "length_km": 25.0}, {"a": "r", "b": "b", "length_km": 25.0}],
        [
            {
                "name": "t",
                "app": "qkd",
                "src": "a",
                "dst": "b",
                "rate_hz": 10,
                "f_min": 0.5,
                "arrivals": "backlog",
            }
        ],
        duration_s=5.0,
        hardware=hardware,
        cutoff_s=None,
    )
    plan = NetworkPlan.build(scenario)
    p = plan.links["a~r"].model.p_attempt
    events = _events(Emulation(scenario, results_dir=tmp_path, mode="virtual").run())
    attempts = {e["pair"]: e["attempts"] for e in events if e["event"] == "pair_generated"}
    waits = [
        max(attempts[e["left_pair"]], attempts[e["right_pair"]])
        for e in events
        if e["event"] == "swap"
    ]
    assert len(waits) > 300
    expected = analytic.two_segment_mean_wait_attempts(p)
    standard_error = np.std(waits, ddof=1) / math.sqrt(len(waits))
    assert abs(np.mean(waits) - expected) < 4 * standard_error


def test_cutoff_bounds_every_storage_time_and_discards_are_counted(tmp_path):
    hardware = {"mem": {"base": "er_telecom", "t1_s": 1.0e9, "t2_s": 1.0e9}}
    nodes = [{"id": n, "hardware": "mem", "memories": 2} for n in ("a", "r", "b")]
    cutoff = 2.0e-4
    scenario = _scenario(
        nodes,
        [{"a": "a", "b": "r", "length_km": 10.0}, {"a": "r", "b": "b", "length_km": 10.0}],
        [
            {
                "name": "t",
                "app": "qkd",
                "src": "a",
                "dst": "b",
                "rate_hz": 10,
                "f_min": 0.5,
                "arrivals": "backlog",
            }
        ],
        duration_s=0.3,
        hardware=hardware,
        cutoff_s=cutoff,
    )
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    events = _events(summary)
    created = {e["pair"]: e["created_s"] for e in events if e["event"] == "pair_generated"}
    for swap_event in (e for e in events if e["event"] == "swap"):
        for pair in (swap_event["left_pair"], swap_event["right_pair"]):
            assert swap_event["t_s"] - created[pair] <= cutoff + 1e-12
    delivered = [e for e in events if e["event"] == "delivered"]
    assert delivered, "some pairs must still make it"
    for pair in delivered:
        assert pair["src_waited_s"] <= cutoff + 1e-12
        assert pair["dst_waited_s"] <= cutoff + 1e-12
    discards = [e for e in events if e["event"] == "discard"]
    assert summary["violations"]["cutoff_expired"] > 0
    assert summary["counts"]["discard"] == len(discards) > 0
