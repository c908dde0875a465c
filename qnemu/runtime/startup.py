"""Starting a real-time run on Ray: place the nodes on actors, connect them, choose the
dilation, check the clocks, and say what the run will cost before emulated time 0.

:func:`start_actors` does it all and returns a :class:`Started`; the facade then arms the
actors and drives the run. Every Ray call goes through :mod:`qnemu.runtime.ray_backend`.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnemu.control.registry import controller_name
from qnemu.errors import ScenarioError
from qnemu.planning.plan import NetworkPlan
from qnemu.runtime import ray_backend
from qnemu.runtime.pacing import CLOCK_OFFSET_BUDGET
from qnemu.runtime.placement import (
    auto_nodes_per_actor,
    group_nodes,
    plan_placement,
    resolve_placement,
)
from qnemu.scenario import Scenario

# Wall seconds between arming the actors and emulated time 0: a few times what one call to
# every actor took while connecting (the arming call is alike), within these bounds.
START_MARGIN_S = 1.5
MIN_START_MARGIN_S = 0.5
START_MARGIN_CALLS = 4.0


@dataclass
class Started:
    """Actors placed, listening and connected, with the run's dilation chosen."""

    actors: list[Any]
    groups: list[list[str]]  # the nodes of each actor
    book: dict[int, tuple[str, int]]  # each actor's transport address
    actor_pids: list[int]
    start_margin_s: float
    dilation: float
    dilation_reason: str
    emulator: dict[str, Any] = field(default_factory=dict)  # for summary.json
    bind_host: str = "127.0.0.1"  # where the actors listen (a rejoining one does the same)


def start_actors(
    scenario: Scenario,
    plan: NetworkPlan,
    secret: bytes,
    *,
    ray_started: bool,
    dilation: float | None,
    dilation_reason: str,
    choose: Callable[[float], tuple[float, str]],
    say: Callable[[str], None],
    spawned: Callable[[list[Any]], None],
) -> Started:
    """Place, spawn (``spawned`` gets the actors at once, so the caller can always kill
    them), listen, connect, choose the dilation (``dilation`` or ``choose`` on a measured
    lateness), check the clocks and say the expected wall time."""
    wall_start = time.time()
    ids = [n.id for n in scenario.nodes]
    nodes = ray_backend.cluster_nodes()
    placement = resolve_placement(scenario.runtime.placement, nodes)
    per_actor = scenario.runtime.nodes_per_actor
    if per_actor is not None and per_actor < 1:
        raise ScenarioError(f"runtime.nodes_per_actor: must be >= 1, got {per_actor}")
    if per_actor is None:
        cpus = ray_backend.cluster_cpus() if placement == "spread" else None
        per_actor = auto_nodes_per_actor(len(ids), cpus)
    machines = {n.id: n.machine for n in scenario.nodes}
    groups = group_nodes(ids, per_actor, machines)
    targets = plan_placement(groups, machines, placement, nodes)
    if per_actor > 1:
        say(
            f"packing {per_actor} nodes per actor ({len(groups)} actors for "
            f"{len(ids)} nodes) so the machines can serve them"
        )
    if len(nodes) > 1:
        say(
            f"cluster: {len(nodes)} Ray nodes, placement {placement}, "
            f"{len(groups)} actors on {len(set(targets))} of them"
        )
    # Actors dial each other on their node's IP when several machines may be involved.
    bind = ray_backend.NODE_IP if len(nodes) > 1 else "127.0.0.1"
    actors = ray_backend.spawn(portable(scenario), groups, bind, targets, secret, plan.calibration)
    spawned(actors)
    placed = ray_backend.call_all(actors, "listen", names=groups)
    startup_s = time.time() - wall_start
    book = {i: (p["address"], p["port"]) for i, p in enumerate(placed)}
    called = time.time()
    ray_backend.call_all(actors, "connect", book, names=groups)
    margin = min(
        START_MARGIN_S, max(MIN_START_MARGIN_S, START_MARGIN_CALLS * (time.time() - called))
    )
    calibration: dict[str, Any] = {}
    if dilation is None:
        dilation, dilation_reason, calibration = _calibrated_dilation(actors, choose)
    clock = _clock_offsets(actors, placed, dilation, plan, say)
    expected = _expected_wall_s(
        scenario.duration_s, dilation, time.time() - wall_start + margin, dilation_reason, say
    )
    emulator = {
        "mode": "ray",
        "dilation": dilation,
        "dilation_reason": dilation_reason,
        **calibration,
        "expected_wall_s": expected,
        "ray_node_id": next((n.node_id for n in nodes if n.is_driver), None),
        "ray_started": ray_started,
        "actors": len(actors),
        "nodes_per_actor": per_actor,
        "ray_nodes_used": len({p["ray_node"] for p in placed}),
        "placement": placement,
        "ray_nodes": len(nodes),
        "startup_s": startup_s,
        "actor_rss_bytes": sum(p.get("rss_bytes", 0) for p in placed),
        "wall_per_emulated_s": dilation,
        **clock,
    }
    pids = [p["pid"] for p in placed]
    return Started(
        actors, groups, book, pids, margin, float(dilation), dilation_reason, emulator, bind
    )


