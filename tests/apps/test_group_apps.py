"""Multi-node tenants run by the real node logic (virtual time) against closed forms:
GHZ states fused at a hub, GHZ phase sensing, and quantum federated learning rounds.

Memories without decoherence, perfect gates and measurements (as in
``test_apps_emulated.py``): every Bell pair is a Werner pair, so the fused GHZ fidelity
has the closed form ``analytic.ghz_fidelity_from_werner``; QFL round times are held
against the Gamma-maximum model within 4 standard errors of the measured rounds.
"""

import json
import math

import pytest
from prometheus_client import CollectorRegistry

from qnemu.emulation import Emulation
from qnemu.experiments.metrics import metric_columns, run_metrics
from qnemu.physics import analytic
from qnemu.scenario import load_scenario
from qnemu.telemetry.recorder import MetricsRecorder, RunInfo, TenantInfo

IDEAL = {
    "base": "er_telecom",
    "t1_s": 1.0e9,
    "t2_s": 1.0e9,
    "gate_error": 0.0,
    "measurement_error": 0.0,
}


def _run(tmp_path, tenant, nodes, links, duration_s):
    scenario = load_scenario(
        {
            "name": f"group-{tenant['app']}",
            "seed": 5,
            "duration_s": duration_s,
            "dilation": 1,
            "topology": {
                "nodes": [{"id": n, "hardware": "mem", "memories": m} for n, m in nodes.items()],
                "links": [{"a": a, "b": b, "length_km": km} for a, b, km in links],
            },
            "hardware": {"mem": IDEAL},
            "control": {
                "architecture": "distributed",
                "admission": "none",
                "max_purification_rounds": 0,
            },
            "tenants": [{"rate_hz": 50, "f_min": 0.5, "arrivals": "backlog", **tenant}],
        }
    )
    summary = Emulation(scenario, mode="virtual", results_dir=tmp_path).run()
    assert summary["status"] == "completed"
    with open(f"{summary['results']}/events.jsonl") as handle:
        events = [json.loads(line) for line in handle]
    pairs = [e for e in events if e["event"] == "delivered"]
    return summary, pairs, events


def _star(center, others, km=10, memories=4):
    nodes = {center: memories * len(others), **dict.fromkeys(others, memories)}
    return nodes, [(center, o, km) for o in others]


@pytest.fixture(scope="module")
def ghz_star(tmp_path_factory):
    tenant = {"name": "g", "app": "ghz", "parties": ["a", "b", "c"], "hub": "h"}
    return _run(tmp_path_factory.mktemp("ghz"), tenant, *_star("h", ["a", "b", "c"]), 0.5)


def test_ghz_fidelity_from_fused_werner_pairs_matches_the_closed_form(ghz_star):
    summary, pairs, _ = ghz_star
    block = summary["tenants"]["g"]["ghz"]
    fidelities = {round(p["fidelity"], 9) for p in pairs}
    assert len(fidelities) == 1  # every Bell pair is one Werner pair: no decoherence
    expected = analytic.ghz_fidelity_from_werner([fidelities.pop()] * 3)
    assert block["parties"] == 3 and block["states"] > 50
    # identical states: the SE is ~0, so the tolerance is the rounding of F above
    assert abs(block["fidelity_mean"] - expected) < max(4 * (block["fidelity_se"] or 0), 1e-8)
    assert summary["tenants"]["g"]["members"] == ["g/a", "g/b", "g/c"]


def test_parties_correct_only_after_the_hubs_bits_arrive(ghz_star):
    _, pairs, _ = ghz_star
    assert all(p["dst_used_s"] > p["src_used_s"] for p in pairs)  # hub first, bits later
    fusions = {}
    for p in pairs:
        fusions.setdefault(p["app"]["fusion"], []).append(p["src_used_s"])
    assert all(len(set(t)) == 1 and len(t) == 3 for t in fusions.values())  # one fusion


def test_ghz_fidelity_is_a_telemetry_series_and_a_compare_column(ghz_star):
    summary, _, events = ghz_star
    recorder = MetricsRecorder(CollectorRegistry())
    tenants = tuple(TenantInfo(f"g/{p}", "ghz", 0.5) for p in "abc")
    info = RunInfo(
        nodes=("h", "a", "b", "c"),
        memories=(12, 4, 4, 4),
        links=("h~a", "h~b", "h~c"),
        tenants=tenants,
        controller="distributed",
        run="r",
    )
    recorder.start(info)
    recorder.record({"events": events, "lateness_s": [], "message_latency_s": [], "host": 0})
    labels = {"run": "r", "tenant": "g", "app": "ghz"}
    count = recorder.registry.get_sample_value("qnemu_app_fidelity_count", labels)
    assert count == summary["tenants"]["g"]["ghz"]["states"]
    row = run_metrics(summary)
    assert row["tenant.g.ghz.fidelity_mean"] == summary["tenants"]["g"]["ghz"]["fidelity_mean"]
    assert "tenant.g.ghz.states" in metric_columns(["g/a", "g"])
    assert row["rate_hz"] == pytest.approx(summary["tenants"]["g"]["rate_hz"])  # no double count


