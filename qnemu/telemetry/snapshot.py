"""Render dashboards to PNG from a real Prometheus: what Grafana would show, without Grafana.

Each dashboard's JSON model (the one Grafana loads) is read panel by panel: its queries are
sent to Prometheus' HTTP API as range queries with the template variables and
``$__rate_interval`` filled in, and matplotlib draws the answers where Grafana would put
the panels (their ``gridPos``), with their titles, units, axis ranges, dashed limit lines
and red alarm thresholds. One PNG per dashboard; a panel without data says "No data", as
Grafana does, so a picture shows what a person would have seen.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from qnemu.telemetry.collector import TelemetryError
from qnemu.telemetry.dashboards import build_dashboard
from qnemu.telemetry.endpoints import DEFAULT_PROMETHEUS_URL
from qnemu.telemetry.panels import ALL, DASHBOARDS, RATE

DEFAULT_RANGE_S = 300.0  # the dashboards' default time range: the last 5 minutes
RATE_WINDOW = "5s"  # what $__rate_interval becomes at qnemu's 1 s scrape interval
GRID_WIDTH = 24  # Grafana's grid: 24 columns; a grid row is about 30 px
INCH_PER_COLUMN = 0.75
INCH_PER_GRID_ROW = 0.36
QUERY_TIMEOUT_S = 10.0
_LABEL = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_ENGINEERING = {"hertz": "Hz", "s": "s", "ops": "/s"}  # units shown with SI prefixes


@dataclass(frozen=True)
class Series:
    """One answer of a range query: its legend and its points (unix seconds, value)."""

    legend: str
    times: tuple[float, ...]
    values: tuple[float, ...]
    floor: bool = False


class Prometheus:
    """The part of Prometheus' HTTP API a snapshot needs: instant and range queries."""

    def __init__(self, url: str = DEFAULT_PROMETHEUS_URL) -> None:
        if not url.startswith(("http://", "https://")):
            raise TelemetryError(
                f"prometheus url: must start with http:// or https://, got {url!r}"
            )
        self.url = url.rstrip("/")

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """The ``result`` of a range query (a list of ``{metric, values}``)."""
        return self._get(
            "query_range",
            {"query": expr, "start": f"{start:.3f}", "end": f"{end:.3f}", "step": f"{step:g}"},
        )

    def query(self, expr: str, at: float) -> list[dict[str, Any]]:
        """The ``result`` of an instant query at ``at`` (a list of ``{metric, value}``)."""
        return self._get("query", {"query": expr, "time": f"{at:.3f}"})

    def _get(self, endpoint: str, fields: dict[str, str]) -> list[dict[str, Any]]:
        params = urllib.parse.urlencode(fields)
        expr = fields["query"]
        try:
            with urllib.request.urlopen(
                f"{self.url}/api/v1/{endpoint}?{params}", timeout=QUERY_TIMEOUT_S
            ) as response:
                answer = json.load(response)
        except urllib.error.HTTPError as exc:  # a bad query: Prometheus says why
            detail = json.loads(exc.read() or b"{}").get("error", exc.reason)
            raise TelemetryError(f"prometheus at {self.url}: {detail} (query: {expr})") from None
        except OSError as exc:
            raise TelemetryError(f"prometheus at {self.url}: {exc}") from None
        if answer.get("status") != "success":
            raise TelemetryError(f"prometheus at {self.url}: {answer.get('error')}")
        return answer["data"]["result"]


def fill_variables(
    expr: str, variables: Mapping[str, Sequence[str]] | None = None, rate_window: str = RATE_WINDOW
) -> str:
    """``expr`` as Grafana sends it: each ``$name`` becomes its chosen values as a regex
    (``a|b``; "All", ``.*``, when none are chosen) and ``$__rate_interval`` a window."""
    expr = expr.replace(RATE, rate_window)
    chosen = variables or {}

    def value(match: re.Match[str]) -> str:
        values = chosen.get(match.group(1))
        return "|".join(_escape(v) for v in values) if values else ALL

    return re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", value, expr)


