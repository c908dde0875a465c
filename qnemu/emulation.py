"""The facade that turns a scenario into a running emulation and a results folder.

``Emulation(scenario).run()`` starts (or joins) Ray, places the nodes on QuantumNode
actors, agrees on t0, runs for the scenario's emulated duration while streaming events to
the results folder, and writes ``summary.json``. ``mode="virtual"`` runs the same node
logic in this process in virtual time (no Ray, no wall clock): exact and fast, for tests
and for checking the physics of a scenario.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from qnemu.controller.base import controller_source
from qnemu.errors import EmulationError, ScenarioError
from qnemu.nodes.plan import NetworkPlan
from qnemu.results import RunFolder, SummaryBuilder, percentile
from qnemu.runtime.host import Host
from qnemu.runtime.scheduler import VirtualScheduler
from qnemu.scenario import Scenario

START_MARGIN_S = 1.5  # wall seconds between arming the actors and emulated time 0
LATENESS_BUDGET = 0.1  # expected lateness as a share of the shortest hop delay
COHERENCE_BUDGET = 0.01  # ... and of the shortest T_longEB
# A run is overloaded when its p99 lateness (emulated) exceeds both one shortest hop delay
# (classical timing visibly distorted) and 1% of the shortest coherence budget (the physics
# distorted): then its numbers are not to be trusted.
OVERLOAD_HOPS = 1.0
OVERLOAD_COHERENCE = 0.01
# Clocks: every Ray node's clock must agree with the driver's (which sets t0) to within this
# share of the shortest emulated classical delay, in wall time (x dilation).
CLOCK_OFFSET_BUDGET = 0.5
NICE_DILATIONS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000)


class TelemetrySink(Protocol):
    """Receives a run's event stream as it happens (the telemetry collector is one)."""

    def start(self, plan: NetworkPlan, emulator: dict[str, Any]) -> None:
        """Called once the actors are placed, before emulated time 0."""

    def record(self, batch: dict[str, Any]) -> None:
        """One drained batch: ``events``, ``lateness_s`` (wall), ``message_latency_s``
        (emulated), ``host``, ``nodes``."""

    def close(self, summary: dict[str, Any]) -> None:
        """The run ended; ``summary`` is what ``summary.json`` holds."""


@dataclass
class Progress:
    """What the driver reports while a run goes: emulated time and pairs so far."""

    emulated_s: float
    duration_s: float
    delivered: int


def choose_dilation(lateness_s: float, shortest_hop_s: float,
                    shortest_t_long_eb_s: float) -> tuple[float, str]:
    """Smallest nice dilation keeping expected lateness within both budgets, and why."""
    needed = max(1.0, lateness_s / (LATENESS_BUDGET * shortest_hop_s))
    reason = (f"expected lateness {lateness_s * 1e3:.3f} ms wall must stay below "
              f"{LATENESS_BUDGET:.0%} of the shortest hop delay {shortest_hop_s * 1e6:.1f} µs")
    if math.isfinite(shortest_t_long_eb_s):
        by_coherence = lateness_s / (COHERENCE_BUDGET * shortest_t_long_eb_s)
        if by_coherence > needed:
            needed = by_coherence
            reason = (f"expected lateness {lateness_s * 1e3:.3f} ms wall must stay below "
                      f"{COHERENCE_BUDGET:.0%} of the shortest T_longEB "
                      f"{shortest_t_long_eb_s * 1e3:.3f} ms")
    chosen = next((d for d in NICE_DILATIONS if d >= needed), math.ceil(needed))
    return float(chosen), reason


def overload_tolerance_s(plan: NetworkPlan) -> float:
    """The p99 lateness (emulated seconds) beyond which a run is reported overloaded."""
    budget = plan.shortest_cutoff_s()
    by_coherence = OVERLOAD_COHERENCE * budget if math.isfinite(budget) else 0.0
    return max(OVERLOAD_HOPS * plan.classical.shortest_hop_delay_s(), by_coherence)


def auto_nodes_per_actor(n_nodes: int, cpus: int | None = None) -> int:
    """Pack nodes so that a machine runs at most about four actor processes per core."""
    max_actors = 4 * (cpus or os.cpu_count() or 1)
    return max(1, math.ceil(n_nodes / max_actors))


