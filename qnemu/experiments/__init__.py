"""Comparison experiments across control planes: runs, statistics, tables and plots.

``compare(scenario, controllers, repeats, seed, sweep, ...)`` runs every controller on the
same scenario with the same seeds over a sweep grid and writes a comparison folder
(``runs.csv``, ``summary.json``, ``table.md``, PNG plots, each run's own results folder).
"""

from qnemu.experiments.plan import Sweep, parse_controllers, parse_sweep
from qnemu.experiments.runner import ComparisonInterrupted, compare
from qnemu.experiments.stats import Interval, mean_ci

__all__ = ["ComparisonInterrupted", "Interval", "Sweep", "compare", "mean_ci",
           "parse_controllers", "parse_sweep"]
