"""How well the controller predicts its data plane: predicted vs delivered, per case.

For chains of 2, 3, 5 and 9 nodes (with and without decoherence) and the bundled examples,
over several seeds, it builds the plan (the controller's closed-form choice, calibrated by
its digital twin) and runs the scenario in virtual time, then prints the twin's predicted
rate and fidelity, the closed-form ones, and what the run delivered. Writes
``benchmarks/results/prediction.json``. Not a test (tests/controller/test_prediction.py
asserts the tolerances on one seed).

    .venv/bin/python benchmarks/prediction.py [--seeds 5]
"""

from __future__ import annotations

import argparse
import json
import math
import tempfile
from pathlib import Path

import qnemu
from qnemu.emulation import Emulation
from qnemu.planning.plan import NetworkPlan
from qnemu.scenario import load_scenario

RESULTS = Path(__file__).parent / "results" / "prediction.json"
EXAMPLES = Path(qnemu.__file__).parent / "examples"
FAST = {
    "base": "trapped_ion",
    "source_efficiency": 1.0,
    "coupling_efficiency": 1.0,
    "memory_efficiency": 1.0,
    "detector_efficiency": 1.0,
    "t1_s": math.inf,
    "source_fidelity": 0.98,
}


def chain(n: int, t2_s: float, seed: int) -> object:
    """The test suite's chain: fast trapped-ion links, 4 memories, backlogged tenant."""
    return load_scenario(
        {
            "name": f"chain{n}",
            "seed": seed,
            "duration_s": 0.5,
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
                    "rate_hz": 10.0,
                    "f_min": 0.5,
                    "arrivals": "backlog",
                }
            ],
        }
    )


def compare(label: str, scenario: object) -> list[dict]:
    """Predicted (twin and closed form) against delivered, per tenant."""
    plan = NetworkPlan.build(scenario)
    with tempfile.TemporaryDirectory() as folder:
        summary = Emulation(scenario, results_dir=folder, mode="virtual").run()
    rows = []
    for decision in (d for d in plan.decisions if d["event"] == "qnum"):
        got = summary["tenants"][decision["tenant"]]
        rows.append(
            {
                "case": label,
                "seed": scenario.seed,
                "tenant": decision["tenant"],
                "predicted_rate_hz": decision["predicted_rate_hz"],
                "predicted_fidelity": decision["predicted_fidelity"],
                "closed_form_rate_hz": decision.get("analytic_rate_hz"),
                "closed_form_fidelity": decision.get("analytic_fidelity"),
                "delivered_rate_hz": got["rate_hz"],
                "delivered_fidelity": got["fidelity_mean"],
                "pairs": got["pairs_delivered"],
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    rows = []
    for seed in range(args.seeds):
        for n in (2, 3, 5, 9):
            for t2 in (math.inf, 0.05):
                rows += compare(f"chain n={n} T2={t2:g}", chain(n, t2, seed))
        for name in ("default", "two-node", "repeater-chain-cutoff", "mesh-two-tenants"):
            rows += compare(
                name,
                load_scenario(
                    EXAMPLES / f"{name}.yaml", overrides={"duration_s": 40.0, "seed": seed}
                ),
            )
    for row in rows:
        rate_error = row["predicted_rate_hz"] / row["delivered_rate_hz"] - 1.0
        fid_error = row["predicted_fidelity"] - row["delivered_fidelity"]
        row.update(rate_error=rate_error, fidelity_error=fid_error)
        print(
            f"{row['case']:<24} seed {row['seed']} {row['tenant']:<11} predicted "
            f"{row['predicted_rate_hz']:9.1f} Hz F {row['predicted_fidelity']:.4f} | "
            f"closed form {row['closed_form_rate_hz']:9.1f} Hz "
            f"F {row['closed_form_fidelity']:.4f} | delivered "
            f"{row['delivered_rate_hz']:9.1f} Hz F {row['delivered_fidelity']:.4f} "
            f"({rate_error:+.1%}, {fid_error:+.4f})"
        )
    worst_rate = max(abs(r["rate_error"]) for r in rows)
    worst_fid = max(abs(r["fidelity_error"]) for r in rows)
    print(f"worst of {len(rows)}: rate {worst_rate:.1%}, fidelity {worst_fid:.4f}")
    RESULTS.write_text(
        json.dumps(
            {"rows": rows, "worst_rate_error": worst_rate, "worst_fidelity_error": worst_fid},
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