def group_nodes(node_ids: list[str], per_actor: int,
                hosts: dict[str, str | None] | None = None) -> list[list[str]]:
    """Consecutive nodes share an actor, so neighbours on a chain are co-located.

    With ``hosts`` (node -> its ``host`` label or None), a pack also ends where the label
    changes, so that one actor (one process, on one machine) never mixes hosts.
    """
    if per_actor < 1:
        raise ScenarioError(f"runtime.nodes_per_actor: must be >= 1, got {per_actor}")
    hosts = hosts or {}
    groups: list[list[str]] = []
    for node in node_ids:
        if (groups and len(groups[-1]) < per_actor
                and hosts.get(groups[-1][0]) == hosts.get(node)):
            groups[-1].append(node)
        else:
            groups.append([node])
    return groups


class Emulation:
    """One run of one scenario (see the module docstring)."""

    def __init__(self, scenario: Scenario, *, address: str | None = None,
                 results_dir: str | Path = "runs", dilation: float | None = None,
                 mode: str = "ray", say: Callable[[str], None] | None = None,
                 on_progress: Callable[[Progress], None] | None = None,
                 telemetry: TelemetrySink | None = None) -> None:
        if mode not in ("ray", "virtual"):
            raise ScenarioError(f"mode: must be 'ray' or 'virtual', got {mode!r}")
        if dilation is not None and not dilation >= 1:
            raise ScenarioError(f"dilation: must be >= 1, got {dilation}")
        self.scenario = scenario
        self.plan = NetworkPlan.build(scenario)
        self.address = address
        self.results_dir = Path(results_dir)
        self.dilation = dilation if dilation is not None else scenario.dilation
        self.mode = mode
        self.say = say or (lambda text: None)
        self.on_progress = on_progress
        self.telemetry = telemetry
        self._lateness_s: list[float] = []
        self.folder: RunFolder | None = None
        self.summary: dict[str, Any] | None = None

    # -- public ------------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        """Run to the end (or to Ctrl-C); returns the summary also written to disk.

        The results folder is created only once the nodes are placed and about to start,
        so a run that cannot start (bad address, unknown host label) leaves nothing behind.
        """
        self.folder = None
        builder = SummaryBuilder([(t.name, t.app, t.f_min) for t in self.scenario.tenants])
        emulator: dict[str, Any] = {}
        interrupted = False
        try:
            if self.mode == "virtual":
                emulator = self._run_virtual(builder)
            else:
                emulator = self._run_ray(builder)
        except KeyboardInterrupt:
            interrupted = True
        finally:
            if self.folder is not None:
                self.summary = self._summary(builder, emulator, interrupted)
                self.folder.write_summary(self.summary)
                self.folder.close()
            if self.telemetry is not None:
                self.telemetry.close(self.summary)
        if interrupted:
            raise KeyboardInterrupt
        return self.summary

    # -- virtual time ------------------------------------------------------------------------
    def _run_virtual(self, builder: SummaryBuilder) -> dict[str, Any]:
        scenario = self.scenario
        ids = [n.id for n in scenario.nodes]
        host = Host(0, self.plan, ids, dict.fromkeys(ids, 0))
        scheduler = VirtualScheduler(stop_at_s=scenario.duration_s)
        host.attach(scheduler, _no_remote_hosts)
        scheduler.schedule(0.0, host.start)
        self._begin(builder, {"mode": "virtual", "actors": 0, "dilation": None})
        step = scenario.duration_s / 20
        wall = time.perf_counter()
        for i in range(1, 21):
            scheduler.run(i * step)
            self._record(builder, [host.drain()])
            self._progress(i * step, builder)
        return {"mode": "virtual", "dilation": None, "actors": 0, "nodes_per_actor": len(ids),
                "lateness_p50_s": 0.0, "lateness_p99_s": 0.0, "overloaded": False,
                "messages": host.messages_released,
                "wall_s": time.perf_counter() - wall}

    # -- Ray ---------------------------------------------------------------------------------
    def _run_ray(self, builder: SummaryBuilder) -> dict[str, Any]:
        from qnemu.runtime import ray_backend

        wall_start = time.time()
        started = ray_backend.start_ray(self.address)
        actors: list = []
        try:
            ids = [n.id for n in self.scenario.nodes]
            nodes = ray_backend.cluster_nodes()
            placement = ray_backend.resolve_placement(self.scenario.runtime.placement, nodes)
            per_actor = self.scenario.runtime.nodes_per_actor
            if per_actor is not None and per_actor < 1:
                raise ScenarioError(f"runtime.nodes_per_actor: must be >= 1, got {per_actor}")
            if per_actor is None:
                cpus = ray_backend.cluster_cpus() if placement == "spread" else None
                per_actor = auto_nodes_per_actor(len(ids), cpus)
            hosts = {n.id: n.host for n in self.scenario.nodes}
            groups = group_nodes(ids, per_actor, hosts)
            targets = ray_backend.plan_placement(groups, hosts, placement, nodes)
            used = len(set(targets))
            if per_actor > 1:
                self.say(f"packing {per_actor} nodes per actor ({len(groups)} actors for "
                         f"{len(ids)} nodes) so the machines can serve them")
            if len(nodes) > 1:
                self.say(f"cluster: {len(nodes)} Ray nodes, placement {placement}, "
                         f"{len(groups)} actors on {used} of them")
            # Actors dial each other on their node's IP when several machines may be involved.
            bind = ray_backend.NODE_IP if len(nodes) > 1 else "127.0.0.1"
            actors = ray_backend.spawn(_portable(self.scenario), groups, bind, targets)
            placed = ray_backend.call_all(actors, "listen")
            startup_s = time.time() - wall_start
            book = {i: (p["address"], p["port"]) for i, p in enumerate(placed)}
            ray_backend.call_all(actors, "connect", book)
            dilation = self._dilation(actors)
            clock = self._clock_offsets(actors, placed, dilation)
            self._begin(builder, {"mode": "ray", "actors": len(actors), "dilation": dilation})
            emulator = self._drive(actors, dilation, builder, placed, per_actor, startup_s)
            emulator.update(clock)
            emulator["placement"] = placement
            emulator["ray_nodes"] = len(nodes)
            emulator["actor_rss_bytes"] = sum(p.get("rss_bytes", 0) for p in placed)
            return emulator
        finally:
            if actors:
                ray_backend.kill(actors)
            if started:
                ray_backend.stop_ray()

    def _clock_offsets(self, actors: list, placed: list[dict[str, Any]],
                       dilation: float) -> dict[str, Any]:
        """Measure each Ray node's clock against the driver's; refuse to run if too far off.

        t0 is the driver's number, so every machine must agree with the driver's clock to
        within :data:`CLOCK_OFFSET_BUDGET` of the shortest emulated delay, in wall time.
        """
        from qnemu.runtime import ray_backend

        offsets = ray_backend.clock_offsets(actors, [p["ray_node"] for p in placed])
        tolerance = CLOCK_OFFSET_BUDGET * self.plan.classical.shortest_hop_delay_s() * dilation
        worst = ray_backend.check_clock_offsets(offsets, tolerance)
        if len(offsets) > 1:
            self.say(f"clock: largest offset between Ray nodes and the driver "
                     f"{worst * 1e6:.0f} µs (tolerance {tolerance * 1e6:.0f} µs)")
        return {"clock_offsets_s": {node: round(m["offset_s"], 9) for node, m in offsets.items()},
                "clock_offset_rtt_s": {node: round(m["rtt_s"], 9) for node, m in offsets.items()},
                "clock_offset_max_s": worst, "clock_offset_tolerance_s": tolerance}

    def _dilation(self, actors: list) -> float:
        from qnemu.runtime import ray_backend

        if self.dilation is not None:
            self.say(f"dilation {self.dilation:g} (set by the user)")
            return float(self.dilation)
        probes = ray_backend.call_all(actors[:2], "calibrate")
        timer = np.mean([x for p in probes for x in p["timer"]])
        transport = np.mean([x for p in probes for x in p["transport"]] or [0.0])
        lateness = float(timer + transport)
        chosen, reason = choose_dilation(lateness, self.plan.classical.shortest_hop_delay_s(),
                                         self.plan.shortest_cutoff_s())
        self.say(f"dilation {chosen:g} (auto: {reason}; timer {timer * 1e6:.0f} µs + "
                 f"transport {transport * 1e6:.0f} µs measured)")
        return chosen

    def _drive(self, actors: list, dilation: float, builder: SummaryBuilder,
               placed: list[dict[str, Any]], per_actor: int, startup_s: float) -> dict[str, Any]:
        from qnemu.runtime import ray_backend

        duration = self.scenario.duration_s
        t0 = time.time() + START_MARGIN_S
        ray_backend.call_all(actors, "run", t0, dilation, duration)
        end_wall = t0 + duration * dilation
        first_pair_wall = None
        while True:
            now = time.time()
            time.sleep(min(0.25, max(0.0, end_wall - now) + 0.05))
            before = builder.delivered
            self._record(builder, ray_backend.call_all(actors, "drain"))
            if first_pair_wall is None and builder.delivered > before:
                first_pair_wall = time.time()
            self._progress(min(duration, max(0.0, (time.time() - t0) / dilation)), builder)
            if time.time() >= end_wall + 0.2:
                break
        finals = ray_backend.call_all(actors, "finish")
        self._record(builder, finals)
        lateness = self._lateness_s
        p50, p99 = percentile(lateness, 50), percentile(lateness, 99)
        tolerance_wall = overload_tolerance_s(self.plan) * dilation
        released = sum(f["messages_released"] for f in finals)
        return {
            "mode": "ray", "dilation": dilation, "actors": len(actors),
            "nodes_per_actor": per_actor,
            "ray_nodes_used": len({p["ray_node"] for p in placed}),
            "lateness_p50_s": p50, "lateness_p99_s": p99,
            "lateness_tolerance_s": tolerance_wall,
            "overloaded": bool(p99 is not None and p99 > tolerance_wall),
            "messages": released, "messages_per_wall_s": released / (duration * dilation),
            "handovers": sum(f["handovers"] for f in finals),
            "startup_s": startup_s,
            "first_pair_wall_s": None if first_pair_wall is None else first_pair_wall - t0,
            "wall_per_emulated_s": dilation,
        }

    # -- shared ------------------------------------------------------------------------------
    def _begin(self, builder: SummaryBuilder, emulator: dict[str, Any]) -> None:
        """Create the results folder, start telemetry, record the decisions taken at t=0."""
        self.folder = RunFolder(self.results_dir, self.scenario.name, self.scenario.to_dict())
        if self.telemetry is not None:
            self.telemetry.start(self.plan, emulator)
        self._record(builder, [{"events": list(self.plan.decisions), "lateness_s": [],
                                "message_latency_s": [], "host": -1, "nodes": []}])

    def _record(self, builder: SummaryBuilder, batches: list[dict[str, Any]]) -> None:
        """Stream drained batches to the results folder, the summary and telemetry."""
        events = [event for batch in batches for event in batch["events"]]
        for batch in batches:
            self._lateness_s.extend(batch["lateness_s"])
            if self.telemetry is not None:
                self.telemetry.record(batch)
        if events:
            events.sort(key=lambda e: e.get("t_s", e.get("t_delivered_s", 0.0)))
            self.folder.write(events)
            builder.add(events)

    def _progress(self, emulated_s: float, builder: SummaryBuilder) -> None:
        if self.on_progress is not None:
            self.on_progress(Progress(emulated_s, self.scenario.duration_s, builder.delivered))

    def _summary(self, builder: SummaryBuilder, emulator: dict[str, Any],
                 interrupted: bool) -> dict[str, Any]:
        return {
            "scenario": self.scenario.name,
            "controller": self.scenario.control.architecture,
            "duration_s": self.scenario.duration_s,
            "seed": self.scenario.seed,
            "interrupted": interrupted,
            "results": str(self.folder.path),
            "tenants": builder.tenant_table(self.scenario.duration_s),
            "utility": sum(t["utility"] for t in builder.tenant_table(
                self.scenario.duration_s).values()),
            "controller_decision_latency_s": builder.decision_latency_s(),
            "admission": builder.admission,
            "violations": builder.violations,
            "counts": builder.counts,
            "emulator": emulator,
        }


def _no_remote_hosts(host: int, payload: list[Any]) -> None:
    raise EmulationError(f"virtual mode has one host; nothing may be sent to host {host}")


def _portable(scenario: Scenario) -> Scenario:
    """The scenario with a user controller named by file path, loadable in any actor."""
    source = controller_source(scenario.control.architecture)
    if source == scenario.control.architecture:
        return scenario
    return dataclasses.replace(
        scenario, control=dataclasses.replace(scenario.control, architecture=source))


def run(scenario: Scenario, **options: Any) -> dict[str, Any]:
    """Run a scenario and return its summary (see :class:`Emulation` for the options)."""
    return Emulation(scenario, **options).run()
