"""Statistics for comparisons: the sample mean and its t-based confidence interval.

A comparison repeats each (controller, sweep point) a handful of times, so the interval
uses Student's t with n - 1 degrees of freedom, not the normal approximation:
``mean ± t_{(1+c)/2, n-1} · s / sqrt(n)`` with ``s`` the sample standard deviation
(``ddof=1``). One sample has a mean but no interval.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Interval", "format_interval", "mean_ci", "numbers"]


@dataclass(frozen=True)
class Interval:
    """A sample's size, mean and confidence half-width (None where undefined)."""

    n: int
    mean: float | None
    half_width: float | None
    confidence: float = 0.95

    @property
    def low(self) -> float | None:
        """Lower end of the interval (None without one)."""
        return None if self.half_width is None else self.mean - self.half_width

    @property
    def high(self) -> float | None:
        """Upper end of the interval (None without one)."""
        return None if self.half_width is None else self.mean + self.half_width

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain data for ``summary.json``."""
        return {"n": self.n, "mean": self.mean, "half_width": self.half_width,
                "low": self.low, "high": self.high}


def numbers(values: Iterable[object]) -> list[float]:
    """The finite numbers among ``values``; empty cells (None, "") are skipped.

    CSV cells arrive as text, so text is parsed; text that is not a number is a ValueError
    naming it (a corrupt ``runs.csv`` must not be averaged silently).
    """
    out = []
    for value in values:
        if value is None or value == "":
            continue
        number = float(value)  # raises ValueError naming the text
        if math.isfinite(number):
            out.append(number)
    return out


def mean_ci(values: Iterable[object], confidence: float = 0.95) -> Interval:
    """Mean and t-based ``confidence`` interval half-width of the numbers in ``values``."""
    if not 0 < confidence < 1:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence}")
    sample = np.asarray(numbers(values), dtype=float)
    n = int(sample.size)
    if n == 0:
        return Interval(0, None, None, confidence)
    mean = float(sample.mean())
    if n == 1:
        return Interval(1, mean, None, confidence)
    t = float(stats.t.ppf((1 + confidence) / 2, n - 1))
    half = t * float(sample.std(ddof=1)) / math.sqrt(n)
    return Interval(n, mean, half, confidence)


def format_interval(interval: Interval, scale: float = 1.0) -> str:
    """``12.3 ± 0.456`` (4 significant digits), ``12.3`` for one sample, ``-`` for none."""
    if interval.mean is None:
        return "-"
    mean = f"{interval.mean * scale:.4g}"
    if interval.half_width is None:
        return mean
    return f"{mean} ± {interval.half_width * scale:.4g}"
