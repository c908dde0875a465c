"""Request arrivals: when a tenant asks for a pair (Poisson by default, or evenly spaced).

Times are emulated seconds from the start of the run. A tenant's source node draws each
gap from its own generator as the run goes, so demand costs nothing up front however long
the run; ``request_times`` lists a whole stream (for tests and planning).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from qnemu.scenario import TenantSpec

#: How requests arrive: a Poisson process, one every 1/rate seconds, or always one waiting.
ARRIVALS = ("poisson", "constant", "backlog")


def request_gap_s(rng: np.random.Generator, rate_hz: float, arrivals: str = "poisson") -> float:
    """Seconds until the next request: exponential with mean 1/``rate_hz`` (Poisson
    arrivals) or exactly 1/``rate_hz`` (``constant``); ``math.inf`` at rate 0 and for a
    ``backlog`` (its requests are always waiting, none arrives)."""
    rate = float(rate_hz)
    if not (0.0 <= rate < math.inf):
        raise ValueError(f"rate_hz: must be finite and >= 0, got {rate_hz!r}")
    if arrivals not in ARRIVALS:
        raise ValueError(f"arrivals: must be one of {', '.join(ARRIVALS)}, got {arrivals!r}")
    if rate == 0.0 or arrivals == "backlog":
        return math.inf
    return float(rng.exponential(1.0 / rate)) if arrivals == "poisson" else 1.0 / rate


def request_times(
    rng: np.random.Generator, rate_hz: float, duration_s: float, arrivals: str = "poisson"
) -> np.ndarray:
    """Sorted arrival times (s) in [0, duration_s), built from :func:`request_gap_s`."""
    duration = float(duration_s)
    if not (0.0 <= duration < math.inf):
        raise ValueError(f"duration_s: must be finite and >= 0, got {duration_s!r}")
    times, t = [], request_gap_s(rng, rate_hz, arrivals)
    while t < duration:
        times.append(t)
        t += request_gap_s(rng, rate_hz, arrivals)
    return np.asarray(times, dtype=float)


def request_streams(
    tenants: Iterable[TenantSpec], seed: int | np.random.SeedSequence, duration_s: float
) -> dict[str, np.ndarray]:
    """Arrival times per tenant name; one generator per tenant spawned from ``seed``."""
    tenants = list(tenants)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = root.spawn(len(tenants))
    return {
        t.name: request_times(np.random.default_rng(child), t.rate_hz, duration_s, t.arrivals)
        for t, child in zip(tenants, children, strict=True)
    }
