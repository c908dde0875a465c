"""Pacing a real-time run: the dilation it needs, and when its lateness makes it overloaded.

Emulated time runs ``dilation`` times slower than the wall clock, so that the machine's
own delays (timer wake-ups, transport, Python) stay small against the network's. The
dilation is chosen from a measured lateness against two budgets: a share of the shortest
classical hop delay and a share of the shortest coherence budget (the cutoff).
"""

from __future__ import annotations

import math

from qnemu.planning.plan import NetworkPlan

# Typical (idle, median) lateness as a share of the shortest hop delay. The loaded p99 of a
# run is many times the idle figure: at 10% the default chain got dilation 20 and its p99
# (1.7-2.9 ms wall) met the 2 ms overload tolerance or broke it; at 5% it gets 50.
LATENESS_BUDGET = 0.05
COHERENCE_BUDGET = 0.01  # ... and of the shortest T_longEB
# A run is overloaded when its p99 lateness (emulated) exceeds both one shortest hop delay
# (classical timing visibly distorted) and 1% of the shortest coherence budget (the physics
# distorted): then its numbers are not to be trusted.
OVERLOAD_HOPS = 1.0
OVERLOAD_COHERENCE = 0.01
# Clocks: every Ray node's clock must agree with the driver's (which sets t0) to within this
# share of the shortest emulated classical delay, in wall time (x dilation).
CLOCK_OFFSET_BUDGET = 0.5
# Steps of 1.33-1.67x: on a 1-2-5 series a lateness just over a step's budget doubled the
# run's wall time (the default chain swung between 50 and 100 between identical start-ups).
NICE_DILATIONS: tuple[int, ...] = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 70, 100, 150, 200)
NICE_DILATIONS += (300, 500, 700, 1000, 1500, 2000, 3000, 5000, 7000, 10000)
# Lateness samples seen before a run may be called overloaded while it goes (the end of the
# run decides on all of them, however few).
LIVE_OVERLOAD_MIN_SAMPLES = 100


def choose_dilation(
    lateness_s: float, shortest_hop_s: float, shortest_t_long_eb_s: float
) -> tuple[float, str]:
    """Smallest nice dilation keeping the typical lateness within both budgets, and why."""
    needed = max(1.0, lateness_s / (LATENESS_BUDGET * shortest_hop_s))
    reason = (
        f"typical lateness {lateness_s * 1e3:.3f} ms wall must stay below "
        f"{LATENESS_BUDGET:.0%} of the shortest hop delay {shortest_hop_s * 1e6:.1f} µs"
    )
    if math.isfinite(shortest_t_long_eb_s):
        by_coherence = lateness_s / (COHERENCE_BUDGET * shortest_t_long_eb_s)
        if by_coherence > needed:
            needed = by_coherence
            reason = (
                f"typical lateness {lateness_s * 1e3:.3f} ms wall must stay below "
                f"{COHERENCE_BUDGET:.0%} of the shortest T_longEB "
                f"{shortest_t_long_eb_s * 1e3:.3f} ms"
            )
    chosen = next((d for d in NICE_DILATIONS if d >= needed), math.ceil(needed))
    return float(chosen), reason


def dilation_for(plan: NetworkPlan, lateness_s: float) -> tuple[float, str]:
    """The dilation a run of ``plan`` needs for a measured lateness (wall s), and why."""
    return choose_dilation(
        lateness_s, plan.classical.shortest_hop_delay_s(), plan.shortest_cutoff_s()
    )


def overload_tolerance_s(plan: NetworkPlan) -> float:
    """The p99 lateness (emulated seconds) beyond which a run is reported overloaded."""
    budget = plan.shortest_cutoff_s()
    by_coherence = OVERLOAD_COHERENCE * budget if math.isfinite(budget) else 0.0
    return max(OVERLOAD_HOPS * plan.classical.shortest_hop_delay_s(), by_coherence)
