"""Statistics for comparisons: the sample mean and its t-based confidence interval.

A comparison repeats each (controller, sweep point) a handful of times, so the interval
uses Student's t with n - 1 degrees of freedom, not the normal approximation:
``mean ± t_{(1+c)/2, n-1} · s / sqrt(n)`` with ``s`` the sample standard deviation
(``ddof=1``). One sample has a mean but no interval.

The interval is symmetric and knows nothing of a metric's range; :meth:`Interval.ends`
clips it to one (a rate cannot be negative) for display, the raw half-width stays in the
data. :func:`format_interval` writes mean and interval to the same decimal place, chosen
from the interval's size (two significant digits of the half-width).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from scipy import stats

__all__ = ["Bounds", "Interval", "decimals", "format_interval", "mean_ci", "numbers"]

#: A metric's range, (low, high); None for an open end.
Bounds = tuple[float | None, float | None]
#: Significant digits of the half-width that set the decimal place.
HALF_WIDTH_DIGITS = 2
#: Significant digits of the mean shown at most (an interval of 1e-16 is rounding noise)
#: and shown for a mean without an interval.
MEAN_DIGITS = 4
#: A half-width below this fraction of the mean is floating-point noise around a constant
#: sample (0.9224 ± 5e-16), shown as ± 0.
NOISE = 1e-9


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
        if self.half_width is None or self.mean is None:
            return None
        return self.mean - self.half_width

    @property
    def high(self) -> float | None:
        """Upper end of the interval (None without one)."""
        if self.half_width is None or self.mean is None:
            return None
        return self.mean + self.half_width

    def ends(self, bounds: Bounds = (None, None)) -> tuple[float, float] | None:
        """The interval's ends clipped to ``bounds`` (None without an interval)."""
        if self.low is None or self.high is None:
            return None
        low, high = bounds
        return (
            self.low if low is None else max(self.low, low),
            self.high if high is None else min(self.high, high),
        )

    def is_clipped(self, bounds: Bounds = (None, None)) -> bool:
        """Whether ``bounds`` cut the interval (its display then differs from mean ± h)."""
        ends = self.ends(bounds)
        return ends is not None and ends != (self.low, self.high)

    def to_dict(self) -> dict[str, float | int | None]:
        """Plain data for ``summary.json``."""
        return {
            "n": self.n,
            "mean": self.mean,
            "half_width": self.half_width,
            "low": self.low,
            "high": self.high,
        }


def numbers(values: Iterable[object]) -> list[float]:
    """The finite numbers among ``values``; empty cells (None, "") are skipped.

    CSV cells arrive as text, so text is parsed; text that is not a number is a ValueError
    naming it (a corrupt ``runs.csv`` must not be averaged silently).
    """
    out = []
    for value in values:
        if value is None or value == "":
            continue
        number = float(value if isinstance(value, int | float) else str(value))  # ValueError
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


def decimals(mean: float, half_width: float | None) -> int | None:
    """The decimal place both numbers are rounded to (negative: tens, hundreds...).

    Two significant digits of the half-width, but never more than four of the mean: a
    constant sample's 5e-16 is floating-point noise, not precision. None where nothing
    sets a place (no interval, a zero one, or one below :data:`NOISE` of the mean): the
    mean is then shown to four significant digits on its own.
    """
    if not half_width or abs(half_width) <= NOISE * abs(mean):
        return None
    place = _place(half_width, HALF_WIDTH_DIGITS)
    if _place(round(abs(half_width), place), HALF_WIDTH_DIGITS) < place:
        place -= 1  # 9.97 rounds up to 10.0, a third digit: shown as 10
    return min(place, _place(mean, MEAN_DIGITS)) if mean else place


def _place(value: float, digits: int) -> int:
    """The decimal place of ``value``'s ``digits``-th significant digit."""
    return digits - 1 - math.floor(math.log10(abs(value)))


def _fixed(value: float, places: int) -> str:
    rounded = round(value, places) + 0.0  # + 0.0 turns -0.0 into 0.0
    return f"{rounded:.{max(places, 0)}f}"


def format_interval(interval: Interval, scale: float = 1.0, bounds: Bounds = (None, None)) -> str:
    """``0.498 ± 0.012``: mean and half-width to the same decimal place, set by the
    half-width (:func:`decimals`); ``30 [0, 94]`` where ``bounds`` clip the interval
    (``30 ± 64`` of a rate); ``2`` for one sample (four significant digits); ``-`` for
    none. ``bounds`` are in the interval's units, before ``scale``."""
    if interval.mean is None:
        return "-"
    mean = interval.mean * scale
    ends = interval.ends(bounds)
    if ends is None or interval.half_width is None:
        return f"{mean:.{MEAN_DIGITS}g}"
    half = interval.half_width * scale
    places = decimals(mean, half)
    if places is None:  # a constant sample: exact, nothing to round to
        return f"{mean:.{MEAN_DIGITS}g} ± 0"
    if interval.is_clipped(bounds):
        low, high = (end * scale for end in ends)
        return f"{_fixed(mean, places)} [{_fixed(low, places)}, {_fixed(high, places)}]"
    return f"{_fixed(mean, places)} ± {_fixed(half, places)}"
