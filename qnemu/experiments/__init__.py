"""Comparison experiments across control planes: runs, statistics, tables and plots.

``compare(scenario, controllers, repeats, seed, sweep, ...)`` runs every controller on the
same scenario with the same seeds over a sweep grid and writes a comparison folder
(``runs.csv``, ``summary.json``, ``table.md``, PNG plots, each run's own results folder).

Names are imported on first use, so ``qnemu --help`` does not pay for matplotlib.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ComparisonInterrupted",
    "Interval",
    "Sweep",
    "compare",
    "export_parquet",
    "load_runs",
    "mean_ci",
    "parse_controllers",
    "parse_sweep",
]

_HOME = {
    "ComparisonInterrupted": "qnemu.experiments.runner",
    "compare": "qnemu.experiments.runner",
    "export_parquet": "qnemu.experiments.frames",
    "load_runs": "qnemu.experiments.frames",
    "Interval": "qnemu.experiments.stats",
    "mean_ci": "qnemu.experiments.stats",
    "Sweep": "qnemu.experiments.plan",
    "parse_controllers": "qnemu.experiments.plan",
    "parse_sweep": "qnemu.experiments.plan",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'qnemu.experiments' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
