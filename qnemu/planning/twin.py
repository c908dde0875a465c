"""The controller's model of its own data plane: a short virtual-time run (a digital twin).

Closed forms (``qnum``) rank candidate paths and purification depths, but they cannot
follow swap-ASAP with many independent memory pairs, cutoffs, classical delays and memory
held during control round trips well enough to promise numbers. So once Q-NUM has chosen
paths, the controller calibrates: it runs the chosen plan — the same node logic, the same
scenario — in virtual time with a seed of its own, and takes the delivered rate and mean
fidelity per tenant as its prediction. Admission then rejects a tenant the twin shows
cannot be served (no pairs, or quality 0 at the delivered fidelity).

The twin is deterministic (virtual time, fixed seed, an event budget rather than a wall
budget), so every process that builds the plan reaches the same decisions.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from qnemu.planning.sla import GapMoments, gap_moments
from qnemu.records import Delivered, of_kind

if TYPE_CHECKING:
    from qnemu.planning.plan import NetworkPlan

#: Stop once every tenant has this many delivered pairs (statistical precision).
TWIN_MIN_PAIRS = 400
#: Stop after this many classical messages (bounds the twin's CPU time, ~5 s here).
TWIN_MAX_MESSAGES = 100_000
#: Never run the twin longer than this many times the scenario's duration.
TWIN_MAX_DURATIONS = 20
#: The twin's seed is the scenario's plus this (independent of the run it predicts).
TWIN_SEED_OFFSET = 1_000_003


@dataclass(frozen=True)
class TwinTenant:
    """What the twin delivered to one tenant: pairs, rate (Hz) and mean true fidelity."""

    pairs: int
    rate_hz: float
    fidelity: float
    #: moments of the gaps between consecutive deliveries above f_min (SLA model)
    gaps: GapMoments | None = None


@dataclass(frozen=True)
class Twin:
    """A twin run: emulated ``horizon_s`` reached, ``messages`` released, per-tenant results."""

    horizon_s: float
    messages: int
    tenants: dict[str, TwinTenant]


def run_twin(plan: NetworkPlan) -> Twin:
    """Run ``plan`` in virtual time until every tenant has ``TWIN_MIN_PAIRS`` pairs, the
    message budget is spent or ``TWIN_MAX_DURATIONS`` durations have passed."""
    from qnemu.runtime.host import Host  # the twin runs the node logic itself
    from qnemu.runtime.scheduler import VirtualScheduler

    scenario = dataclasses.replace(
        plan.scenario,
        seed=plan.scenario.seed + TWIN_SEED_OFFSET,
        # every tenant present the whole time: the steady state an SLA is about
        tenants=tuple(
            dataclasses.replace(t, at_s=0.0, until_s=None) for t in plan.scenario.tenants
        ),
    )
    twin_plan = dataclasses.replace(plan, scenario=scenario)
    ids = [n.id for n in scenario.nodes]
    host = Host(0, twin_plan, ids, dict.fromkeys(ids, 0))
    horizon = scenario.duration_s * TWIN_MAX_DURATIONS
    scheduler = VirtualScheduler(stop_at_s=horizon)
    host.attach(scheduler, _no_remote_hosts)
    scheduler.schedule(0.0, host.start)
    step = scenario.duration_s / 4
    pairs: dict[str, list[float]] = {name: [] for name in plan.paths}
    floors = {t.name: t.f_min for t in scenario.tenants}
    good: dict[str, list[float]] = {name: [] for name in plan.paths}  # times above f_min
    reached = 0.0
    while reached < horizon:
        reached = min(horizon, reached + step)
        scheduler.run(reached)
        for delivered in of_kind(host.drain_events(), Delivered):
            if delivered.tenant in pairs:
                pairs[delivered.tenant].append(delivered.fidelity)
                if delivered.fidelity >= floors[delivered.tenant]:
                    good[delivered.tenant].append(delivered.t_s)
        if (
            all(len(f) >= TWIN_MIN_PAIRS for f in pairs.values())
            or host.messages_released >= TWIN_MAX_MESSAGES
        ):
            break
    tenants = {
        name: TwinTenant(
            len(f),
            len(f) / reached,
            math.fsum(f) / len(f) if f else 0.0,
            gap_moments(sorted(good[name])),
        )
        for name, f in pairs.items()
    }
    return Twin(reached, host.messages_released, tenants)


def _no_remote_hosts(host: int, payload: list[Any]) -> None:
    raise RuntimeError(f"twin: every node runs on one host, got a frame for host {host}")