def _escape(value: str) -> str:
    """A label value as a literal inside a PromQL regex string, as Grafana escapes it: the
    regex escape's backslash is itself escaped for the double-quoted PromQL string."""
    return re.sub(r"[\\^$*+?.()|\[\]{}]", lambda m: "\\\\" + m.group(0), value)


def legend(template: str, labels: Mapping[str, str]) -> str:
    """A Grafana legend format with ``{{label}}`` filled in from a series' labels."""
    text = _LABEL.sub(lambda m: labels.get(m.group(1), ""), template).strip()
    return text or "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}"


def panel_series(
    panel: Mapping[str, Any],
    prometheus: Prometheus,
    start: float,
    end: float,
    step: float,
    variables: Mapping[str, Sequence[str]] | None = None,
) -> list[Series]:
    """Every series a panel's queries return over ``[start, end]``."""
    floors = {
        o["matcher"].get("options")
        for o in panel.get("fieldConfig", {}).get("overrides", [])
        if o.get("matcher", {}).get("id") == "byFrameRefID"
    }
    found = []
    for target in panel.get("targets") or []:
        expr = fill_variables(target["expr"], variables)
        for result in prometheus.query_range(expr, start, end, step):
            points = [(float(t), float(v)) for t, v in result["values"]]
            found.append(
                Series(
                    legend(target.get("legendFormat", ""), result["metric"]),
                    tuple(t for t, _ in points),
                    tuple(v for _, v in points),
                    target.get("refId") in floors,
                )
            )
    return found


