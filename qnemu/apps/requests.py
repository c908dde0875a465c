"""Request generators: when each tenant asks for a pair (Poisson arrivals).

Times are emulated seconds from the start of the run. Each tenant draws from its own
generator, spawned from one ``SeedSequence`` so runs are reproducible and tenants
independent.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from qnemu.scenario import TenantSpec


def request_times(rng: np.random.Generator, rate_hz: float, duration_s: float) -> np.ndarray:
    """Sorted arrival times (s) in [0, duration_s) of a Poisson process at ``rate_hz``.

    Model: the count is Poisson(rate * duration); given the count, the times are i.i.d.
    uniform on the interval (the order statistics of a homogeneous Poisson process).
    """
    rate = float(rate_hz)
    duration = float(duration_s)
    if not (0.0 <= rate < math.inf):
        raise ValueError(f"rate_hz: must be finite and >= 0, got {rate_hz!r}")
    if not (0.0 <= duration < math.inf):
        raise ValueError(f"duration_s: must be finite and >= 0, got {duration_s!r}")
    count = rng.poisson(rate * duration)
    return np.sort(rng.uniform(0.0, duration, size=count))


def request_streams(
    tenants: Iterable[TenantSpec], seed: int | np.random.SeedSequence, duration_s: float
) -> dict[str, np.ndarray]:
    """Arrival times per tenant name; one generator per tenant spawned from ``seed``."""
    tenants = list(tenants)
    root = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    children = root.spawn(len(tenants))
    return {
        t.name: request_times(np.random.default_rng(child), t.rate_hz, duration_s)
        for t, child in zip(tenants, children, strict=True)
    }
