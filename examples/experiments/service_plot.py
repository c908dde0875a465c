"""Draw the service-layer experiment: total utility and SLA windows met, with 95% intervals,
for admission ``utility`` vs ``none`` under each sharing model (shared, slices).

Reads the ``summary.json`` of the two ``qnemu compare`` folders (service-shared.yaml and
service-slices.yaml, each swept over control.admission) and writes docs/img/service.png.
Run from the repository root:
  .venv/bin/python examples/experiments/service_plot.py SHARED_FOLDER SLICES_FOLDER
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

OUT = Path("docs/img/service.png")
PANELS = (("utility", "total utility (Q-NUM)"), ("sla_met_ratio", "SLA windows met"))
ADMISSIONS = ("utility", "none")


def cells(folder: Path, metric: str) -> dict[str, tuple[float, float]]:
    """Mean and 95% half-width of ``metric`` per admission setting of one comparison."""
    summary = json.loads((folder / "summary.json").read_text())
    out = {}
    for group in summary["groups"]:
        stats = group["metrics"][metric]
        out[group["point"]["control.admission"]] = (stats["mean"], stats["half_width"] or 0.0)
    return out


def main(shared: Path, slices: Path) -> None:
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, (metric, title) in zip(axes, PANELS, strict=True):
        for i, folder in enumerate((shared, slices)):
            values = cells(folder, metric)
            for j, admission in enumerate(ADMISSIONS):
                mean, half = values[admission]
                ax.bar(
                    i * 3 + j,
                    mean,
                    yerr=half,
                    capsize=4,
                    color=("tab:blue", "tab:orange")[j],
                    hatch="" if j == 0 else "//",
                    label=f"admission {admission}" if i == 0 else None,
                )
        ax.set_xticks([0.5, 3.5], ["shared", "slices (gold/bronze)"])
        ax.set_title(title)
    axes[1].set_ylim(0, 1.05)
    axes[0].legend(loc="upper right", fontsize=8)
    figure.suptitle("Tenants arriving over time (Poisson), 5 repeats, mean and 95% CI")
    figure.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(OUT, dpi=110)
    print(OUT)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
