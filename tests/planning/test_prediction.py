"""The controller's predictions against what the emulation delivers (virtual time).

Q-NUM ranks paths with closed forms, then calibrates the chosen plan with its digital twin
(``controller.twin``: the same node logic in virtual time, a seed of its own). Its
published prediction must be within 25% on rate and 0.02 on fidelity of what an
independent run of the same scenario delivers: on chains of 2 to 9 nodes, with and
without decoherence, with backlogged and Poisson demand, and on the bundled examples.
"""

import math
from pathlib import Path

import pytest

import qnemu
from qnemu.emulation import Emulation
from qnemu.planning.plan import NetworkPlan
from qnemu.scenario import load_scenario

EXAMPLES = Path(qnemu.__file__).parent / "examples"
#: ideal efficiencies and a good source at 10 km (fast links, F ~0.97); T2 set per case
FAST = {
    "base": "trapped_ion",
    "source_efficiency": 1.0,
    "coupling_efficiency": 1.0,
    "memory_efficiency": 1.0,
    "detector_efficiency": 1.0,
    "t1_s": math.inf,
    "source_fidelity": 0.98,
}


def _chain(n, t2_s, arrivals="backlog", rate_hz=10.0, duration_s=0.5):
    return load_scenario(
        {
            "name": f"chain{n}",
            "seed": 21,
            "duration_s": duration_s,
            "topology": {
                "generator": "chain",
                "n": n,
                "hop_km": 10,
                "hardware": "mem",
                "memories": 4,
            },
            "hardware": {"mem": {**FAST, "t2_s": t2_s}},
            "control": {"architecture": "distributed", "max_purification_rounds": 0},
            "tenants": [
                {
                    "name": "t",
                    "app": "dqc",
                    "src": "n0",
                    "dst": f"n{n - 1}",
                    "rate_hz": rate_hz,
                    "f_min": 0.5,
                    "arrivals": arrivals,
                }
            ],
        }
    )


def _check(tmp_path, scenario):
    plan = NetworkPlan.build(scenario)
    predicted = {d.tenant: d.to_dict() for d in plan.decisions if d.event == "qnum"}
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    assert predicted, "every tenant gets a prediction"
    for name, decision in predicted.items():
        got = summary["tenants"][name]
        assert decision["model"] == "twin"
        assert got["pairs_delivered"] >= 100, f"{name}: too few pairs to compare"
        rate_error = abs(decision["predicted_rate_hz"] - got["rate_hz"]) / got["rate_hz"]
        assert rate_error < 0.25, (name, decision["predicted_rate_hz"], got["rate_hz"])
        assert abs(decision["predicted_fidelity"] - got["fidelity_mean"]) < 0.02, (
            name,
            decision["predicted_fidelity"],
            got["fidelity_mean"],
        )
    return plan, summary


@pytest.mark.parametrize("n", [2, 3, 5, 9])
@pytest.mark.parametrize("t2_s", [math.inf, 0.05])
def test_chain_prediction_matches_the_emulation(tmp_path, n, t2_s):
    _check(tmp_path, _chain(n, t2_s))


def test_poisson_demand_prediction_matches_the_emulation(tmp_path):
    _, summary = _check(tmp_path, _chain(3, 0.05, arrivals="poisson", rate_hz=400, duration_s=1.0))
    tenant = summary["tenants"]["t"]
    assert tenant["served"] <= tenant["requested"]


@pytest.mark.parametrize(
    "example", ["default", "two-node", "repeater-chain-cutoff", "mesh-two-tenants"]
)
def test_example_prediction_matches_the_emulation(tmp_path, example):
    # long enough that every tenant gets >= 200 pairs (the comparison's own noise < 7%)
    scenario = load_scenario(EXAMPLES / f"{example}.yaml", overrides={"duration_s": 40.0})
    _check(tmp_path, scenario)


@pytest.mark.parametrize(
    "example", ["default", "two-node", "repeater-chain-cutoff", "mesh-two-tenants"]
)
def test_bundled_examples_serve_their_tenants(tmp_path, example):
    """A newcomer's first runs show a network that works: every tenant admitted, served
    above its f_min on average, with positive utility (as shipped, in virtual time)."""
    scenario = load_scenario(EXAMPLES / f"{example}.yaml")
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    for spec in scenario.tenants:
        got = summary["tenants"][spec.name]
        assert summary["admission"][spec.name]["admitted"], summary["admission"]
        assert got["pairs_delivered"] >= 3
        assert got["fidelity_mean"] >= spec.f_min
        assert got["utility"] > 0.0


def test_the_violations_example_loses_the_race_that_local_control_wins(tmp_path):
    scenario = load_scenario(EXAMPLES / "violations.yaml")
    far = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    local = Emulation(
        load_scenario(
            EXAMPLES / "violations.yaml", overrides={"control.architecture": "distributed"}
        ),
        results_dir=tmp_path,
        mode="virtual",
    ).run()
    assert sum(far["violations"].values()) > 10
    assert sum(local["violations"].values()) < sum(far["violations"].values()) / 10
    assert local["tenants"]["far-ends"]["rate_hz"] > 2 * far["tenants"]["far-ends"]["rate_hz"]
