"""From the rows of ``runs.csv`` to statistics: groups, ``table.md``, ``summary.json`` and
the terminal table.

A group is one (sweep point, controller). Its statistics use only the runs that were not
overloaded (an overloaded run's timing is not trusted, DESIGN: Time); how many were
excluded is shown next to every group. Everything is computed from the CSV text, so a
resumed comparison and a fresh one report the same way.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.table import Table

from qnemu.experiments.metrics import TENANT_METRICS, TOTAL_METRICS, tenant_column
from qnemu.experiments.stats import Interval, format_interval, mean_ci

__all__ = ["TABLE_METRICS", "Group", "group_rows", "markdown_table", "rich_table",
           "write_summary"]

#: Whole-run columns of the table: (column, heading, scale for display).
TABLE_METRICS = (
    ("rate_hz", "rate (Hz)", 1.0),
    ("fidelity_mean", "F mean", 1.0),
    ("utility", "utility", 1.0),
    ("violations", "violations", 1.0),
    ("controller_decision_latency_s", "decision (ms)", 1e3),
    ("lateness_p99_s", "lateness p99 (ms)", 1e3),
)
#: Per-tenant columns of the tenant table.
TENANT_TABLE = (("rate_hz", "rate (Hz)", 1.0), ("fidelity_mean", "F mean", 1.0),
                ("utility", "utility", 1.0))


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
        return {"point": dict(self.point), "controller": self.controller, "runs": self.runs,
                "excluded_overloaded": self.excluded,
                "metrics": {k: v.to_dict() for k, v in self.stats.items()}}


def is_overloaded(row: Mapping[str, str]) -> bool:
    """Whether a CSV row is marked overloaded."""
    return row.get("overloaded", "") == "true"


def group_rows(rows: Sequence[Mapping[str, str]], params: Sequence[str],
               controllers: Sequence[str], metrics: Sequence[str]) -> list[Group]:
    """Groups in sweep-point order (as first seen), then in ``controllers`` order; a
    controller only found in the rows (a resumed, wider comparison) comes last."""
    buckets: dict[tuple, list[Mapping[str, str]]] = {}
    for row in rows:
        point = tuple((p, row.get(p, "")) for p in params)
        buckets.setdefault((point, row["controller"]), []).append(row)
    order = {c: i for i, c in enumerate(controllers)}
    points = list(dict.fromkeys(point for point, _ in buckets))
    keys = sorted(buckets, key=lambda k: (points.index(k[0]), order.get(k[1], len(order)),
                                          k[1]))
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


def _header(params: Sequence[str]) -> list[str]:
    return [*(p.rsplit(".", 1)[-1] for p in params), "controller", "runs (excluded)"]


def _cells(group: Group, columns: Sequence[tuple[str, str, float]]) -> list[str]:
    head = [v for _, v in group.point] + [group.controller, f"{group.runs} ({group.excluded})"]
    return head + [format_interval(group.stats[c], scale) for c, _, scale in columns]


def _tenant_columns(tenants: Sequence[str]) -> list[tuple[str, str, float]]:
    return [(tenant_column(t, m), f"{t} {heading}", scale)
            for t in tenants for m, heading, scale in TENANT_TABLE]


def markdown_table(groups: Sequence[Group], params: Sequence[str],
                   tenants: Sequence[str], title: str) -> str:
    """``table.md``: mean ± 95% CI per controller and sweep point, whole-run and per tenant."""
    excluded = sum(g.excluded for g in groups)
    parts = [f"# {title}", "",
             "Mean ± half-width of the 95% t-interval over repeats. "
             f"Overloaded runs excluded from the statistics: {excluded}.", ""]
    for heading, columns in (("Whole network", TABLE_METRICS),
                             ("Per tenant", _tenant_columns(tenants))):
        shown = _shown(groups, columns)
        header = _header(params) + [h for _, h, _ in shown]
        parts += [f"## {heading}", "", "| " + " | ".join(header) + " |",
                  "|" + "|".join("---" for _ in header) + "|"]
        parts += ["| " + " | ".join(_cells(g, shown)) + " |" for g in groups]
        parts.append("")
    return "\n".join(parts)


def rich_table(groups: Sequence[Group], params: Sequence[str], title: str) -> Table:
    """The terminal table (whole-network metrics)."""
    shown = _shown(groups, TABLE_METRICS)
    table = Table(title=title, caption=f"mean ± 95% CI; overloaded runs excluded: "
                                       f"{sum(g.excluded for g in groups)}")
    for heading in _header(params) + [h for _, h, _ in shown]:
        table.add_column(heading, justify="right")
    for group in groups:
        table.add_row(*_cells(group, shown))
    return table


def write_summary(path: Path, plan: Mapping[str, Any], rows: Sequence[Mapping[str, str]],
                  groups: Sequence[Group]) -> None:
    """``summary.json``: the plan, every run row, and every group's statistics."""
    data = {**plan, "runs": list(rows), "groups": [g.to_dict() for g in groups],
            "excluded_overloaded": sum(g.excluded for g in groups)}
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(data, indent=2))
    os.replace(temporary, path)


def all_metrics(tenants: Sequence[str], extra: Sequence[str] = ()) -> list[str]:
    """Every numeric column the statistics cover."""
    columns = list(TOTAL_METRICS) + list(extra)
    columns += [tenant_column(t, m) for t in tenants for m in TENANT_METRICS]
    return columns
