"""From the rows of ``runs.csv`` to statistics: groups, ``table.md``, ``summary.json`` and
the terminal table.

A group is one (sweep point, controller). Its statistics use only the runs that were not
overloaded (an overloaded run's timing is not trusted, DESIGN: Time); how many were
excluded is shown next to every group. Everything is computed from the CSV text, so a
resumed comparison and a fresh one report the same way.

Tables fit :data:`MAX_WIDTH` characters (the terminal's width, if narrower): metrics that
do not fit go to a further table that repeats the keys, so no name is ever cut. Intervals
are shown clipped to the metric's range (``metrics.BOUNDS``), with a note where that
happened; ``summary.json`` keeps them raw.
"""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, ConsoleOptions, RenderResult
from rich.table import Table
from rich.text import Text

from qnemu.experiments.metrics import (
    FAULT_METRICS,
    TENANT_METRICS,
    TOTAL_METRICS,
    metric_bounds,
    tenant_column,
)
from qnemu.experiments.stats import Interval, format_interval, mean_ci

__all__ = [
    "APP_TABLE",
    "FAULT_TABLE",
    "MAX_WIDTH",
    "TABLE_METRICS",
    "Column",
    "ComparisonTable",
    "Group",
    "Section",
    "group_rows",
    "markdown_table",
    "rich_table",
    "sections",
    "split_columns",
    "table_width",
    "write_summary",
]

#: Whole-run columns of the table: (column, heading, scale for display).
TABLE_METRICS = (
    ("rate_hz", "rate (Hz)", 1.0),
    ("fidelity_mean", "F mean", 1.0),
    ("utility", "utility", 1.0),
    ("violations", "violations", 1.0),
    ("controller_decision_latency_s", "decision (ms)", 1e3),
    ("lateness_p99_s", "lateness p99 (ms)", 1e3),
    ("tenants_admitted", "admitted", 1.0),
    ("sla_met_ratio", "SLA met", 1.0),
)
#: Columns of the faults table (a run with faults only): (column, heading, scale).
FAULT_TABLE = (
    ("fault_detected_s", "detected (ms)", 1e3),
    ("fault_recovered_s", "recovered (ms)", 1e3),
    ("fault_pairs_lost", "pairs lost", 1.0),
    ("fault_rate_hz", "rate in fault (Hz)", 1.0),
)
#: Per-tenant columns of the tenant tables.
TENANT_TABLE = (
    ("rate_hz", "rate (Hz)", 1.0),
    ("fidelity_mean", "F mean", 1.0),
    ("utility", "utility", 1.0),
)
#: Per-tenant application columns (``tenant.<name>.<app>.<field>``), in one further table
#: per tenant whose app reported any: (metric, heading, scale for display).
APP_TABLE = (
    ("qkd.secret_key_rate_bps", "key rate (bps)", 1.0),
    ("qkd.finite_key_rate_bps", "finite key (bps)", 1.0),
    ("qkd.qber_z", "QBER Z", 1.0),
    ("qkd.qber_x", "QBER X", 1.0),
    ("teleport.fidelity_mean", "teleport F", 1.0),
    ("dqc.gate_fidelity_mean", "gate F", 1.0),
    ("dqc.circuit_time_mean_s", "circuit (ms)", 1e3),
    ("dqc.circuit_fidelity_mean", "circuit F", 1.0),
    ("ghz.states", "GHZ states", 1.0),
    ("ghz.fidelity_mean", "GHZ F", 1.0),
    ("sensing.estimator_variance_rad2", "phase var (rad²)", 1.0),
    ("qfl.rounds", "rounds", 1.0),
    ("qfl.round_time_mean_s", "round (ms)", 1e3),
    ("qfl.round_time_p95_s", "round p95 (ms)", 1e3),
    ("qfl.straggler_time_s", "straggler (ms)", 1e3),
    ("qfl.round_fidelity_mean", "round F", 1.0),
    ("qfl.updates_rejected", "rejected", 1.0),
)
#: The widest a table may be, in characters (markdown source and terminal alike); more
#: metrics than fit go to a further table that repeats the sweep point and controller.
MAX_WIDTH = 100
#: Said under a table where some interval was clipped to its metric's range.
CLIPPED_NOTE = (
    "[a, b]: the 95% interval clipped to what the metric can take (rates, "
    "counts, latencies and utility are >= 0, fidelity <= 1); summary.json "
    "keeps the raw mean ± half-width."
)
LEGEND = (
    "Mean ± half-width of the 95% t-interval over repeats, both to the interval's "
    "precision. runs: the group's runs, and in brackets how many of them were "
    "overloaded and are excluded from its statistics."
)