def portable(scenario: Scenario) -> Scenario:
    """The scenario with a user controller named by file path, loadable in any actor."""
    source = controller_name(scenario.control.architecture)
    if source == scenario.control.architecture:
        return scenario
    return dataclasses.replace(
        scenario, control=dataclasses.replace(scenario.control, architecture=source)
    )


def _calibrated_dilation(
    actors: list[Any], choose: Callable[[float], tuple[float, str]]
) -> tuple[float, str, dict[str, Any]]:
    """The dilation ``choose`` picks for the lateness two actors measure, its reason, and
    the measurement for the emulator block."""
    probes = ray_backend.call_all(actors[:2], "calibrate")
    # medians: a few slow samples (a connection's first frame, another process taking the
    # core) moved the mean by 2x between identical start-ups and the dilation with it
    timer = float(np.median([x for p in probes for x in p["timer"]]))
    transport = float(np.median([x for p in probes for x in p["transport"]] or [0.0]))
    lateness = timer + transport
    chosen, reason = choose(lateness)
    reason = (
        f"auto: {reason}; timer {timer * 1e6:.0f} µs + transport {transport * 1e6:.0f} µs measured"
    )
    return float(chosen), reason, {"calibrated_lateness_s": lateness}


def _clock_offsets(
    actors: list[Any],
    placed: list[dict[str, Any]],
    dilation: float,
    plan: NetworkPlan,
    say: Callable[[str], None],
) -> dict[str, Any]:
    """Measure each Ray node's clock against the driver's; refuse to run if too far off.

    t0 is the driver's number, so every machine must agree with the driver's clock to
    within :data:`CLOCK_OFFSET_BUDGET` of the shortest emulated delay, in wall time.
    """
    offsets = ray_backend.clock_offsets(actors, [p["ray_node"] for p in placed])
    tolerance = CLOCK_OFFSET_BUDGET * plan.classical.shortest_hop_delay_s() * dilation
    worst = ray_backend.check_clock_offsets(offsets, tolerance)
    if len(offsets) > 1:
        say(
            f"clock: largest offset between Ray nodes and the driver "
            f"{worst * 1e6:.0f} µs (tolerance {tolerance * 1e6:.0f} µs)"
        )
    return {
        "clock_offsets_s": {node: round(m["offset_s"], 9) for node, m in offsets.items()},
        "clock_offset_rtt_s": {node: round(m["rtt_s"], 9) for node, m in offsets.items()},
        "clock_offset_max_s": worst,
        "clock_offset_tolerance_s": tolerance,
    }


def _expected_wall_s(
    duration_s: float, dilation: float, start_s: float, reason: str, say: Callable[[str], None]
) -> float:
    """Say the dilation, its reason and the wall time the run should take; return it."""
    expected = duration_s * dilation + start_s
    longer = (
        f", {expected / duration_s:.3g}x the emulated time" if expected > 10 * duration_s else ""
    )
    say(
        f"dilation {dilation:g} ({reason}); expected wall time "
        f"{seconds(expected)} ({duration_s:g} s emulated x {dilation:g} + "
        f"{seconds(start_s)} start-up{longer})"
    )
    return expected


def seconds(value: float) -> str:
    """A wall duration for people: ``3.5 s``, ``12 min``, ``2.1 h``."""
    if value < 120:
        return f"{value:.3g} s"
    if value < 7200:
        return f"{value / 60:.3g} min"
    return f"{value / 3600:.3g} h"
