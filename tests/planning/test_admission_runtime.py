"""Admission control in a real run: a tenant that would harm another is turned away."""

import json

from qnemu.emulation import Emulation
from qnemu.planning.plan import NetworkPlan
from qnemu.scenario import load_scenario

SCARCE = {"base": "trapped_ion", "t2_s": 0.5}
SPARE = {
    **SCARCE,
    "source_efficiency": 0.9,
    "coupling_efficiency": 0.9,
    "detector_efficiency": 0.9,
    "memory_efficiency": 0.9,
    "source_fidelity": 0.98,
}


def _scenario(hardware, max_rounds=2):
    return load_scenario(
        {
            "name": "admission",
            "seed": 1,
            "duration_s": 3.0,
            "dilation": 1,
            "topology": {
                "generator": "chain",
                "n": 3,
                "hop_km": 10,
                "hardware": "mem",
                "memories": 4,
            },
            "hardware": {"mem": hardware},
            "control": {"cpu_scale": 0.0, "max_purification_rounds": max_rounds},
            "tenants": [
                {
                    "name": "dqc",
                    "app": "dqc",
                    "src": "n0",
                    "dst": "n2",
                    "rate_hz": 50,
                    "f_min": 0.8,
                },
                {
                    "name": "qkd",
                    "app": "qkd",
                    "src": "n0",
                    "dst": "n2",
                    "rate_hz": 50,
                    "f_min": 0.6,
                },
            ],
        }
    )


def test_a_qkd_tenant_that_would_push_dqc_below_its_floor_is_rejected(tmp_path):
    scenario = _scenario(SCARCE)
    decisions = {
        d["tenant"]: d
        for d in (e.to_dict() for e in NetworkPlan.build(scenario).decisions)
        if d["event"] == "admission"
    }
    assert decisions["dqc"]["admitted"] is True
    assert decisions["qkd"]["admitted"] is False
    assert "below its f_min" in decisions["qkd"]["reason"]
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    assert summary["admission"]["qkd"]["admitted"] is False
    assert summary["tenants"]["qkd"]["pairs_delivered"] == 0
    assert summary["tenants"]["dqc"]["pairs_delivered"] > 0
    with open(f"{summary['results']}/events.jsonl") as handle:
        events = [json.loads(line) for line in handle]
    assert not any(e.get("tenant") == "qkd" and e["event"] == "pair_generated" for e in events)


def test_the_same_tenant_is_admitted_on_a_network_with_spare_capacity(tmp_path):
    scenario = _scenario(SPARE, max_rounds=0)  # raw pairs: both tenants deliver quickly
    decisions = {
        d["tenant"]: d
        for d in (e.to_dict() for e in NetworkPlan.build(scenario).decisions)
        if d["event"] == "admission"
    }
    assert decisions["qkd"]["admitted"] is True
    assert decisions["qkd"]["utility_after"] >= decisions["qkd"]["utility_before"]
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    assert summary["tenants"]["qkd"]["pairs_delivered"] > 0
    assert summary["tenants"]["dqc"]["pairs_delivered"] > 0
