"""No behavior depends on node names: renaming nodes (same order) gives the same run."""

from qnemu.emulation import Emulation
from qnemu.scenario import load_scenario


def _chain(names, tmp_path):
    scenario = load_scenario(
        {
            "name": "names",
            "seed": 5,
            "duration_s": 1.5,
            "topology": {
                "nodes": [{"id": n, "hardware": "trapped_ion", "memories": 4} for n in names],
                "links": [
                    {"a": names[0], "b": names[1], "length_km": 10.0},
                    {"a": names[1], "b": names[2], "length_km": 10.0},
                ],
            },
            "control": {
                "architecture": "distributed",
                "max_purification_rounds": 0,
                "admission": "none",
            },
            "tenants": [
                {
                    "name": "t",
                    "app": "dqc",
                    "src": names[0],
                    "dst": names[2],
                    "rate_hz": 10,
                    "f_min": 0.5,
                    "arrivals": "backlog",
                }
            ],
        }
    )
    return Emulation(scenario, results_dir=tmp_path / "-".join(names), mode="virtual").run()


def test_renaming_nodes_changes_nothing(tmp_path):
    # A, R, B sorts the repeater last; n0, n1, n2 sorts it in the middle
    named = _chain(["A", "R", "B"], tmp_path)["tenants"]["t"]
    numbered = _chain(["n0", "n1", "n2"], tmp_path)["tenants"]["t"]
    assert named["pairs_delivered"] > 20
    assert named["pairs_delivered"] == numbered["pairs_delivered"]
    assert named["fidelity_mean"] == numbered["fidelity_mean"]
    assert named["latency_mean_s"] == numbered["latency_mean_s"]
