"""PNG plots of a comparison, drawn with matplotlib's object API on the Agg canvas (no
pyplot, no display, no global state).

- ``bar-<metric>.png``: mean with 95% error bars, one bar per controller, grouped by
  sweep point;
- ``sweep-<metric>.png`` (when something is swept): the metric against the first swept
  parameter, one line per controller (and per value of any other swept parameter);
- ``scatter-<tenant>.png``: delivered rate against mean fidelity, one point per run,
  coloured by controller; overloaded runs are drawn as crosses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from matplotlib import rcParams
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qnemu.experiments.metrics import tenant_column
from qnemu.experiments.report import TABLE_METRICS, Group, is_overloaded
from qnemu.experiments.stats import numbers

__all__ = ["SWEEP_METRICS", "write_plots"]

#: Metrics drawn against the swept parameter.
SWEEP_METRICS = ("utility", "violations", "rate_hz", "fidelity_mean")
_LABELS = {m: (heading, scale) for m, heading, scale in TABLE_METRICS}


def write_plots(folder: Path, groups: Sequence[Group], rows: Sequence[Mapping[str, str]],
                params: Sequence[str], controllers: Sequence[str],
                tenants: Sequence[str]) -> list[Path]:
    """Draw every plot that has data; returns the files written."""
    written = []
    for metric, _, _ in TABLE_METRICS:
        if any(g.stats[metric].n for g in groups):
            written.append(_bars(folder / f"bar-{metric}.png", groups, metric, controllers))
    if params:
        for metric in SWEEP_METRICS:
            if any(g.stats[metric].n for g in groups):
                written.append(_sweep(folder / f"sweep-{metric}.png", groups, metric, params))
    for tenant in tenants:
        written.append(_scatter(folder / f"scatter-{_safe(tenant)}.png", rows, tenant,
                                controllers))
    return written


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def _figure() -> tuple[Figure, object]:
    figure = Figure(figsize=(7, 4.2), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, format="png")
    return path


def _point_label(point: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{p.rsplit('.', 1)[-1]}={v}" for p, v in point) or "all runs"


def _ordered(groups: Sequence[Group], controllers: Sequence[str]) -> list[str]:
    seen = list(dict.fromkeys(g.controller for g in groups))
    return [c for c in controllers if c in seen] + [c for c in seen if c not in controllers]


def _bars(path: Path, groups: Sequence[Group], metric: str,
          controllers: Sequence[str]) -> Path:
    heading, scale = _LABELS[metric]
    points = list(dict.fromkeys(g.point for g in groups))
    names = _ordered(groups, controllers)
    width = 0.8 / len(names)
    figure, axes = _figure()
    for i, name in enumerate(names):
        xs, ys, errors = [], [], []
        for x, point in enumerate(points):
            found = [g for g in groups if g.point == point and g.controller == name]
            if found and found[0].stats[metric].mean is not None:
                interval = found[0].stats[metric]
                xs.append(x - 0.4 + width * (i + 0.5))
                ys.append(interval.mean * scale)
                errors.append((interval.half_width or 0.0) * scale)
        axes.bar(xs, ys, width, yerr=errors, capsize=3, label=name)
    axes.set_xticks(range(len(points)), [_point_label(p) for p in points],
                    rotation=20 if len(points) > 3 else 0)
    axes.set_ylabel(heading)
    axes.set_title(f"{heading} by controller (mean ± 95% CI)")
    axes.legend(fontsize="small")
    return _save(figure, path)


def _as_numbers(texts: Sequence[str]) -> list[float] | None:
    """The values as numbers if every one is a number (else the axis is categorical)."""
    values = [yaml.safe_load(t) for t in texts]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return None


def _sweep(path: Path, groups: Sequence[Group], metric: str, params: Sequence[str]) -> Path:
    heading, scale = _LABELS[metric]
    texts = list(dict.fromkeys(dict(g.point)[params[0]] for g in groups))
    numeric = _as_numbers(texts)
    position = dict(zip(texts, numeric or range(len(texts)), strict=True))
    lines: dict[tuple, list[Group]] = {}
    for group in groups:
        rest = tuple((p, v) for p, v in group.point if p != params[0])
        lines.setdefault((group.controller, rest), []).append(group)
    figure, axes = _figure()
    for (controller, rest), members in lines.items():
        kept = [g for g in members if g.stats[metric].mean is not None]
        kept.sort(key=lambda g: position[dict(g.point)[params[0]]])
        xs = [position[dict(g.point)[params[0]]] for g in kept]
        ys = [g.stats[metric].mean * scale for g in kept]
        errors = [(g.stats[metric].half_width or 0.0) * scale for g in kept]
        label = controller + (f" ({_point_label(rest)})" if rest else "")
        axes.errorbar(xs, ys, yerr=errors, marker="o", capsize=3, label=label)
    if numeric is None:
        axes.set_xticks(range(len(texts)), texts)
    elif min(numeric) > 0 and max(numeric) / min(numeric) >= 100:
        axes.set_xscale("log")
    axes.set_xlabel(params[0])
    axes.set_ylabel(heading)
    axes.set_title(f"{heading} against {params[0].rsplit('.', 1)[-1]} (mean ± 95% CI)")
    axes.legend(fontsize="small")
    return _save(figure, path)


def _scatter(path: Path, rows: Sequence[Mapping[str, str]], tenant: str,
             controllers: Sequence[str]) -> Path:
    rate, fidelity = tenant_column(tenant, "rate_hz"), tenant_column(tenant, "fidelity_mean")
    names = list(controllers) + sorted({r["controller"] for r in rows} - set(controllers))
    figure, axes = _figure()
    cycle = rcParams["axes.prop_cycle"].by_key()["color"]
    for i, name in enumerate(names):
        mine = [r for r in rows if r["controller"] == name]
        points = [(numbers([r.get(rate)]), numbers([r.get(fidelity)]), is_overloaded(r))
                  for r in mine]
        good = [(x[0], y[0]) for x, y, bad in points if x and y and not bad]
        bad = [(x[0], y[0]) for x, y, over in points if x and y and over]
        colour = cycle[i % len(cycle)]
        if good:
            axes.scatter(*zip(*good, strict=True), color=colour, label=name, alpha=0.8)
        if bad:
            axes.scatter(*zip(*bad, strict=True), color=colour, marker="x",
                         label=f"{name} (overloaded)")
    axes.set_xlabel("delivered rate (Hz)")
    axes.set_ylabel("mean true fidelity")
    axes.set_title(f"tenant {tenant}: rate against fidelity, one point per run")
    if axes.get_legend_handles_labels()[0]:
        axes.legend(fontsize="small")
    else:
        axes.text(0.5, 0.5, "no pairs delivered", ha="center", transform=axes.transAxes)
    return _save(figure, path)
