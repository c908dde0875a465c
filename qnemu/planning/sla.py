"""Quantum SLAs: the probability that a window holds enough good pairs, from the model.

A tenant's SLA ``{probability: p, window_s: w}`` asks that each window of w emulated
seconds bring at least ``k = ceil(rate_hz x w)`` delivered pairs with fidelity >= f_min,
with probability >= p. The model treats the tenant's good deliveries as a stationary
renewal process whose gaps T have the moments the digital twin measured (E[T], E[T^2],
E[T^3], over consecutive good deliveries). A window of a stationary renewal process holds
at least k events exactly when the k-th event after the window opens comes before it
closes: N(w) >= k  <=>  S_k = R + T_2 + ... + T_k <= w, where R is the residual gap at
the window's start (stationary forward recurrence: E[R] = E[T^2] / 2E[T],
E[R^2] = E[T^3] / 3E[T]). S_k is a sum of k independent positive terms with

    E[S_k] = E[R] + (k - 1) E[T],   Var S_k = Var R + (k - 1) Var T,

and is taken as the gamma distribution with that mean and variance (exact for Poisson
deliveries, where S_k is Erlang; the central limit theorem for large k, with the right
skew for small k): P(N(w) >= k) = P(S_k <= w) = regularized lower gamma(shape, w / scale).

Pure functions of floats; docs/service.md derives it and reports its calibration.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass

#: Fewer good gaps than this and the model has no moments to speak of (probability 0).
MIN_GAPS = 10


@dataclass(frozen=True)
class GapMoments:
    """Raw moments of the gap between a tenant's consecutive good deliveries (s, s^2, s^3)
    and how many gaps they were taken over."""

    m1: float
    m2: float
    m3: float
    n: int

    @property
    def std_s(self) -> float:
        """Standard deviation of the gap (s)."""
        return math.sqrt(max(0.0, self.m2 - self.m1 * self.m1))


def gap_moments(times_s: Sequence[float]) -> GapMoments | None:
    """Moments of the gaps between sorted event times (None with fewer than
    :data:`MIN_GAPS` gaps)."""
    gaps = [b - a for a, b in itertools.pairwise(times_s)]
    if len(gaps) < MIN_GAPS:
        return None
    n = len(gaps)
    return GapMoments(
        math.fsum(gaps) / n,
        math.fsum(g * g for g in gaps) / n,
        math.fsum(g**3 for g in gaps) / n,
        n,
    )


def target_pairs(rate_hz: float, window_s: float) -> int:
    """Pairs a window must hold: ``rate_hz x window_s``, rounded up (a tiny tolerance
    keeps 10 Hz x 0.1 s at 1)."""
    return max(0, math.ceil(rate_hz * window_s - 1e-9))


def window_probability(target: int, window_s: float, moments: GapMoments | None) -> float:
    """P(at least ``target`` good pairs in a window of ``window_s``) under the renewal
    model (module docstring); 0 without moments, 1 for a target of 0."""
    if target <= 0:
        return 1.0
    if moments is None or moments.m1 <= 0.0:
        return 0.0
    mean_r = moments.m2 / (2.0 * moments.m1)
    var_r = max(0.0, moments.m3 / (3.0 * moments.m1) - mean_r * mean_r)
    var_t = moments.std_s**2
    mean = mean_r + (target - 1) * moments.m1
    sd = math.sqrt(var_r + (target - 1) * var_t)
    if sd == 0.0:
        return 1.0 if mean <= window_s else 0.0
    # imported here: scipy.special takes ~0.14 s to import, which every node actor and
    # every CLI start would pay, and only admission with an SLA needs it
    from scipy.special import gammainc

    shape, scale = (mean / sd) ** 2, sd * sd / mean
    return float(gammainc(shape, window_s / scale))