@dataclass(frozen=True)
class Group:
    """The runs of one controller at one sweep point, and their statistics."""

    point: tuple[tuple[str, str], ...]
    controller: str
    runs: int
    excluded: int
    stats: Mapping[str, Interval]

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``summary.json``."""
        return {
            "point": dict(self.point),
            "controller": self.controller,
            "runs": self.runs,
            "excluded_overloaded": self.excluded,
            "metrics": {k: v.to_dict() for k, v in self.stats.items()},
        }


def is_overloaded(row: Mapping[str, str]) -> bool:
    """Whether a CSV row is marked overloaded."""
    return row.get("overloaded", "") == "true"


def group_rows(
    rows: Sequence[Mapping[str, str]],
    params: Sequence[str],
    controllers: Sequence[str],
    metrics: Sequence[str],
) -> list[Group]:
    """Groups in sweep-point order (as first seen), then in ``controllers`` order; a
    controller only found in the rows (a resumed, wider comparison) comes last."""
    buckets: dict[tuple, list[Mapping[str, str]]] = {}
    for row in rows:
        point = tuple((p, row.get(p, "")) for p in params)
        buckets.setdefault((point, row["controller"]), []).append(row)
    order = {c: i for i, c in enumerate(controllers)}
    points = list(dict.fromkeys(point for point, _ in buckets))
    keys = sorted(buckets, key=lambda k: (points.index(k[0]), order.get(k[1], len(order)), k[1]))
    groups = []
    for point, controller in keys:
        members = buckets[(point, controller)]
        kept = [r for r in members if not is_overloaded(r)]
        stats = {m: mean_ci(r.get(m) for r in kept) for m in metrics}
        groups.append(Group(point, controller, len(members), len(members) - len(kept), stats))
    return groups


def _shown(groups: Sequence[Group], metrics: Sequence[tuple[str, str, float]]) -> list:
    """The table columns that have at least one measured value."""
    return [m for m in metrics if any(g.stats[m[0]].n for g in groups)]


@dataclass(frozen=True)
class Column:
    """One column of a table: heading, cells, and whether it holds numbers (right-aligned)."""

    heading: str
    cells: tuple[str, ...]
    numeric: bool = True

    @property
    def width(self) -> int:
        """Characters of its widest line (heading or cell)."""
        return max(len(self.heading), *(len(c) for c in self.cells), 1)


@dataclass(frozen=True)
class Section:
    """The columns of one table before it is split to fit: the keys naming each row
    (sweep point, controller, runs) and the metrics, and whether a metric was clipped."""

    heading: str
    keys: tuple[Column, ...]
    metrics: tuple[Column, ...]
    clipped: bool


def table_width(columns: Sequence[Column]) -> int:
    """Characters of a table's lines, ``| a | b |`` (the same for rich's default box)."""
    return 1 + sum(c.width + 3 for c in columns)


def split_columns(section: Section, width: int = MAX_WIDTH) -> list[tuple[Column, ...]]:
    """The section as tables no wider than ``width``: each repeats the key columns and
    takes the next metrics that fit (at least one, so a table too wide for its keys
    alone still shows every metric, one per table)."""
    tables: list[tuple[Column, ...]] = []
    current: list[Column] = []
    for metric in section.metrics:
        if current and table_width([*section.keys, *current, metric]) > width:
            tables.append((*section.keys, *current))
            current = []
        current.append(metric)
    if current or not tables:
        tables.append((*section.keys, *current))
    return tables


def _key_columns(groups: Sequence[Group], params: Sequence[str]) -> tuple[Column, ...]:
    """Sweep values, controller (whole: never cut) and runs (excluded)."""
    columns = [
        Column(p.rsplit(".", 1)[-1], tuple(dict(g.point)[p] for g in groups), False) for p in params
    ]
    columns.append(Column("controller", tuple(g.controller for g in groups), False))
    columns.append(Column("runs", tuple(f"{g.runs} ({g.excluded})" for g in groups)))
    return tuple(columns)


def _section(
    heading: str,
    groups: Sequence[Group],
    params: Sequence[str],
    metrics: Sequence[tuple[str, str, float]],
) -> Section:
    shown = _shown(groups, metrics)
    columns = tuple(
        Column(title, tuple(format_interval(g.stats[c], scale, metric_bounds(c)) for g in groups))
        for c, title, scale in shown
    )
    clipped = any(g.stats[c].is_clipped(metric_bounds(c)) for g in groups for c, _, _ in shown)
    return Section(heading, _key_columns(groups, params), columns, clipped)


def sections(
    groups: Sequence[Group], params: Sequence[str], tenants: Sequence[str]
) -> list[Section]:
    """The whole-network section, the faults (if any), then one per tenant and one per
    tenant's application results (tenants with nothing measured are left out)."""
    out = [_section("Whole network", groups, params, TABLE_METRICS)]
    faults = _section("Faults", groups, params, FAULT_TABLE)
    if faults.metrics:
        out.append(faults)
    for tenant in tenants:
        columns = [(tenant_column(tenant, m), heading, scale) for m, heading, scale in TENANT_TABLE]
        section = _section(f"Tenant {tenant}", groups, params, columns)
        if section.metrics:
            out.append(section)
        columns = [(tenant_column(tenant, m), heading, scale) for m, heading, scale in APP_TABLE]
        section = _section(f"Tenant {tenant}: application", groups, params, columns)
        if section.metrics:
            out.append(section)
    return out


