"""Quantum federated learning: sync versus async aggregation with one far client, under
two control planes (examples/experiments/qfl.yaml, docs/experiments.md).

Runs ``qnemu compare`` twice in virtual time: aggregation sync and async (no staleness
bound) swept, then async with a staleness bound of 2 (``--set``); reads each comparison's
``runs.csv`` (the app columns ``tenant.fl.qfl.*``) and the runs' summaries (accepted
updates per client), and prints mean and 95% t-intervals (qnemu.experiments.stats) with
the Gamma-maximum model of the sync round time (qnemu.physics.analytic). Writes qfl.json
next to the comparisons and docs/img/qfl/round-time.png. From the repository root:

    .venv/bin/python examples/experiments/qfl.py [REPEATS]     # about 3 minutes
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import yaml

from qnemu.experiments import compare
from qnemu.experiments.stats import format_interval, mean_ci
from qnemu.physics import analytic

HERE = Path(__file__).parent
RESULTS = Path("runs/experiments/qfl")
IMG = Path("docs/img/qfl")
PLANES = ("centralized", "distributed")
CLIENTS = ("c1", "c2", "c3")
M = 4  # pairs_per_round in qfl.yaml
#: (sweep, overrides) of the two comparisons
COMPARISONS = (
    (["tenants.0.aggregation=sync,async"], {}),
    ([], {"tenants.0.aggregation": "async", "tenants.0.staleness": 2}),
)
METRICS = (
    ("tenant.fl.qfl.rounds", "rounds", 1.0),
    ("tenant.fl.qfl.round_time_mean_s", "round time (ms)", 1e3),
    ("tenant.fl.qfl.round_time_p95_s", "p95 (ms)", 1e3),
    ("tenant.fl.qfl.straggler_time_s", "straggler (ms)", 1e3),
    ("tenant.fl.qfl.updates_rejected", "rejected", 1.0),
    ("c3_updates", "c3 updates", 1.0),
    ("tenant.fl.qfl.round_fidelity_mean", "round F", 1.0),
    ("model_round_time_s", "model (ms)", 1e3),
)


def variant(row: dict[str, str]) -> str:
    """The run's aggregation, with its staleness bound if it has one."""
    scenario = yaml.safe_load((Path(row["results"]) / "scenario.yaml").read_text())
    tenant = scenario["tenants"][0]
    bound = tenant.get("staleness")
    return tenant["aggregation"] if bound is None else f"{tenant['aggregation']} (s={bound})"


def _summary(row: dict[str, str]) -> dict:
    return json.loads((Path(row["results"]) / "summary.json").read_text())


def values(row: dict[str, str]) -> dict[str, float | None]:
    """One run's figures: the runs.csv app columns, c3's accepted updates, the model."""
    out: dict[str, float | None] = {m: _float(row.get(m, "")) for m, _, _ in METRICS[:5]}
    out["tenant.fl.qfl.round_fidelity_mean"] = _float(row["tenant.fl.qfl.round_fidelity_mean"])
    tenants = _summary(row)["tenants"]
    out["c3_updates"] = float(tenants["fl"]["qfl"]["updates_by_client"].get("c3", 0))
    rates = [tenants[f"fl/{c}"]["rate_hz"] for c in CLIENTS]
    sync = tenants["fl"]["qfl"]["aggregation"] == "sync"
    out["model_round_time_s"] = (
        analytic.sync_round_time_mean(rates, M) if sync and all(rates) else None
    )
    return out


def _float(text: str) -> float | None:
    return float(text) if text not in ("", None) else None


def main(repeats: int) -> None:
    groups: dict[tuple[str, str], list[dict[str, float | None]]] = {}
    folders = []
    for sweep, overrides in COMPARISONS:
        folder = compare(
            HERE / "qfl.yaml",
            controllers=PLANES,
            repeats=repeats,
            sweep=sweep,
            results_dir=RESULTS,
            mode="virtual",
            overrides=overrides,
            quiet=True,
        )
        folders.append(str(folder))
        with (folder / "runs.csv").open() as handle:
            for row in csv.DictReader(handle):
                row["results"] = str(folder / row["results"])  # relative to the comparison
                key = (variant(row), row["controller"])
                groups.setdefault(key, []).append(values(row))
    table = {}
    print("| aggregation | controller | " + " | ".join(t for _, t, _ in METRICS) + " |")
    print("|---|---|" + "---:|" * len(METRICS))
    for (agg, plane), runs in groups.items():
        cells = []
        for metric, _, scale in METRICS:
            sample = [r[metric] for r in runs if r[metric] is not None]
            interval = mean_ci([v * scale for v in sample]) if sample else None
            table.setdefault(f"{agg} / {plane}", {})[metric] = (
                None if interval is None else interval.to_dict()
            )
            cells.append(format_interval(interval) if interval is not None else "-")
        print(f"| {agg} | {plane} | " + " | ".join(cells) + " |")
    out = RESULTS / "qfl.json"
    out.write_text(json.dumps({"comparisons": folders, "table": table}, indent=2))
    plot(table)
    print(f"comparisons: {', '.join(folders)}\nwrote {out} and {IMG / 'round-time.png'}")


def plot(table: dict[str, dict]) -> None:
    """Round time (log scale) and c3's accepted updates per variant and control plane."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = list(table)
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, metric, title, scale in (
        (axes[0], "tenant.fl.qfl.round_time_mean_s", "round time (ms, log)", 1.0),
        (axes[1], "c3_updates", "far client's accepted updates", 1.0),
    ):
        means = [(table[k][metric] or {}).get("mean") or 0.0 for k in labels]
        errors = [(table[k][metric] or {}).get("half_width") or 0.0 for k in labels]
        colors = ["tab:blue" if "centralized" in k else "tab:orange" for k in labels]
        below = [min(e, m) for m, e in zip(means, errors, strict=True)]  # counts are >= 0
        ax.bar(range(len(labels)), [m * scale for m in means], yerr=[below, errors], color=colors)
        ax.set_xticks(range(len(labels)), [k.replace(" / ", "\n") for k in labels], fontsize=7)
        ax.set_title(title + ", mean and 95% CI (clipped at 0)", fontsize=9)
        if metric.endswith("round_time_mean_s"):
            ax.set_yscale("log")
    fig.tight_layout()
    IMG.mkdir(parents=True, exist_ok=True)
    fig.savefig(IMG / "round-time.png", dpi=110)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
