"""PNG plots of a comparison, drawn with matplotlib's object API on the Agg canvas (no
pyplot, no display, no global state).

- ``bar-<metric>.png``: mean with 95% error bars, grouped by the first swept parameter's
  value, one bar per controller (and value of any other swept parameter);
- ``sweep-<metric>.png`` (when something is swept): the metric against the first swept
  parameter, one line per controller (and per value of any other swept parameter);
- ``rate-over-time.png`` (a scenario with faults): delivered rate over emulated time per
  controller, mean with a 95% band, the faults shaded (``qnemu.experiments.timeline``);
- ``scatter-<tenant>.png``: delivered rate against mean fidelity, one point per run,
  one marker shape per controller; overloaded runs are drawn as crosses.

Error bars are clipped to what the metric can take (``metrics.BOUNDS``: a rate's t-interval
of 30 ± 64 Hz is drawn from 0 to 94), and the title says so where it happened. Lines that
coincide (two controllers deciding the same way) stay visible: each line has its own
marker and dash pattern and is shifted sideways by a few percent of a step. Tick labels
are the first swept parameter's values, horizontal (the axis label names it); legends
sit outside the axes so they hide no data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from qnemu.experiments.metrics import metric_bounds, tenant_column
from qnemu.experiments.report import FAULT_TABLE, TABLE_METRICS, Group, is_overloaded
from qnemu.experiments.stats import Bounds, Interval, numbers
from qnemu.experiments.timeline import rate_figure, rate_series
from qnemu.scenario.spec import FaultSpec

__all__ = ["SWEEP_METRICS", "bar_figure", "scatter_figure", "sweep_figure", "write_plots"]

#: Metrics drawn against the swept parameter.
SWEEP_METRICS = ("utility", "violations", "rate_hz", "fidelity_mean")
_LABELS = {m: (heading, scale) for m, heading, scale in TABLE_METRICS + FAULT_TABLE}
#: One marker and one dash pattern per line, so coinciding lines stay distinguishable.
MARKERS = ("o", "s", "^", "D", "v", "P", "*", "h")
LINESTYLES = ("-", "--", ":", "-.")
#: Sideways shift between neighbouring lines, as a fraction of one sweep step.
DODGE = 0.04


def write_plots(
    folder: Path,
    groups: Sequence[Group],
    rows: Sequence[Mapping[str, str]],
    params: Sequence[str],
    controllers: Sequence[str],
    tenants: Sequence[str],
    faults: Sequence[FaultSpec] = (),
    duration_s: float | None = None,
) -> list[Path]:
    """Draw every plot that has data; returns the files written. With ``faults`` (the
    scenario's) also ``rate-over-time.png`` over ``duration_s`` (see ``timeline``)."""
    written = []
    for metric, _, _ in TABLE_METRICS + FAULT_TABLE:
        if any(g.stats[metric].n for g in groups):
            written.append(
                _save(bar_figure(groups, metric, controllers), folder / f"bar-{metric}.png")
            )
    if params:
        for metric in SWEEP_METRICS:
            if any(g.stats[metric].n for g in groups):
                written.append(
                    _save(sweep_figure(groups, metric, params), folder / f"sweep-{metric}.png")
                )
    if faults and duration_s:
        series = rate_series(folder, rows, params, duration_s)
        if series:
            figure = rate_figure(series, duration_s, faults)
            written.append(_save(figure, folder / "rate-over-time.png"))
    for tenant in tenants:
        written.append(
            _save(
                scatter_figure(rows, tenant, controllers), folder / f"scatter-{_safe(tenant)}.png"
            )
        )
    return written


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", name)


def _figure(width: float = 7.0) -> tuple[Figure, Axes]:
    # constrained layout makes room for tick labels and the outside legend
    figure = Figure(figsize=(width, 4.2), dpi=110, layout="constrained")
    FigureCanvasAgg(figure)
    return figure, figure.add_subplot()


def _save(figure: Figure, path: Path) -> Path:
    figure.savefig(path, format="png")
    return path


def _legend(axes: Axes) -> None:
    """Below the axes, where it hides no data and long labels do not squeeze the plot."""
    handles, labels = axes.get_legend_handles_labels()
    columns = 1 if max(len(label) for label in labels) > 40 else min(len(labels), 3)
    axes.figure.legend(
        handles, labels, loc="outside lower center", ncols=columns, fontsize="small", frameon=False
    )


def _point_label(point: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{p.rsplit('.', 1)[-1]}={v}" for p, v in point) or "all runs"


def _ordered(groups: Sequence[Group], controllers: Sequence[str]) -> list[str]:
    seen = list(dict.fromkeys(g.controller for g in groups))
    return [c for c in controllers if c in seen] + [c for c in seen if c not in controllers]


def _error(interval: Interval, bounds: Bounds, scale: float) -> tuple[float, float]:
    """Distances from the mean down and up to the interval's ends, clipped to ``bounds``
    (0, 0 for one run: a mean without an interval)."""
    ends, mean = interval.ends(bounds), interval.mean
    if ends is None or mean is None:
        return 0.0, 0.0
    return max(mean - ends[0], 0.0) * scale, max(ends[1] - mean, 0.0) * scale


def _range_text(bounds: Bounds) -> str:
    low, high = bounds
    if high is None:
        return f"clipped at {low:g}"
    if low is None:
        return f"clipped at {high:g}"
    return f"clipped to [{low:g}, {high:g}]"


def _title(heading: str, what: str, clipped: bool, bounds: Bounds) -> str:
    interval = "95% CI" + (f" {_range_text(bounds)}" if clipped else "")
    return f"{heading} {what}\n(mean ± {interval})"


def _series(groups: Sequence[Group], params: Sequence[str]) -> dict[tuple, list[Group]]:
    """Groups by line (or bar color): controller and the values of every swept
    parameter but the first, which is the x axis."""
    series: dict[tuple, list[Group]] = {}
    for group in groups:
        rest = tuple((p, v) for p, v in group.point if p not in params[:1])
        series.setdefault((group.controller, rest), []).append(group)
    return series


def _series_label(controller: str, rest: Sequence[tuple[str, str]]) -> str:
    return controller + (f" ({_point_label(rest)})" if rest else "")


def bar_figure(groups: Sequence[Group], metric: str, controllers: Sequence[str]) -> Figure:
    """Mean and clipped 95% error bars of ``metric``, grouped by the first swept value;
    one bar per controller (and value of any other swept parameter)."""
    heading, scale = _LABELS[metric]
    bounds = metric_bounds(metric)
    params = [p for p, _ in groups[0].point]
    xs = list(
        dict.fromkeys(
            dict(g.point).get(params[0], "all runs") if params else "all runs" for g in groups
        )
    )
    order = {c: i for i, c in enumerate(_ordered(groups, controllers))}
    series = sorted(_series(groups, params).items(), key=lambda item: order[item[0][0]])
    width = 0.8 / len(series)
    figure, axes = _figure()
    clipped = False
    for i, ((controller, rest), members) in enumerate(series):
        at, ys, down, up = [], [], [], []
        for group in members:
            interval = group.stats[metric]
            if interval.mean is None:
                continue
            x = xs.index(dict(group.point).get(params[0], "all runs") if params else "all runs")
            at.append(x - 0.4 + width * (i + 0.5))
            ys.append(interval.mean * scale)
            low, high = _error(interval, bounds, scale)
            down.append(low)
            up.append(high)
            clipped = clipped or interval.is_clipped(bounds)
        axes.bar(at, ys, width, yerr=[down, up], capsize=3, label=_series_label(controller, rest))
    axes.set_xticks(range(len(xs)), xs)
    axes.set_xlabel(params[0] if params else "")
    axes.set_ylabel(heading)
    axes.set_title(_title(heading, "by controller", clipped, bounds))
    _legend(axes)
    return figure


def _as_numbers(texts: Sequence[str]) -> list[float] | None:
    """The values as numbers if every one is a number (else the axis is categorical)."""
    values = [yaml.safe_load(t) for t in texts]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return [float(v) for v in values]
    return None


def _dodge(x: float, shift: float, log: bool, step: float) -> float:
    """``x`` moved sideways by ``shift`` steps (a step is a factor on a log axis)."""
    return x * step**shift if log else x + shift * step


def sweep_figure(groups: Sequence[Group], metric: str, params: Sequence[str]) -> Figure:
    """``metric`` against the first swept parameter, one line per controller (and value
    of any other swept parameter), with clipped 95% error bars."""
    heading, scale = _LABELS[metric]
    bounds = metric_bounds(metric)
    texts = list(dict.fromkeys(dict(g.point)[params[0]] for g in groups))
    numeric = _as_numbers(texts)
    position = dict(zip(texts, numeric or range(len(texts)), strict=True))
    log = numeric is not None and min(numeric) > 0 and max(numeric) / min(numeric) >= 100
    lines = _series(groups, params)
    step = _step(list(position.values()), log)
    figure, axes = _figure()
    clipped = False
    for i, ((controller, rest), members) in enumerate(lines.items()):
        kept = [g for g in members if g.stats[metric].mean is not None]
        kept.sort(key=lambda g: position[dict(g.point)[params[0]]])
        shift = DODGE * (i - (len(lines) - 1) / 2)
        xs = [_dodge(position[dict(g.point)[params[0]]], shift, log, step) for g in kept]
        ys = [(g.stats[metric].mean or 0.0) * scale for g in kept]  # kept: not None
        errors = [_error(g.stats[metric], bounds, scale) for g in kept]
        clipped = clipped or any(g.stats[metric].is_clipped(bounds) for g in kept)
        label = _series_label(controller, rest)
        axes.errorbar(
            xs,
            ys,
            yerr=[[e[0] for e in errors], [e[1] for e in errors]],
            marker=MARKERS[i % len(MARKERS)],
            linestyle=LINESTYLES[i % len(LINESTYLES)],
            markersize=7 - 1.5 * (i % 3),
            capsize=3,
            label=label,
        )
    if numeric is None:
        axes.set_xticks(range(len(texts)), texts)
    elif log:
        axes.set_xscale("log")
    axes.set_xlabel(params[0])
    axes.set_ylabel(heading)
    axes.set_title(_title(heading, f"against {params[0].rsplit('.', 1)[-1]}", clipped, bounds))
    _legend(axes)
    return figure


def _step(positions: list[float], log: bool) -> float:
    """One sweep step: the mean gap between neighbouring values (a factor on a log axis)."""
    if len(positions) < 2:
        return 10.0 if log else 1.0
    ends = sorted(positions)
    if log:
        return (ends[-1] / ends[0]) ** (1 / (len(ends) - 1))
    return (ends[-1] - ends[0]) / (len(ends) - 1) or 1.0


def scatter_figure(
    rows: Sequence[Mapping[str, str]], tenant: str, controllers: Sequence[str]
) -> Figure:
    """One tenant's delivered rate against mean fidelity, one point per run; hollow
    markers of a shape per controller, so runs that coincide stay visible."""
    rate, fidelity = tenant_column(tenant, "rate_hz"), tenant_column(tenant, "fidelity_mean")
    names = list(controllers) + sorted({r["controller"] for r in rows} - set(controllers))
    figure, axes = _figure()
    cycle = rcParams["axes.prop_cycle"].by_key()["color"]
    for i, name in enumerate(names):
        mine = [r for r in rows if r["controller"] == name]
        points = [
            (numbers([r.get(rate)]), numbers([r.get(fidelity)]), is_overloaded(r)) for r in mine
        ]
        good = [(x[0], y[0]) for x, y, bad in points if x and y and not bad]
        bad = [(x[0], y[0]) for x, y, over in points if x and y and over]
        color = cycle[i % len(cycle)]
        if good:
            good_x, good_y = zip(*good, strict=True)
            axes.scatter(
                good_x,
                good_y,
                marker=MARKERS[i % len(MARKERS)],
                facecolors="none",
                edgecolors=color,
                linewidths=1.5,
                s=60 - 12 * (i % 3),
                label=name,
            )
        if bad:
            bad_x, bad_y = zip(*bad, strict=True)
            axes.scatter(bad_x, bad_y, color=color, marker="x", label=f"{name} (overloaded)")
    axes.set_xlabel("delivered rate (Hz)")
    axes.set_ylabel("mean true fidelity")
    axes.set_title(f"tenant {tenant}: rate against fidelity, one point per run")
    if axes.get_legend_handles_labels()[0]:
        _legend(axes)
    else:
        axes.text(0.5, 0.5, "no pairs delivered", ha="center", transform=axes.transAxes)
    return figure
