"""A host runs one or more nodes in one process: scheduler, store, message routing.

The host is the plain class behind a Ray actor (``runtime.ray_backend.HostActor``) and
behind the in-process virtual-time mode. Messages between its own nodes stay local but
are still released at their emulated delivery time; messages to other hosts leave as
msgpack frames through ``send_frame``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from qnemu.control.api import PairHeralded, PairReleased
from qnemu.control.hosting import ControllerHost
from qnemu.errors import EmulationError
from qnemu.node.node import Node
from qnemu.planning.plan import NetworkPlan
from qnemu.records import FrameRejected, RunEvent
from qnemu.runtime.faults import FaultInjector, FaultWorld, NodeEnv, lost_on_release, restart_rng
from qnemu.runtime.scheduler import ScheduledCall, _Kernel
from qnemu.runtime.transport import BadFrame
from qnemu.scenario.spec import FaultSpec
from qnemu.truth.store import GroundTruthStore
from qnemu.wire.messages import Message, Report, decode, encode

MAX_REJECT_EVENTS = 100  # rejected frames beyond this are counted, not each recorded


def generators(plan: NetworkPlan) -> dict[str, np.random.Generator]:
    """One independent generator per node and per controller site, from the scenario seed."""
    names = [n.id for n in plan.scenario.nodes] + [site.name for site in plan.sites]
    children = np.random.SeedSequence(plan.scenario.seed).spawn(len(names))
    return {name: np.random.default_rng(child) for name, child in zip(names, children, strict=True)}


class Host:
    """Runs the nodes placed on it; the environment every one of its nodes sees."""

    def __init__(
        self, host_id: int, plan: NetworkPlan, node_ids: list[str], placement: dict[str, int]
    ) -> None:
        self.host_id = host_id
        self.plan = plan
        self.placement = placement
        self.store = GroundTruthStore(host_id, self._send_internal)
        self._scheduler: _Kernel | None = None
        self._send_frame: Callable[[int, list[Any]], None] = _detached
        self._events: list[dict[str, Any]] = []
        rngs = generators(plan)
        #: the world's true faults (None: this scenario runs without faults or recovery)
        self.faults = FaultWorld() if plan.scenario.recovery or plan.scenario.faults else None
        self.controllers = {
            site.name: ControllerHost(site, plan.controller, plan, self, rngs[site.name])
            for site in plan.sites
            if site.location in node_ids
        }
        self.nodes = {
            node_id: Node(node_id, plan, self._env_for(node_id), rngs[node_id])
            for node_id in node_ids
        }
        self.injector = FaultInjector(self, self._restart) if self.faults is not None else None
        self.messages_sent = 0
        self.messages_released = 0
        self.rejected = 0
        self._message_latency_s: list[float] = []  # emulated, sent to released

    def attach(self, scheduler: _Kernel, send_frame: Callable[[int, list[Any]], None]) -> None:
        """Connect the host to its clock and to the other hosts."""
        self._scheduler = scheduler
        self._send_frame = send_frame

    @property
    def scheduler(self) -> _Kernel:
        """The kernel this host runs on (set by :meth:`attach`)."""
        if self._scheduler is None:
            raise EmulationError(f"host {self.host_id}: not attached to a scheduler")
        return self._scheduler

    def start(self) -> None:
        """Start every node (link generation begins at emulated time 0)."""
        for node in self.nodes.values():
            node.start()
        if self.injector is not None:
            self.injector.schedule(self.plan.scenario.faults)

    # -- faults ------------------------------------------------------------------------------
    def _env_for(self, node_id: str) -> Any:
        """The environment a node sees: this host, or (with faults) a per-node view whose
        timers die with the node when it crashes."""
        return NodeEnv(self, node_id) if self.faults is not None else self

    def inject(self, fault: FaultSpec, origin: str = "console") -> None:
        """Start ``fault`` now (or at its ``at_s`` if later): a live fault."""
        if self.injector is None:
            raise EmulationError("faults need recovery on (control.recovery: on)")
        self.injector.schedule([fault], origin)

    def end_fault(self, fault: FaultSpec) -> None:
        """End a live fault now (one started with no duration)."""
        if self.injector is None:
            raise EmulationError("faults need recovery on (control.recovery: on)")
        self.injector.end(fault)

    def _restart(self, node_id: str) -> Node:
        """A crashed node comes back empty: a fresh node, and fresh controllers it hosts."""
        assert self.injector is not None
        count = self.injector.crashes[node_id]
        rng = restart_rng(self.plan.scenario.seed, node_id, count)
        node = Node(node_id, self.plan, self._env_for(node_id), rng)
        self.nodes[node_id] = node
        for site in self.plan.sites:
            if site.location == node_id and site.name in self.controllers:
                site_rng = restart_rng(self.plan.scenario.seed, site.name, count)
                self.controllers[site.name] = ControllerHost(
                    site, self.plan.controller, self.plan, self, site_rng
                )
        return node

    def evacuate(self) -> tuple[int, int]:
        """This host's process is about to be killed (every node it runs crashed): hand the
        true state of pairs that outlive it to the hosts of their live qubits. Returns
        (records handed over, records dropped)."""
        gone = set(self.faults.crashed) if self.faults is not None else set(self.nodes)
        return self.store.evacuate(self.host_of, gone | set(self.nodes))

    def rejoin(self, crash: FaultSpec, crash_count: int, faults: list[FaultSpec]) -> None:
        """This host is a new process in place of one killed by ``crash`` (its
        ``crash_count``-th crash): take the world as ``faults`` make it now, silently (the
        others recorded them), arm what is still to come, and restart the crashed node
        empty at the crash's end."""
        injector, world = self.injector, self.faults
        if injector is None or world is None:
            raise EmulationError("a rejoining host needs faults on")
        now = self.now()
        for fault in faults:
            if fault is crash:
                continue
            if fault.at_s > now:
                injector.schedule([fault])
            elif fault.until_s > now:
                injector.assume(fault)
                if math.isfinite(fault.until_s):
                    self.scheduler.schedule(fault.until_s, injector.end, fault)
        for node_id in self.nodes:
            world.crashed.add(node_id)
            for site in self.plan.sites:
                if site.location == node_id:
                    world.sites_down[site.name] += 1
        injector.crashes[crash.target[0]] = crash_count - 1
        self.scheduler.schedule(max(now, crash.until_s), injector.end, crash)

    # -- the environment nodes see -----------------------------------------------------------
    def now(self) -> float:
        """Emulated time of the event being handled."""
        scheduler = self._scheduler  # not the property: nodes ask several times an event
        if scheduler is None:
            return self.scheduler.now()  # raises: not attached
        return scheduler.now()

    def schedule(self, time_s: float, callback: Any, *args: Any) -> ScheduledCall:
        """Run a node's callback at an emulated time."""
        scheduler = self._scheduler
        if scheduler is None:
            scheduler = self.scheduler  # raises: not attached
        return scheduler.schedule(time_s, callback, *args)

    def host_of(self, node: str) -> int:
        """The host a node is placed on."""
        return self.placement[node]

    def controller(self, site: str) -> ControllerHost:
        """The controller instance of ``site`` (it runs on this host)."""
        return self.controllers[site]

    def local_controllers(self) -> list[ControllerHost]:
        """Every controller instance this host runs."""
        return list(self.controllers.values())

    def send(self, message: Message) -> None:
        """Hand a classical message to its receiver's host, stamped with its delivery time."""
        self.messages_sent += 1
        target = self.placement[message.dst]
        if target == self.host_id:
            self.accept(message)
        else:
            self._send_frame(target, encode(message))

    def emit(self, event: RunEvent) -> None:
        """Record an event for the results folder (as the plain record that travels)."""
        self._events.append(event.to_dict())

    # -- inbound -----------------------------------------------------------------------------
    def on_frame(self, payload: list[Any]) -> None:
        """A frame arrived from another host: a classical message or a ground-truth hand-over.

        A frame that is not one this host can take raises :class:`BadFrame` before it
        changes anything (the transport drops and counts it).
        """
        if payload[0] > 0:
            self.accept(self._checked_message(payload))
        else:
            self._check_handover(payload)
            try:
                self.store.handle(payload)
            except (ValueError, TypeError, KeyError, IndexError, RuntimeError) as exc:
                raise BadFrame(f"hand-over refused: {type(exc).__name__}: {exc}") from exc

    def _checked_message(self, payload: list[Any]) -> Message:
        """The message a frame carries, if it is well formed and addressed to this host."""
        try:
            message = decode(payload)
        except (ValueError, TypeError) as exc:
            raise BadFrame(f"message refused: {exc}") from exc
        if isinstance(message, Report):
            if message.site not in self.controllers:
                raise BadFrame(f"report for controller {message.site!r}, not run here")
        elif message.dst not in self.nodes:
            raise BadFrame(f"message for node {message.dst!r}, not on this host")
        for name in ("sent_at_s", "deliver_at_s"):
            value = getattr(message, name)
            if not isinstance(value, (int, float)) or not math.isfinite(value):
                raise BadFrame(f"{type(message).__name__}.{name} is {value!r}")
        return message

    def _check_handover(self, payload: list[Any]) -> None:
        """Refuse hand-over frames of the wrong shape or naming a host that is not in the run."""
        hosts = set(self.placement.values()) - {self.host_id}
        if payload[0] == GroundTruthStore.ACQUIRE:
            if (
                len(payload) != 4
                or payload[3] not in hosts
                or not all(isinstance(x, str) for x in payload[1:3])
            ):
                raise BadFrame(f"malformed acquire {payload[:4]!r}")
        elif payload[0] == GroundTruthStore.TRANSFER:
            if len(payload) != 2 or not isinstance(payload[1], (list, dict)):
                raise BadFrame("malformed transfer")
        elif payload[0] == GroundTruthStore.MOVED:
            if (
                len(payload) != 4
                or payload[3] not in hosts | {self.host_id}
                or not all(isinstance(x, str) for x in payload[1:3])
            ):
                raise BadFrame(f"malformed moved {payload[:4]!r}")
        else:
            raise BadFrame(f"unknown frame code {payload[0]!r}")

    def reject(self, reason: str) -> None:
        """Record a refused frame or peer as an event (the first ``MAX_REJECT_EVENTS``)."""
        self.rejected += 1
        if self.rejected <= MAX_REJECT_EVENTS:
            now = self._scheduler.now() if self._scheduler is not None else 0.0
            self.emit(FrameRejected(t_s=now, host=self.host_id, reason=reason[:200]))

    def blame(self, event: ScheduledCall | None) -> str:
        """Who was running when ``event`` failed: a node, a controller, or this host."""
        if event is not None:
            callback, args = event.callback, event.args
            if getattr(callback, "__func__", None) is Host._release and args:
                message = args[0]
                if isinstance(message, Report):
                    return f"controller {message.site} (at node {message.dst})"
                return f"node {message.dst}"
            for owner in (getattr(callback, "__self__", None), *_closure_objects(callback)):
                name = getattr(owner, "node_id", None)
                if isinstance(name, str):
                    return f"node {name}"
        return f"host {self.host_id} (nodes {', '.join(self.nodes)})"

    def accept(self, message: Message) -> None:
        """Queue a classical message for release at its delivery time."""
        self.scheduler.schedule(message.deliver_at_s, self._release, message, measured=True)

    def _release(self, message: Message) -> None:
        if self.faults is not None and lost_on_release(self.faults, message, self.now()):
            return  # its receiver crashed, or its controller stopped
        self.messages_released += 1
        self._message_latency_s.append(message.deliver_at_s - message.sent_at_s)
        if isinstance(message, Report):
            self.controllers[message.site].dispatch(_report_events(message))
        else:
            self.nodes[message.dst].receive(message)

    def _send_internal(self, host: int, payload: list[Any]) -> None:
        if host == self.host_id:
            self.store.handle(payload)
        else:
            self._send_frame(host, payload)

    def drain_events(self) -> list[dict[str, Any]]:
        """Hand over and forget the events recorded so far."""
        events, self._events = self._events, []
        return events

    def drain(self) -> dict[str, Any]:
        """Events and fresh samples since the last drain (for results and telemetry).

        ``lateness_s``: wall seconds each released message was late;
        ``message_latency_s``: emulated seconds from send to release.
        """
        lateness = getattr(self._scheduler, "lateness_s", [])
        fresh = lateness[:]
        lateness.clear()  # handed over: the driver keeps the run's samples, not every actor
        latency, self._message_latency_s = self._message_latency_s, []
        return {
            "events": self.drain_events(),
            "lateness_s": fresh,
            "message_latency_s": latency,
            "host": self.host_id,
            "nodes": list(self.nodes),
        }


def _closure_objects(callback: Any) -> list[Any]:
    """The objects a plain function closes over (to find the node behind a local callback)."""
    cells = getattr(callback, "__closure__", None) or ()
    objects = []
    for cell in cells:
        try:
            objects.append(cell.cell_contents)
        except ValueError:  # an empty cell
            continue
    return objects


def _report_events(report: Report) -> list[PairHeralded | PairReleased]:
    """The controller events a node's report carries, as of its arrival."""
    t = report.deliver_at_s
    events: list[PairHeralded | PairReleased] = [
        PairReleased(t, report.src, pair, reason) for pair, reason in report.released
    ]
    events += [
        PairHeralded(t, report.src, pair, neighbor, tenant, created, known)
        for pair, neighbor, tenant, created, known in report.heralded
    ]
    return events


def _detached(host: int, payload: list[Any]) -> None:
    raise EmulationError(f"a frame for host {host} before this host was attached")