def render_dashboard(
    dashboard: Mapping[str, Any],
    prometheus: Prometheus,
    path: Path,
    start: float,
    end: float,
    step: float = 1.0,
    variables: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Draw one dashboard JSON model to ``path`` (PNG); returns ``path``."""
    import matplotlib

    matplotlib.use("Agg")  # no display: a file only
    import matplotlib.pyplot as plt

    panels = dashboard.get("panels", [])
    bottom = max((p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels), default=1)
    figure = plt.figure(figsize=(GRID_WIDTH * INCH_PER_COLUMN, bottom * INCH_PER_GRID_ROW + 1))
    figure.suptitle(_heading(dashboard, start, end, variables), fontsize=14, x=0.01, ha="left")
    drawn = [
        (panel, panel_series(panel, prometheus, start, end, step, variables))
        for panel in panels
        if panel.get("type") != "row"
    ]
    times = [
        t
        for _, found in drawn
        for s in found
        for t, v in zip(s.times, s.values, strict=True)
        if math.isfinite(v) and not s.floor
    ]
    span = (min(times), max(times)) if times else (start, end)
    for panel in panels:
        if panel.get("type") == "row":
            _row(figure, panel, bottom)
    for panel, found in drawn:
        axes = figure.add_axes(_rect(panel["gridPos"], bottom))
        if panel.get("type") == "stat":
            _stat(axes, panel, found)
        else:
            _timeseries(axes, panel, found, span)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=80)
    plt.close(figure)
    return path


def snapshot(
    directory: str | Path,
    prometheus_url: str = DEFAULT_PROMETHEUS_URL,
    range_s: float = DEFAULT_RANGE_S,
    end: float | None = None,
    variables: Mapping[str, Sequence[str]] | None = None,
    uids: Sequence[str] | None = None,
) -> list[Path]:
    """Render every qnemu dashboard (or ``uids``) to ``directory/<uid>.png``.

    The window is the ``range_s`` seconds before ``end`` (default: now), the dashboards'
    default "last 5 minutes"; within it the time axis shows where data was found.
    ``variables`` chooses template variable values (``{"run": ["..."]}``; default All).
    """
    if not range_s > 0:
        raise TelemetryError(f"snapshot range: must be > 0 seconds, got {range_s}")
    prometheus = Prometheus(prometheus_url)
    end = time.time() if end is None else end
    step = max(1.0, range_s / 600)  # at most about 600 points per series, as Grafana asks
    root = Path(directory)
    return [
        render_dashboard(
            build_dashboard(uid),
            prometheus,
            root / f"{uid}.png",
            end - range_s,
            end,
            step,
            variables,
        )
        for uid in (uids or list(DASHBOARDS))
    ]


# -- drawing -------------------------------------------------------------------------------
def _heading(
    dashboard: Mapping[str, Any],
    start: float,
    end: float,
    variables: Mapping[str, Sequence[str]] | None,
) -> str:
    chosen = ", ".join(f"{k}={'|'.join(v)}" for k, v in (variables or {}).items() if v)
    window = (
        f"{time.strftime('%H:%M:%S', time.localtime(start))}–"
        f"{time.strftime('%H:%M:%S', time.localtime(end))}"
    )
    return f"{dashboard.get('title', '')}   ({window}{'; ' + chosen if chosen else ''})"


def _rect(grid: Mapping[str, int], bottom: int) -> tuple[float, float, float, float]:
    """A panel's gridPos as figure coordinates, with room for its title and tick labels."""
    height = bottom * INCH_PER_GRID_ROW + 1
    left = (grid["x"] + 0.9) / GRID_WIDTH
    width = (grid["w"] - 1.3) / GRID_WIDTH
    top = 1 - (grid["y"] * INCH_PER_GRID_ROW + 1.0) / height
    panel_height = (grid["h"] * INCH_PER_GRID_ROW - 0.95) / height
    return (left, top - panel_height - 0.15 / height, width, panel_height)


def _row(figure: Any, panel: Mapping[str, Any], bottom: int) -> None:
    height = bottom * INCH_PER_GRID_ROW + 1
    y = 1 - (panel["gridPos"]["y"] * INCH_PER_GRID_ROW + 0.95) / height
    figure.text(0.01, y, panel.get("title", ""), fontsize=12, weight="bold", color="#333333")


def _defaults(panel: Mapping[str, Any]) -> dict[str, Any]:
    return dict(panel.get("fieldConfig", {}).get("defaults", {}))


def _format(value: float, unit: str, decimals: int | None) -> str:
    """A value as Grafana would print it in this unit (SI prefixes for Hz, s, ops)."""
    if not math.isfinite(value):
        return "NaN" if math.isnan(value) else str(value)
    if unit == "percentunit":
        return f"{value * 100:.{1 if decimals is None else decimals}f}%"
    if unit in _ENGINEERING:
        from matplotlib.ticker import EngFormatter

        return EngFormatter(unit=_ENGINEERING[unit], places=decimals)(value)
    if decimals is not None:
        return f"{value:.{decimals}f}"
    return f"{value:.4g}"


def _axis_formatter(unit: str, decimals: int | None) -> Any:
    from matplotlib.ticker import EngFormatter, FuncFormatter, PercentFormatter

    if unit == "percentunit":
        return PercentFormatter(1.0)
    if unit in _ENGINEERING:
        return EngFormatter(unit=_ENGINEERING[unit])
    return FuncFormatter(lambda v, _: f"{v:.{decimals}f}" if decimals is not None else f"{v:g}")


def _alarm(defaults: Mapping[str, Any]) -> float | None:
    """The value from which a panel's thresholds turn red, if they do."""
    steps = (defaults.get("thresholds") or {}).get("steps") or []
    red = [s["value"] for s in steps if s.get("color") == "red" and s.get("value") is not None]
    return min(red) if red else None


def _no_data(axes: Any) -> None:
    axes.text(
        0.5,
        0.5,
        "No data",
        ha="center",
        va="center",
        fontsize=12,
        color="grey",
        transform=axes.transAxes,
    )
    axes.set_xticks([])
    axes.set_yticks([])


def _timeseries(
    axes: Any, panel: Mapping[str, Any], found: list[Series], span: tuple[float, float]
) -> None:
    import matplotlib.dates as mdates

    defaults = _defaults(panel)
    unit, decimals = defaults.get("unit", "short"), defaults.get("decimals")
    axes.set_title(panel.get("title", ""), fontsize=10, loc="left")
    if not any(math.isfinite(v) for s in found for v in s.values):
        _no_data(axes)
        return
    for series in found:
        when = [datetime.fromtimestamp(t) for t in series.times]
        style = (
            {"color": "red", "linestyle": "--", "linewidth": 1.2}
            if series.floor
            else {"linewidth": 1.4}
        )
        axes.plot(when, series.values, label=series.legend, **style)
    alarm = _alarm(defaults)
    if alarm is not None:  # Grafana colors the region beyond the red threshold
        axes.axhline(alarm, color="red", linewidth=0.8, alpha=0.5)
    low, high = defaults.get("min"), defaults.get("max")
    if low is not None or high is not None:
        axes.set_ylim(bottom=low, top=high)
    margin = max(1.0, (span[1] - span[0]) * 0.02)
    axes.set_xlim(
        datetime.fromtimestamp(span[0] - margin), datetime.fromtimestamp(span[1] + margin)
    )
    axes.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    axes.xaxis.set_major_locator(mdates.AutoDateLocator(maxticks=5))
    axes.yaxis.set_major_formatter(_axis_formatter(unit, decimals))
    axes.tick_params(labelsize=8)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=7, loc="upper left", ncol=2, framealpha=0.6)


