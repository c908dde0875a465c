"""Delivered rate over emulated time, per controller: the comparison's time-series plot
around faults (``rate-over-time.png``), from each run's ``pairs.jsonl``.

Each run's deliveries (all tenants) are counted in :data:`BINS` equal bins of emulated
time; a series is the mean over its runs (overloaded runs excluded, as in the tables)
with a shaded 95% t-band, clipped at 0. The scenario's fault windows are shaded grey.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qnemu.experiments.report import is_overloaded
from qnemu.experiments.stats import mean_ci
from qnemu.scenario.spec import FaultSpec

__all__ = ["BINS", "rate_figure", "rate_series"]

#: Bins of emulated time over the run's duration.
BINS = 30
LINESTYLES = ("-", "--", ":", "-.")


def run_rate(pairs: Path, duration_s: float, bins: int = BINS) -> list[float]:
    """One run's delivered rate per bin (pairs per emulated second)."""
    width = duration_s / bins
    counts = [0] * bins
    with pairs.open(encoding="utf-8") as lines:
        for line in lines:
            t_s = float(json.loads(line)["t_s"])
            counts[min(bins - 1, max(0, int(t_s / width)))] += 1
    return [c / width for c in counts]


def rate_series(
    folder: Path,
    rows: Sequence[Mapping[str, str]],
    params: Sequence[str],
    duration_s: float,
    bins: int = BINS,
) -> dict[str, list[list[float]]]:
    """Per series (controller, and sweep point if any): each run's rate per bin."""
    series: dict[str, list[list[float]]] = {}
    for row in rows:
        pairs = folder / row.get("results", "") / "pairs.jsonl"
        if is_overloaded(row) or not row.get("results") or not pairs.is_file():
            continue
        point = ", ".join(f"{p.rsplit('.', 1)[-1]}={row[p]}" for p in params)
        label = f"{row['controller']} ({point})" if point else row["controller"]
        series.setdefault(label, []).append(run_rate(pairs, duration_s, bins))
    return series


def rate_figure(
    series: Mapping[str, list[list[float]]],
    duration_s: float,
    faults: Sequence[FaultSpec],
    bins: int = BINS,
) -> Figure:
    """Mean delivered rate over time per series, with its 95% band and the faults shaded."""
    figure = Figure(figsize=(7.0, 4.2), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    width = duration_s / bins
    centres = [(i + 0.5) * width * 1e3 for i in range(bins)]
    for fault in faults:
        end = min(fault.until_s, duration_s)
        axes.axvspan(fault.at_s * 1e3, end * 1e3, color="0.85", zorder=0)
        axes.text(
            fault.at_s * 1e3,
            1.0,
            f" {fault.kind} {fault.label}",
            fontsize="x-small",
            va="top",
            transform=axes.get_xaxis_transform(),
        )
    for i, (label, runs) in enumerate(series.items()):
        stats = [mean_ci(column) for column in zip(*runs, strict=True)]
        mean = [s.mean or 0.0 for s in stats]
        low = [
            max(0.0, s.low) if s.low is not None else m for s, m in zip(stats, mean, strict=True)
        ]
        high = [s.high if s.high is not None else m for s, m in zip(stats, mean, strict=True)]
        line = axes.plot(
            centres, mean, LINESTYLES[i % len(LINESTYLES)], label=f"{label} (n={len(runs)})"
        )[0]
        axes.fill_between(centres, low, high, color=line.get_color(), alpha=0.2, linewidth=0)
    axes.set_xlabel("emulated time (ms)")
    axes.set_ylabel("delivered rate (pairs/s)")
    axes.set_ylim(bottom=0)
    axes.set_title("Delivered rate over time (mean, 95% band; faults shaded)")
    handles, labels = axes.get_legend_handles_labels()
    if labels:
        figure.legend(
            handles,
            labels,
            loc="outside lower center",
            ncols=min(len(labels), 3),
            fontsize="small",
            frameon=False,
        )
    return figure
