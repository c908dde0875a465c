"""The applications run by the real node logic (virtual time) against closed forms.

Memories without decoherence, perfect gates and measurements: every delivered pair is a
Werner pair of one fidelity F (the product of the links' Werner parameters), so QBER,
teleportation and remote-CNOT fidelities have closed forms in F; sampled figures are
held within 4 standard errors.
"""

import itertools
import json
import math

import pytest

from qnemu.emulation import Emulation
from qnemu.physics import analytic
from qnemu.scenario import load_scenario

IDEAL = {
    "base": "er_telecom",
    "t1_s": 1.0e9,
    "t2_s": 1.0e9,
    "gate_error": 0.0,
    "measurement_error": 0.0,
}


def _run(tmp_path, app, nodes=2, duration_s=2.0, hardware=IDEAL, **tenant):
    ids = [f"n{i}" for i in range(nodes)]
    scenario = load_scenario(
        {
            "name": f"app-{app}",
            "seed": 5,
            "duration_s": duration_s,
            "dilation": 1,
            "topology": {
                "nodes": [{"id": n, "hardware": "mem", "memories": 4} for n in ids],
                "links": [{"a": a, "b": b, "length_km": 10} for a, b in itertools.pairwise(ids)],
            },
            "hardware": {"mem": hardware},
            "control": {
                "architecture": "distributed",
                "admission": "none",
                "max_purification_rounds": 0,
            },
            "tenants": [
                {
                    "name": "t",
                    "app": app,
                    "src": ids[0],
                    "dst": ids[-1],
                    "rate_hz": 50,
                    "f_min": 0.5,
                    "arrivals": "backlog",
                    **tenant,
                }
            ],
        }
    )
    summary = Emulation(scenario, mode="virtual", results_dir=tmp_path).run()
    assert summary["status"] == "completed"
    with open(f"{summary['results']}/pairs.jsonl") as handle:
        pairs = [json.loads(line) for line in handle]
    with open(f"{summary['results']}/events.jsonl") as handle:
        events = [json.loads(line) for line in handle]
    return summary["tenants"]["t"], pairs, events


def _werner_f(pairs):
    fs = {round(p["fidelity"], 9) for p in pairs}
    assert len(fs) == 1  # one Werner fidelity: no decoherence
    return fs.pop()


@pytest.mark.parametrize("nodes", [2, 3])
def test_qkd_qber_and_key_rate_against_werner_closed_forms(tmp_path, nodes):
    tenant, pairs, _ = _run(tmp_path, "qkd", nodes=nodes)
    f, qkd = _werner_f(pairs), tenant["qkd"]
    expected = analytic.qber_from_werner_fidelity(f)
    assert qkd["pairs_measured"] == len(pairs) > 300
    for basis in ("z", "x"):
        n = sum(p["app"]["sifted"] and p["app"]["basis_src"] == basis.upper() for p in pairs)
        assert abs(qkd[f"qber_{basis}"] - expected) < 4 * math.sqrt(expected * (1 - expected) / n)
    n = len(pairs)
    assert abs(qkd["sifted_bits"] - n / 2) < 4 * math.sqrt(n / 4)  # BBM92 keeps half
    assert qkd["secret_key_rate_bps"] == pytest.approx(
        qkd["sifted_bits"] / 2.0 * analytic.shor_preskill_fraction(qkd["qber_x"], qkd["qber_z"])
    )


def test_qkd_qber_follows_the_true_state_with_decoherence_and_measurement_error(tmp_path):
    # dephasing memories and noisy readout: pairs differ, Z and X QBERs differ; the
    # measured QBER matches the mean of each sifted pair's own error probability (oracle)
    hardware = {**IDEAL, "t1_s": 1.0e9, "t2_s": 0.002, "measurement_error": 0.02}
    tenant, pairs, _ = _run(tmp_path, "qkd", nodes=3, duration_s=3.0, hardware=hardware)
    for basis in ("Z", "X"):
        sifted = [p["app"] for p in pairs if p["app"]["sifted"] and p["app"]["basis_src"] == basis]
        expected = sum(a["error_probability"] for a in sifted) / len(sifted)
        se = math.sqrt(expected * (1 - expected) / len(sifted))
        assert abs(tenant["qkd"][f"qber_{basis.lower()}"] - expected) < 4 * se
    assert tenant["qkd"]["qber_z"] != tenant["qkd"]["qber_x"]


def test_teleportation_fidelity_is_two_f_plus_one_over_three(tmp_path):
    tenant, pairs, _ = _run(tmp_path, "teleport", nodes=3)
    f = _werner_f(pairs)
    block = tenant["teleport"]
    assert block["count"] == len(pairs) > 300
    # a Werner pair teleports every input with the same fidelity: no spread to allow for
    assert block["fidelity_mean"] == pytest.approx(analytic.teleport_mean_fidelity(f), abs=1e-9)


def test_teleportation_waits_for_the_bits_and_decoheres_meanwhile(tmp_path):
    hardware = {**IDEAL, "t1_s": 1.0e9, "t2_s": 0.005}
    tenant, pairs, _ = _run(tmp_path, "teleport", nodes=3, hardware=hardware)
    values = [p["app"]["fidelity"] for p in pairs]
    expected = sum(analytic.teleport_mean_fidelity(p["fidelity"]) for p in pairs) / len(pairs)
    se = tenant["teleport"]["fidelity_se"]
    assert se > 0 and abs(sum(values) / len(values) - expected) < 4 * se
    assert all(p["dst_used_s"] > p["src_used_s"] for p in pairs)  # the bits came first


def test_remote_cnot_gate_fidelity_and_circuits(tmp_path):
    tenant, pairs, events = _run(tmp_path, "dqc", nodes=3, circuit={"gates": 3})
    f, block = _werner_f(pairs), tenant["dqc"]
    assert block["gate_fidelity_mean"] == pytest.approx(
        analytic.remote_cnot_average_fidelity(f), abs=1e-9
    )
    assert block["gates_per_circuit"] == 3 and block["circuits_completed"] >= 100
    assert block["circuit_fidelity_mean"] == pytest.approx(
        analytic.remote_cnot_average_fidelity(f) ** 3, abs=1e-9
    )
    done = sorted((e for e in events if e["event"] == "gate_done"), key=lambda e: e["gate"])
    # sequential: a gate starts only after the previous one is done
    assert all(b["started_s"] >= a["t_s"] for a, b in itertools.pairwise(done))
    assert block["circuit_time_mean_s"] >= 3 * block["gate_time_mean_s"]
