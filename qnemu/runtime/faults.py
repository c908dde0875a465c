"""Fault injection: the emulated world's true state (links down, nodes crashed, lossy
links, degraded memories, controllers stopped) and what a fault does to the nodes a
host runs.

Every host holds the same :class:`FaultWorld` and schedules the scenario's whole
``faults:`` timeline itself (faults injected live reach every host the same way), so a
multi-actor run agrees on the world without exchanging it. Only the emulation consults
the world — to lose a message routed over a cut fiber, to stop a link's attempts, to
silence a crashed node; node logic learns of faults only from missing heartbeats (see
``node.liveness``).

A crashed node loses everything: its timers die with its :class:`NodeEnv`, its qubits are
measured out of their pairs (their partners learn by timeouts and detection), the
controllers it hosts stop; at restart a fresh node (and fresh controllers) take its place,
empty, and rejoin through heartbeats and re-routes.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from qnemu import records
from qnemu.control.hosting import ControllerHost
from qnemu.physics.hardware import HardwareProfile
from qnemu.planning.plan import NetworkPlan
from qnemu.runtime.scheduler import ScheduledCall
from qnemu.scenario.faults import CENTRAL
from qnemu.scenario.spec import FaultSpec
from qnemu.truth.store import PairRecord
from qnemu.wire.messages import Heartbeat, Message, Report

if TYPE_CHECKING:
    from qnemu.node.node import Node
    from qnemu.runtime.host import Host


class FaultWorld:
    """What is truly broken now (the emulation's side; nodes never read it)."""

    def __init__(self) -> None:
        self.links_down: Counter[frozenset[str]] = Counter()
        self.crashed: set[str] = set()
        self.loss: dict[frozenset[str], float] = {}
        self.t2_s: dict[str, float] = {}
        self.sites_down: Counter[str] = Counter()
        self.outages: list[tuple[str, float]] = []  # (site, when it stopped)

    def carries(self, route: Sequence[str], rng: np.random.Generator) -> bool:
        """Whether a message along ``route`` gets through: no crashed node after its
        source, no cut fiber, and it survives each lossy link."""
        if any(node in self.crashed for node in route[1:]):
            return False
        for u, v in itertools.pairwise(route):
            key = frozenset((u, v))
            if self.links_down[key] > 0:
                return False
            p = self.loss.get(key)
            if p is not None and rng.random() < p:
                return False
        return True

    def profile(self, node: str, profile: HardwareProfile) -> HardwareProfile:
        """``node``'s hardware as degraded now (a ``memory_t2`` fault)."""
        t2 = self.t2_s.get(node)
        if t2 is None or t2 >= profile.t2_s:
            return profile
        return dataclasses.replace(profile, t2_s=t2)

    def site_down(self, site: str) -> bool:
        """Whether controller ``site`` is stopped."""
        return self.sites_down[site] > 0

    def lost_instruction(self, site: str, sent_s: float, now_s: float) -> bool:
        """An instruction of ``site`` in flight when it stopped is lost."""
        return any(s == site and sent_s < start <= now_s for s, start in self.outages)


class NodeEnv:
    """One node's view of its host: everything the host offers, except that the node's
    timers die with it when it crashes (a fresh env serves the node that restarts)."""

    def __init__(self, host: Host, node_id: str) -> None:
        self._host = host
        self.node_id = node_id
        self.alive = True
        self.host_id = host.host_id
        self.store = host.store

    @property
    def faults(self) -> FaultWorld | None:
        return self._host.faults

    @property
    def scheduler(self) -> Any:
        return self._host.scheduler

    def now(self) -> float:
        return self._host.now()

    def schedule(self, time_s: float, callback: Callable[..., Any], *args: Any) -> ScheduledCall:
        return self._host.schedule(time_s, self._run, callback, args)

    def _run(self, callback: Callable[..., Any], args: tuple) -> None:
        if self.alive:
            callback(*args)

    def send(self, message: Message) -> None:
        if self.alive:
            self._host.send(message)

    def emit(self, event: records.RunEvent) -> None:
        self._host.emit(event)

    def host_of(self, node: str) -> int:
        return self._host.host_of(node)

    def controller(self, site: str) -> ControllerHost:
        return self._host.controller(site)

    def local_controllers(self) -> list[ControllerHost]:
        return self._host.local_controllers()


def controller_targets(plan: NetworkPlan, target: str) -> tuple[list[str], list[str]]:
    """The controller sites a ``controller`` fault stops, and the nodes whose route
    computation (re-routing) it stops. ``central``: the centralized controller, or the
    hierarchical root's routing; nothing under distributed control."""
    placement = plan.controller.placement
    routers = sorted(set(plan.setup_node.values()))
    if target == CENTRAL:
        if placement == "central":
            return [plan.sites[0].name], [plan.sites[0].location]
        if placement == "domain":
            return [], routers
        return [], []
    sites = [s.name for s in plan.sites if s.location == target]
    return sites, [target] if target in routers else []


class FaultInjector:
    """Applies faults at their emulated time to the world and to this host's nodes."""

    def __init__(self, host: Host, restart: Callable[[str], Node]) -> None:
        self.host = host
        self.plan = host.plan
        self.world = host.faults
        self._restart = restart
        self.crashes: Counter[str] = Counter()

    def schedule(self, faults: Sequence[FaultSpec], origin: str = "scenario") -> None:
        """Arm ``faults`` (each at its ``at_s``, or now if that has passed)."""
        now = self.host.now()
        for fault in faults:
            self.host.scheduler.schedule(max(fault.at_s, now), self.begin, fault, origin)

    def begin(self, fault: FaultSpec, origin: str = "scenario") -> None:
        """The fault starts: change the world, act on local nodes, record it (once)."""
        world, now = self.world, self.host.now()
        assert world is not None
        lost = 0
        if fault.kind == "link_down":
            world.links_down[frozenset(fault.target)] += 1
            lost = self._cut(fault.target)
        elif fault.kind == "classical_loss":
            world.loss[frozenset(fault.target)] = float(fault.value or 0.0)
        elif fault.kind == "memory_t2":
            world.t2_s[fault.target[0]] = float(fault.value or math.inf)
        elif fault.kind == "node_crash":
            lost = self._crash(fault.target[0])
        elif fault.kind == "controller_down":
            self._stop_controllers(fault.target[0], now)
        if self._owns(fault):
            self.host.emit(
                records.Fault(
                    t_s=now,
                    kind=fault.kind,
                    target=fault.label,
                    until_s=None if math.isinf(fault.until_s) else fault.until_s,
                    value=fault.value,
                    pairs_lost=lost,
                    tenants=self._affected(fault),
                    origin=origin,
                )
            )
        if math.isfinite(fault.until_s):
            self.host.scheduler.schedule(max(fault.until_s, now), self.end, fault)

    def assume(self, fault: FaultSpec) -> None:
        """A fault already in force when this host joined the run (a process that rejoined
        after a crash): the world takes it silently (the other hosts recorded it); no node
        here is acted on (they start empty)."""
        world = self.world
        assert world is not None
        if fault.kind == "link_down":
            world.links_down[frozenset(fault.target)] += 1
        elif fault.kind == "classical_loss":
            world.loss[frozenset(fault.target)] = float(fault.value or 0.0)
        elif fault.kind == "memory_t2":
            world.t2_s[fault.target[0]] = float(fault.value or math.inf)
        elif fault.kind == "node_crash":
            world.crashed.add(fault.target[0])
            for site in self.plan.sites:
                if site.location == fault.target[0]:
                    world.sites_down[site.name] += 1
        elif fault.kind == "controller_down":
            for name in controller_targets(self.plan, fault.target[0])[0]:
                world.sites_down[name] += 1

    def end(self, fault: FaultSpec) -> None:
        """The fault ends: links back, the node restarts empty, controllers decide again."""
        world = self.world
        assert world is not None
        if fault.kind == "link_down":
            key = frozenset(fault.target)
            world.links_down[key] -= 1
            if world.links_down[key] <= 0:
                del world.links_down[key]
                self._stations(fault.target, lambda node, link: node.link_layer.link_up(link))
        elif fault.kind == "classical_loss":
            world.loss.pop(frozenset(fault.target), None)
        elif fault.kind == "memory_t2":
            world.t2_s.pop(fault.target[0], None)
        elif fault.kind == "node_crash":
            self._restart_node(fault.target[0])
        elif fault.kind == "controller_down":
            self._start_controllers(fault.target[0])
        if self._owns(fault):
            self.host.emit(
                records.FaultEnded(t_s=self.host.now(), kind=fault.kind, target=fault.label)
            )

    # -- links -------------------------------------------------------------------------------
    def _cut(self, ends: tuple[str, ...]) -> int:
        """A fiber cut: the link's station stops; every half held on it is lost."""
        a, b = ends
        lost = 0
        for here, there in ((a, b), (b, a)):
            node = self._live(here)
            if node is None:
                continue
            for held in list(node.memory.qubits()):
                if held.neighbor == there and not held.busy:
                    node.discard(held, "link_down", tell_partner=False)
                    lost += 1
        self._stations(ends, lambda node, link: node.link_layer.link_down(link))
        return lost

    def _stations(self, ends: Sequence[str], act: Callable[[Node, str], None]) -> None:
        """Apply ``act`` to the station of the link between ``ends`` if it runs here."""
        a, b = ends
        for lp in self.plan.links.values():
            if {lp.a, lp.b} == {a, b}:
                node = self._live(lp.a)
                if node is not None:
                    act(node, lp.name)

    def _live(self, node_id: str) -> Node | None:
        node = self.host.nodes.get(node_id)
        if node is None or node_id in self.world_crashed():
            return None
        return node

    def world_crashed(self) -> set[str]:
        return self.world.crashed if self.world is not None else set()

    # -- nodes -------------------------------------------------------------------------------
    def _crash(self, node_id: str) -> int:
        """The node loses its memories and state; its controllers stop; its links' stations
        elsewhere stop hearing it."""
        world = self.world
        assert world is not None
        node = self._live(node_id)
        world.crashed.add(node_id)
        for lp in self.plan.links.values():
            if node_id in (lp.a, lp.b):
                other = self._live(lp.other(node_id))
                if other is not None and lp.a != node_id:
                    other.link_layer.link_down(lp.name, crashed=node_id)
        for site in self.plan.sites:
            if site.location == node_id:
                world.sites_down[site.name] += 1
                world.outages.append((site.name, self.host.now()))
        if node is None:
            return 0
        env = node.env
        if isinstance(env, NodeEnv):
            env.alive = False
        return _wipe(node, self.host.now())

    def _restart_node(self, node_id: str) -> None:
        world = self.world
        assert world is not None
        world.crashed.discard(node_id)
        for site in self.plan.sites:
            if site.location == node_id:
                world.sites_down[site.name] -= 1
        if node_id in self.host.nodes:
            self.crashes[node_id] += 1
            node = self._restart(node_id)
            node.start()
            for lp in self.plan.links.values():  # its own stations on links still cut
                other = lp.other(node_id) if node_id in (lp.a, lp.b) else None
                if lp.a == node_id and other is not None:
                    if world.links_down[frozenset((lp.a, lp.b))] > 0:
                        node.link_layer.link_down(lp.name)
                    elif other in world.crashed:
                        node.link_layer.link_down(lp.name, crashed=other)
        for lp in self.plan.links.values():
            if node_id in (lp.a, lp.b):
                station = self._live(lp.a)
                if station is not None and lp.a != node_id:
                    station.link_layer.link_up(lp.name)

    # -- controllers ---------------------------------------------------------------------------
    def _stop_controllers(self, target: str, now: float) -> None:
        world = self.world
        assert world is not None
        sites, routers = controller_targets(self.plan, target)
        for site in sites:
            world.sites_down[site] += 1
            world.outages.append((site, now))
        for router in routers:
            node = self._live(router)
            if node is not None and node.recovery is not None:
                node.recovery.rerouter.pause()

    def _start_controllers(self, target: str) -> None:
        world = self.world
        assert world is not None
        sites, routers = controller_targets(self.plan, target)
        for site in sites:
            world.sites_down[site] -= 1
        for router in routers:
            node = self._live(router)
            if node is not None and node.recovery is not None:
                node.recovery.rerouter.resume()

    # -- records -------------------------------------------------------------------------------
    def _owner(self, fault: FaultSpec) -> str:
        if fault.kind == "controller_down":
            sites, routers = controller_targets(self.plan, fault.target[0])
            if routers:
                return routers[0]
            located = [s.location for s in self.plan.sites if s.name in sites]
            return located[0] if located else self.plan.scenario.nodes[0].id
        return fault.target[0]

    def _owns(self, fault: FaultSpec) -> bool:
        return self.host.placement.get(self._owner(fault)) == self.host.host_id

    def _affected(self, fault: FaultSpec) -> list[str]:
        """Tenants whose path (as the owner node knows it) crosses the fault's target."""
        owner = self.host.nodes.get(self._owner(fault))
        paths = owner.plan.paths if owner is not None else self.plan.paths
        out = []
        for tenant, path in paths.items():
            if fault.kind in ("link_down", "classical_loss"):
                hops = {frozenset(h) for h in itertools.pairwise(path)}
                hit = frozenset(fault.target) in hops
            elif fault.kind == "controller_down":
                sites, routers = controller_targets(self.plan, fault.target[0])
                hit = self.plan.setup_node.get(tenant) in routers or any(
                    self.plan.site_of[n].name in sites for n in path
                )
            else:
                hit = fault.target[0] in path
            if hit:
                out.append(tenant)
        return sorted(out)


def _wipe(node: Node, now: float) -> int:
    """Measure every qubit a crashing node holds out of its pair (its partners learn by
    timeouts); returns how many halves were lost."""
    lost = 0
    for held in list(node.memory.qubits()):
        qubit = (node.node_id, held.link_pair)

        def reset(record: PairRecord, qubit: tuple[str, str] = qubit) -> None:
            index = record.index(qubit)
            record.advance(index, now)
            record.frozen[index] = True
            record.broken = True
            if all(record.frozen):
                node.env.store.remove(record)
            node.env.store.forget_qubit(qubit)

        node.env.store.operate([qubit], reset)
        node.env.emit(
            records.Discard(
                t_s=now,
                node=node.node_id,
                pair=held.link_pair,
                tenant=held.tenant,
                reason="crash",
                waited_s=now - held.created_at_s,
                occupied=0,
            )
        )
        lost += 1
    return lost


def lost_on_release(world: FaultWorld, message: Message, now: float) -> bool:
    """Whether a message due now is lost to a fault: its receiver crashed, its controller
    is stopped, or it is an instruction that was in flight when its controller stopped."""
    if message.dst in world.crashed:
        return True
    if isinstance(message, Report):
        return world.site_down(message.site)
    site = getattr(message, "site", None)
    if isinstance(site, str) and not isinstance(message, Heartbeat):
        return world.lost_instruction(site, message.sent_at_s, now)
    return False


def restart_rng(seed: int, node_id: str, count: int) -> np.random.Generator:
    """The generator of a node's ``count``-th restart (reproducible, independent)."""
    digest = sum((i + 1) * ord(c) for i, c in enumerate(node_id))
    return np.random.default_rng([seed, digest, count, 0xFA17])