def _stat(axes: Any, panel: Mapping[str, Any], found: list[Series]) -> None:
    """Each series' last value in a box (a word where a value mapping names it), red past
    the alarm threshold."""
    defaults = _defaults(panel)
    unit, decimals = defaults.get("unit", "short"), defaults.get("decimals")
    words = {
        key: found["text"]
        for mapping in defaults.get("mappings") or []
        if mapping.get("type") == "value"
        for key, found in mapping["options"].items()
    }
    alarm = _alarm(defaults)
    axes.set_title(panel.get("title", ""), fontsize=10, loc="left")
    axes.set_xticks([])
    axes.set_yticks([])
    shown = []
    for series in found:
        last = next((v for v in reversed(series.values) if math.isfinite(v)), None)
        if last is not None:
            shown.append((series.legend, last))
    if not shown:
        _no_data(axes)
        return
    width = 1 / len(shown)
    for i, (name, value) in enumerate(shown):
        red = alarm is not None and value >= alarm
        color = "#d44a3a" if red else ("#299c46" if alarm is not None else "#f4f4f4")
        axes.add_patch(_box(i * width, width, color, axes))
        text = words.get(f"{value:g}") or _format(value, unit, decimals)
        ink = "white" if alarm is not None else "black"
        # as large as fits the box: about 1.6 points per character per inch of box width
        box_inches = axes.get_position().width * axes.figure.get_figwidth() * width
        size = max(6.0, min(20.0, box_inches * 110 / max(len(text), 1)))
        axes.text(
            i * width + width / 2,
            0.55,
            text,
            ha="center",
            va="center",
            fontsize=size,
            color=ink,
            weight="bold",
            transform=axes.transAxes,
        )
        fits = max(4, int(box_inches * 72 / (0.85 * 6)) - 2)  # 6 pt characters in the box
        name = name if len(name) <= fits else "…" + name[-(fits - 1) :]  # the tail tells runs apart
        axes.text(
            i * width + width / 2,
            0.2,
            name,
            ha="center",
            va="center",
            fontsize=6,
            color=ink,
            transform=axes.transAxes,
        )


def _box(x: float, width: float, color: str, axes: Any) -> Any:
    from matplotlib.patches import Rectangle

    return Rectangle((x + 0.005, 0.02), width - 0.01, 0.96, color=color, transform=axes.transAxes)