def _markdown(columns: Sequence[Column]) -> list[str]:
    """A markdown table with its cells padded, so the source reads as a table too."""

    def line(cells: Sequence[str]) -> str:
        padded = [
            cell.rjust(c.width) if c.numeric else cell.ljust(c.width)
            for c, cell in zip(columns, cells, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (c.width + 1) + (":" if c.numeric else "-") for c in columns) + "|"
    rows = zip(*(c.cells for c in columns), strict=True)
    return [line([c.heading for c in columns]), rule, *(line(r) for r in rows)]


def markdown_table(
    groups: Sequence[Group], params: Sequence[str], tenants: Sequence[str], title: str
) -> str:
    """``table.md``: mean ± 95% CI per controller and sweep point, whole network and per
    tenant, each split into tables of at most :data:`MAX_WIDTH` characters."""
    excluded = sum(g.excluded for g in groups)
    parts = [
        f"# {title}",
        "",
        textwrap.fill(LEGEND, MAX_WIDTH),
        "",
        f"Overloaded runs excluded from the statistics: {excluded}.",
        "",
    ]
    for section in sections(groups, params, tenants):
        parts += [f"## {section.heading}", ""]
        for columns in split_columns(section):
            parts += [*_markdown(columns), ""]
        if section.clipped:
            parts += [textwrap.fill(CLIPPED_NOTE, MAX_WIDTH), ""]
    return "\n".join(parts)


class ComparisonTable:
    """The terminal table of the whole-network metrics: split into as many tables as the
    console's width (at most :data:`MAX_WIDTH`) needs, so no name is ever cut."""

    def __init__(self, section: Section, title: str, caption: str) -> None:
        self.section, self.title, self.caption = section, title, caption

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """A title line, the tables, and the caption (with the clipping note if needed)."""
        yield Text(self.title, style="bold")
        for columns in split_columns(self.section, min(options.max_width, MAX_WIDTH)):
            table = Table()
            for column in columns:
                # fold rather than cut: a console narrower than the keys wraps a name
                table.add_column(
                    column.heading, justify="right" if column.numeric else "left", overflow="fold"
                )
            for row in zip(*(c.cells for c in columns), strict=True):
                table.add_row(*row)
            yield table
        yield Text(self.caption, style="dim")


def rich_table(groups: Sequence[Group], params: Sequence[str], title: str) -> ComparisonTable:
    """The terminal table (whole-network metrics)."""
    section = sections(groups, params, ())[0]
    caption = f"mean ± 95% CI; overloaded runs excluded: {sum(g.excluded for g in groups)}" + (
        f"\n{CLIPPED_NOTE}" if section.clipped else ""
    )
    return ComparisonTable(section, title, caption)


def write_summary(
    path: Path, plan: Mapping[str, Any], rows: Sequence[Mapping[str, str]], groups: Sequence[Group]
) -> None:
    """``summary.json``: the plan, every run row, and every group's statistics."""
    data = {
        **plan,
        "runs": list(rows),
        "groups": [g.to_dict() for g in groups],
        "excluded_overloaded": sum(g.excluded for g in groups),
    }
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2))
    os.replace(temporary, path)


def all_metrics(tenants: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """Every numeric column the statistics cover."""
    columns = list(TOTAL_METRICS) + list(FAULT_METRICS) + list(extra)
    columns += [tenant_column(t, m) for t in tenants for m in TENANT_METRICS]
    columns += [tenant_column(t, m) for t in tenants for m, _, _ in APP_TABLE]
    return columns