def test_a_hub_that_is_a_party_keeps_a_local_qubit_across_a_repeater(tmp_path):
    # line a - b - c - d: the default hub is b (least fiber to the parties); d is two hops
    nodes = dict.fromkeys("abcd", 8)
    links = [("a", "b", 10), ("b", "c", 10), ("c", "d", 10)]
    tenant = {"name": "g", "app": "ghz", "parties": ["a", "b", "c", "d"]}
    summary, pairs, _ = _run(tmp_path, tenant, nodes, links, 0.5)
    assert {p["tenant"] for p in pairs} == {"g/a", "g/c", "g/d"}  # none for the hub b
    by_party = {p["tenant"]: round(p["fidelity"], 9) for p in pairs}
    expected = analytic.ghz_fidelity_from_werner(
        [by_party["g/a"], 1.0, by_party["g/c"], by_party["g/d"]]
    )
    block = summary["tenants"]["g"]["ghz"]
    assert block["parties"] == 4 and block["states"] > 20
    assert abs(block["fidelity_mean"] - expected) < max(4 * (block["fidelity_se"] or 0), 1e-8)


def test_ghz_sensing_estimates_the_phase_between_the_heisenberg_and_standard_limits(tmp_path):
    tenant = {"name": "s", "app": "sensing", "parties": ["a", "b", "c"], "hub": "h"}
    summary, _, _ = _run(tmp_path, tenant, *_star("h", ["a", "b", "c"]), 2.0)
    block = summary["tenants"]["s"]["sensing"]
    nu, variance = block["states"], block["model_variance_rad2"]
    assert nu > 200
    assert variance == pytest.approx(
        analytic.ghz_phase_variance(block["visibility_mean"], 3, nu), rel=1e-12
    )
    # the estimate is unbiased to within 4 of its standard deviations
    assert abs(block["phase_estimate_rad"] - block["phase_rad"]) < 4 * math.sqrt(variance)
    # the variance from the measured parities is the model's (parity variance ~ 1 here)
    assert block["estimator_variance_rad2"] == pytest.approx(variance, rel=0.1)
    assert block["heisenberg_limit_rad2"] < variance < block["standard_quantum_limit_rad2"]


def _qfl(tmp_path, aggregation, duration_s, **extra):
    clients = ["c1", "c2", "c3"]
    tenant = {
        "name": "fl",
        "app": "qfl",
        "server": "s",
        "clients": clients,
        "pairs_per_round": 5,
        "aggregation": aggregation,
        **extra,
    }
    summary, _, events = _run(tmp_path, tenant, *_star("s", clients, memories=2), duration_s)
    rates = [summary["tenants"][f"fl/{c}"]["rate_hz"] for c in clients]
    return summary["tenants"]["fl"]["qfl"], rates, events


def test_sync_round_time_is_the_expected_maximum_of_the_clients_gamma_times(tmp_path):
    block, rates, events = _qfl(tmp_path, "sync", 4.0)
    expected = analytic.sync_round_time_mean(rates, 5)
    assert block["rounds"] > 200
    assert abs(block["round_time_mean_s"] - expected) < 4 * block["round_time_se_s"]
    # the round waits for the slowest: longer than one client's mean m / lambda
    assert block["round_time_mean_s"] > 5 / min(rates)
    assert block["straggler_time_s"] > 0
    assert len(set(block["updates_by_client"].values())) == 1  # every client in every round
    rounds = [e for e in events if e["event"] == "qfl_round"]
    assert all(len(r["pairs"]) == 15 for r in rounds)
    assert block["round_fidelity_mean"] == pytest.approx(
        analytic.teleport_mean_fidelity(0.9033333333), abs=1e-6
    )


def test_async_round_time_is_m_over_the_total_rate(tmp_path):
    block, rates, _ = _qfl(tmp_path, "async", 2.0)
    expected = analytic.async_round_time_mean(rates, 5)
    assert block["rounds"] > 300 and block["updates_rejected"] == 0
    assert abs(block["round_time_mean_s"] - expected) < 4 * block["round_time_se_s"]
    assert block["straggler_time_s"] is None


def test_async_staleness_bound_rejects_stale_updates(tmp_path):
    block, _, events = _qfl(tmp_path, "async", 1.0, staleness=0)
    updates = [e for e in events if e["event"] == "qfl_update"]
    assert block["updates_rejected"] > 0
    assert all(u["staleness"] == 0 for u in updates if u["accepted"])
    assert block["updates_accepted"] + block["updates_rejected"] == len(updates)
