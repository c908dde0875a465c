"""Every Ray call qnemu makes lives here: starting Ray, the HostActor actor, placement.

A ``HostActor`` actor is a thin shell over :class:`qnemu.runtime.host.Host`: it owns
the host's socket transport and real-time scheduler and answers the driver's control
calls (listen, connect, calibrate, clock, run, drain, finish). Classical messages never
travel as Ray calls: Ray only places, starts, stops and collects.

Cluster mode: :func:`start_ray` joins an existing cluster (``auto``, ``HOST:PORT`` or
``ray://HOST:PORT``) after checking, within seconds, that its address answers;
:func:`plan_placement` (pure, no Ray) decides which Ray node hosts each actor (packs are
never split: one actor is one process on one Ray node), and :func:`spawn` pins each actor
there with hard node affinity. On a cluster of several Ray nodes the actors listen on
their node's IP address so that actors on other machines can dial them; on one machine
they listen on loopback. :func:`clock_offsets` measures each Ray node's clock against the
driver's before t0 is agreed.

Failures: an actor never only logs an error. ``drain`` raises :class:`RunFailed` (naming
the node) once its scheduler recorded an exception, its scheduler stalled, or a peer's
connection was lost; :func:`call_all` turns a dead actor, or one that does not answer a
heartbeat (``drain``) within :data:`HEARTBEAT_TIMEOUT_S`, into a :class:`RunFailed`
naming its nodes. The embedded Ray runs with token authentication on (and quiet about
it), and its processes are reaped when the driver exits however it exits
(:mod:`qnemu.runtime.reaper`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import os
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from qnemu.errors import EmulationError
from qnemu.planning.calibration import Calibration
from qnemu.planning.plan import NetworkPlan
from qnemu.runtime import heap, reaper
from qnemu.runtime.clock import Clock
from qnemu.runtime.failure import RunFailed
from qnemu.runtime.host import Host
from qnemu.runtime.placement import RayNode
from qnemu.runtime.scheduler import RealTimeScheduler
from qnemu.runtime.transport import BadFrame, SocketTransport
from qnemu.scenario import Scenario
from qnemu.scenario.spec import FaultSpec

PING = -9
NODE_IP = "node"  # bind_host placeholder: the actor's own Ray node IP address
PROBE_TIMEOUT_S = 5.0  # a cluster address that does not accept TCP within this is dead
PROTOCOL_TIMEOUT_S = 3.0  # a cluster address that accepts TCP must speak gRPC within this
CLOCK_SAMPLES = 8  # RPC round trips per Ray node when measuring clock offsets
HEARTBEAT_TIMEOUT_S = 5.0  # an actor that does not answer a drain within this is frozen
STALL_S = 5.0  # wall seconds a due event may wait before its scheduler counts as stalled
CONTROL_TIMEOUT_S = 60.0  # start-up calls (listen, connect, calibrate, run)
# every HostActor, first or respawned: no CPU reserved (they are paced, not scheduled by
# Ray), and enough concurrency for drains and control calls beside the event loop
ACTOR_OPTIONS: dict[str, Any] = {"num_cpus": 0, "max_concurrency": 64}
_HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + bytes([0, 0, 0, 4, 0, 0, 0, 0, 0])
_reaper: Any = None  # the reaper of the embedded Ray this process started


def _frame_handler(host: Host, pings: list[float]) -> Callable[[list[Any]], None]:
    """The transport's callback for every frame: pings are timed here, the rest go to the
    host. A plain function, not an actor method: Ray wraps every method of an actor class
    in a tracing shim, a cost paid on each of thousands of frames a second."""

    def on_frame(payload: list[Any]) -> None:
        if payload[0] == PING:
            if len(payload) != 2 or not isinstance(payload[1], float):
                raise BadFrame("malformed ping")
            pings.append(time.time() - payload[1])
        else:
            host.on_frame(payload)

    return on_frame


class HostActor:
    """The Ray actor hosting one or more quantum nodes (see module docstring)."""

    def __init__(
        self,
        host_id: int,
        scenario: Scenario,
        node_ids: list[str],
        placement: dict[str, int],
        bind_host: str = "127.0.0.1",
        secret: bytes = b"",
        calibration: Calibration | None = None,
    ) -> None:
        # the driver's twin calibration: every actor takes the same decisions, none reruns it
        self.plan = NetworkPlan.build(scenario, calibration=calibration)
        self.host = Host(host_id, self.plan, node_ids, placement)
        self._pings: list[float] = []
        self.transport = SocketTransport(
            host_id,
            _frame_handler(self.host, self._pings),
            bind_host,
            secret,
            on_reject=self.host.reject,
        )
        self.scheduler: RealTimeScheduler | None = None
        self._duration_s = 0.0
        self._end_wall = math.inf
        self._loop_cpu_start = 0.0  # the loop thread's CPU clock when the run was armed

    async def listen(self) -> dict[str, Any]:
        """Open the listening socket; returns its address and where Ray placed us."""
        import ray

        if self.transport.bind_host == NODE_IP:
            self.transport.bind_host = ray.util.get_node_ip_address()
        address, port = await self.transport.listen()
        return {
            "address": address,
            "port": port,
            "pid": os.getpid(),
            "ray_node": ray.get_runtime_context().get_node_id(),
            "rss_bytes": _rss_bytes(),
        }

    async def clock(self) -> float:
        """This process's wall clock (``time.time()``), for offset measurement."""
        return time.time()

    async def connect(self, book: dict[int, tuple[str, int]]) -> None:
        """Dial every other host."""
        await self.transport.connect(book)

    async def calibrate(self, samples: int = 100, spacing_s: float = 0.002) -> dict[str, list]:
        """Measure timer lateness and one-way frame latency to oneself, in wall seconds."""
        loop = asyncio.get_running_loop()
        clock = Clock(time.time() + 0.01)
        scheduler = RealTimeScheduler(clock, loop, stop_at_s=math.inf)
        done = loop.create_future()
        for i in range(samples):
            scheduler.schedule(i * spacing_s, lambda: None, measured=True)
        scheduler.schedule(samples * spacing_s, lambda: done.set_result(None))
        scheduler.start()
        await self.transport.connect({-1: (self.transport.bind_host, self.transport.port)})
        for _ in range(samples // 2):
            self.transport.send(-1, [PING, time.time()])
            await asyncio.sleep(spacing_s)
        await done
        return {"timer": scheduler.lateness_s, "transport": self._pings}

    async def run(self, t0_wall: float, dilation: float, duration_s: float) -> None:
        """Arm the scheduler: nodes start at emulated 0 (wall ``t0_wall``)."""
        loop = asyncio.get_running_loop()
        self.scheduler = RealTimeScheduler(Clock(t0_wall, dilation), loop, stop_at_s=duration_s)
        self._duration_s = duration_s
        self._end_wall = t0_wall + duration_s * dilation
        self.host.attach(self.scheduler, self.transport.send)
        self.scheduler.schedule(0.0, self.host.start)
        self._go()

    def _go(self) -> None:
        """Start-up is over: freeze its heap, start the CPU clock, release events."""
        heap.settle()
        self._loop_cpu_start = time.thread_time()
        self.transport.watching = True
        self._armed().start()

    async def add_tenant(
        self, node: str, spec: dict[str, Any], path: list[str], rounds: int
    ) -> None:
        """The northbound API admitted a tenant that ``node`` routes: it adds it now
        (``qnemu.service.live``)."""
        scheduler = self._armed()
        scheduler.schedule(
            max(0.0, scheduler.clock.now()), self.host.nodes[node].add_tenant, spec, path, rounds
        )

    async def remove_tenant(self, node: str, tenant: str) -> bool:
        """The northbound API removed a tenant that ``node`` routes (False: unknown)."""
        scheduler = self._armed()
        if tenant not in self.host.nodes[node].plan.paths:
            return False
        scheduler.schedule(
            max(0.0, scheduler.clock.now()), self.host.nodes[node].remove_tenant, tenant, "api"
        )
        return True

    # -- a planned crash of this actor's node (see qnemu.runtime.crashes) -------------------
    async def evacuate(self) -> dict[str, Any] | None:
        """Every node here crashed (the fault timeline says so, in this host's world): hand
        the pairs that outlive them to the live hosts, stop, and return the last records
        and statistics (as :meth:`finish`) before the driver kills this process. None: the
        crash has not happened here yet (the driver asks again)."""
        world = self.host.faults
        if self.scheduler is None or world is None or not set(self.host.nodes) <= world.crashed:
            return None
        moved, dropped = self.host.evacuate()
        await self.transport.flush()
        final = self._final(await self.stop())
        return {**final, "pid": os.getpid(), "records_moved": moved, "records_dropped": dropped}

    async def peer_down(self, host_id: int) -> None:
        """Host ``host_id`` is being killed on purpose: losing it is no failure."""
        self.transport.peer_down(host_id)

    async def reconnect(self, host_id: int, address: tuple[str, int]) -> None:
        """Host ``host_id`` rejoined (a new process): dial it, with a fresh handshake."""
        await self.transport.connect({host_id: tuple(address)})  # type: ignore[dict-item]

    async def rejoin(
        self,
        t0_wall: float,
        dilation: float,
        duration_s: float,
        crash: FaultSpec,
        crash_count: int,
        faults: list[FaultSpec],
    ) -> float:
        """Arm this new process in place of the one ``crash`` killed: its node restarts
        empty at the crash's end (see ``Host.rejoin``). Returns the emulated time now."""
        loop = asyncio.get_running_loop()
        self.scheduler = RealTimeScheduler(Clock(t0_wall, dilation), loop, stop_at_s=duration_s)
        self._duration_s = duration_s
        self._end_wall = t0_wall + duration_s * dilation
        self.host.attach(self.scheduler, self.transport.send)
        listed = [crash if f == crash else f for f in faults]
        self.host.rejoin(crash, crash_count, listed)
        self._go()
        return self.scheduler.clock.now()

    # -- live control (``qnemu run --console --ray``; see qnemu.runtime.live_control) ------
    async def inject(self, fault: FaultSpec, origin: str) -> None:
        """Start ``fault`` at its ``at_s`` (or now, if that has passed here)."""
        scheduler = self._armed()
        now = scheduler.clock.now()
        if fault.at_s < now:
            fault = dataclasses.replace(fault, at_s=now)
        self.host.inject(fault, origin)

    async def end_fault(self, fault: FaultSpec, at_s: float) -> None:
        """End the live ``fault`` at emulated ``at_s`` (or now, if that has passed here)."""
        scheduler = self._armed()
        scheduler.schedule(max(at_s, scheduler.clock.now()), self._end_fault, fault)

    def _end_fault(self, fault: FaultSpec) -> None:
        world = self.host.faults
        node = fault.target[0]
        if world is not None and fault.kind == "node_crash" and node not in world.crashed:
            return  # already restarted (a process that rejoined restarts its node itself)
        self.host.end_fault(fault)

    async def view(self, kind: str, names: list[str] | None) -> str:
        """The console's ``kind`` view of the nodes this actor hosts."""
        from qnemu.runtime.views import view_text

        return view_text(self.host, kind, names, local_only=True)

    async def hold(self, at_s: float) -> None:
        """Pause at emulated ``at_s``: nothing later is released until :meth:`resume`."""
        self._armed().hold(at_s)

    async def resume(self, t0_wall: float) -> None:
        """Emulated time flows again from the new ``t0_wall`` (moved on by the pause)."""
        scheduler = self._armed()
        scheduler.resume(Clock(t0_wall, scheduler.clock.dilation))
        self._end_wall = t0_wall + self._duration_s * scheduler.clock.dilation

    def _armed(self) -> RealTimeScheduler:
        if self.scheduler is None:
            raise RuntimeError("the run has not started")
        return self.scheduler

    async def drain(self) -> dict[str, Any]:
        """Events and samples recorded since the last drain (see ``Host.drain``); the
        heartbeat: raises :class:`RunFailed` once something here failed (the events stay
        here for ``finish``)."""
        failure = self.failure()
        if failure is not None:
            raise failure
        return {**self.host.drain(), "cpu": self._cpu()}

    def failure(self) -> RunFailed | None:
        """What went wrong here, naming the node to blame, or None."""
        scheduler, transport = self.scheduler, self.transport
        if scheduler is not None and scheduler.failure is not None:
            where = self.host.blame(scheduler.failure.event)
            return RunFailed(
                f"{where} failed: {scheduler.failure.line()}", scheduler.failure.traceback
            )
        if transport.error is not None:
            error = transport.error
            return RunFailed(
                f"{self.host.blame(None)} failed handling a frame: {type(error).__name__}: {error}",
                _traceback(error),
            )
        # a peer that finished first and closed after the run's end is no failure
        if transport.lost is not None and transport.lost_at_wall < self._end_wall:
            return RunFailed(f"{self.host.blame(None)}: {transport.lost}")
        overdue = scheduler.overdue_s() if scheduler is not None else 0.0
        if overdue > STALL_S:
            return RunFailed(
                f"{self.host.blame(None)}: its scheduler stalled (the next event "
                f"is {overdue:.1f} s overdue)"
            )
        return None

    async def stop(self) -> float:
        """Release nothing more; returns the emulated time this host reached."""
        self.transport.watching = False
        if self.scheduler is None:
            return 0.0
        reached = min(self._duration_s, max(0.0, self.scheduler.clock.now()))
        if self.scheduler.failure is None:
            self.scheduler.stop()
        return reached

    async def finish(self) -> dict[str, Any]:
        """Stop releasing events, close sockets, return the last events and statistics.

        Never raises: ``failure`` carries what went wrong here (None if nothing did), so
        the driver keeps this host's last records even when the run failed.
        """
        reached = await self.stop()
        final = self._final(reached)
        await self.transport.close()
        return final

    def _final(self, reached: float) -> dict[str, Any]:
        """The last records and statistics of this host (see :meth:`finish`)."""
        failure = self.failure()
        return {
            **self.host.drain(),
            "reached_s": reached,
            "failure": None if failure is None else [str(failure), failure.details],
            "messages_sent": self.host.messages_sent,
            "messages_released": self.host.messages_released,
            "frames_sent": self.transport.frames_sent,
            "frames_rejected": self.transport.frames_rejected,
            "frames_lost": self.transport.frames_lost,
            "peers_rejected": self.transport.peers_rejected,
            "handovers": self.host.store.handovers,
            "cpu": self._cpu(),
        }

    def _cpu(self) -> dict[str, float]:
        """Where the event loop's thread spent its CPU since the run was armed (seconds):
        releasing events (node and controller logic), handling received frames (queueing
        messages, ground-truth hand-overs and the operations they unblock), and the rest
        (waking up, sockets, asyncio); ``wakes`` counts the timer wake-ups that released.
        Call it on the loop's thread (thread CPU time is per thread)."""
        if self.scheduler is None:
            return {"loop_s": 0.0, "events_s": 0.0, "frames_s": 0.0, "wakes": 0}
        return {
            "loop_s": time.thread_time() - self._loop_cpu_start,
            "events_s": self.scheduler.release_cpu_s,
            "frames_s": self.transport.frames_cpu_s,
            "wakes": self.scheduler.wakes,
        }


def start_ray(address: str | None) -> bool:
    """Connect to ``address`` or start an embedded local Ray; True if we started it.

    A cluster address is checked first (:func:`check_address`), so a dead one, or a port
    that is not Ray, fails with a clear :class:`EmulationError` in seconds instead of
    Ray's long retry loop. The embedded Ray keeps Ray's token authentication on, says so
    explicitly (no warning on every run), and is reaped with the driver.
    """
    import ray

    global _reaper
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    if address:
        check_address(address)
    else:
        _quiet_token_notice()
        _reaper = _reaper or reaper.start()
    handler = _sigterm_handler()
    try:
        ray.init(
            address=address or "local",
            include_dashboard=False,
            logging_level=logging.WARNING,
            configure_logging=True,
            log_to_driver=True,
            namespace="qnemu",
        )
        if callable(handler):  # ray.init replaces it with sys.exit: the caller's comes first
            signal.signal(signal.SIGTERM, handler)
    except (ConnectionError, RuntimeError, ValueError, ray.exceptions.RayError) as exc:
        hint = (
            "; check that RAY_AUTH_MODE and the auth token match the cluster's"
            if "auth" in str(exc).lower()
            else ""
        )
        raise EmulationError(
            f"ray: cannot connect to {address or 'local'}: "
            f"{str(exc).splitlines()[0] if str(exc) else exc!r}{hint}"
        ) from exc
    return address is None


def _sigterm_handler() -> Any:
    """The SIGTERM handler in place (None off the main thread, where none can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.getsignal(signal.SIGTERM)


class _DropTokenNotice(logging.Filter):
    """Drops Ray's notice that token authentication is on (it stays on; we chose it)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "Token authentication is enabled" not in record.getMessage()


def _quiet_token_notice() -> None:
    """Ray warns on every new local cluster that it turned token auth on: keep it on, quietly.

    Where the user set ``RAY_AUTH_MODE`` Ray says nothing and does what it says.
    """
    logger = logging.getLogger("ray._private.authentication.authentication_token_setup")
    if not any(isinstance(f, _DropTokenNotice) for f in logger.filters):
        logger.addFilter(_DropTokenNotice())


def resolve_address(address: str) -> tuple[str, int]:
    """The (host, port) that must accept TCP for ``address`` to be a live cluster.

    ``auto`` means ``$RAY_ADDRESS`` or the cluster ``ray start`` recorded on this machine;
    ``ray://HOST:PORT`` is a Ray Client server; ``HOST:PORT`` a GCS.
    """
    target = address
    if address == "auto":
        target = os.environ.get("RAY_ADDRESS", "") or _current_cluster()
        if not target:
            raise EmulationError(
                "address: 'auto' found no running Ray cluster on this machine "
                "(start one with `ray start --head` or give HOST:PORT)"
            )
        if target == "auto":
            raise EmulationError("address: RAY_ADDRESS=auto is circular; give HOST:PORT")
    if target.startswith("ray://"):
        target = target[len("ray://") :]
    elif "://" in target:
        raise EmulationError(f"address: {address!r} must be auto, HOST:PORT or ray://HOST:PORT")
    host, sep, port = target.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise EmulationError(f"address: {address!r} must be auto, HOST:PORT or ray://HOST:PORT")
    return host.strip("[]"), int(port)


def check_address(address: str, timeout_s: float = PROBE_TIMEOUT_S) -> tuple[str, int]:
    """Fail fast (``EmulationError``) when nothing accepts TCP at the cluster's address, or
    what accepts it does not speak gRPC (HTTP/2) as Ray's GCS and Ray Client server do."""
    host, port = resolve_address(address)
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            if os.environ.get("RAY_USE_TLS", "0").lower() not in ("1", "true"):
                _check_grpc(sock, host, port)
    except OSError as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else (exc.strerror or str(exc))
        stale = (
            " (the cluster recorded by `ray start` on this machine looks stopped)"
            if address == "auto" and not os.environ.get("RAY_ADDRESS")
            else ""
        )
        raise EmulationError(
            f"address: no Ray cluster answers at {host}:{port}{stale}: {reason}"
        ) from None
    return host, port


def _check_grpc(sock: socket.socket, host: str, port: int) -> None:
    """A gRPC server answers the HTTP/2 preface with a SETTINGS frame; anything else is not
    Ray (it would leave ``ray.init`` retrying for minutes)."""
    sock.settimeout(PROTOCOL_TIMEOUT_S)
    try:
        sock.sendall(_HTTP2_PREFACE)
        head = b""
        while len(head) < 9:
            chunk = sock.recv(9 - len(head))
            if not chunk:
                break
            head += chunk
    except TimeoutError:
        head = b""
    if len(head) < 9 or head[3] != 0x04:
        raise EmulationError(
            f"address: {host}:{port} accepts TCP but is not a Ray cluster "
            f"(no gRPC answer within {PROTOCOL_TIMEOUT_S:g} s)"
        )


def _current_cluster() -> str:
    """The GCS address the last ``ray start --head`` on this machine recorded, or ''."""
    import tempfile

    for root in {os.environ.get("RAY_TMPDIR", ""), tempfile.gettempdir(), "/tmp"}:
        path = Path(root or "/tmp") / "ray" / "ray_current_cluster"
        if path.is_file():
            return path.read_text().strip()
    return ""


def stop_ray() -> None:
    """Shut the embedded Ray down (its reaper then ends anything it left behind)."""
    import ray

    global _reaper
    ray.shutdown()
    reaper.stop(_reaper)
    _reaper = None


_STANDARD_RESOURCES = ("CPU", "GPU", "memory", "object_store_memory", "node:")


def cluster_nodes() -> list[RayNode]:
    """The cluster's alive Ray nodes, the driver's own first."""
    import ray

    here = ray.get_runtime_context().get_node_id()
    nodes = []
    for info in ray.nodes():
        if not info.get("Alive"):
            continue
        custom = frozenset(
            r for r in info.get("Resources", {}) if not r.startswith(_STANDARD_RESOURCES)
        )
        labels = frozenset(
            str(v) for k, v in (info.get("Labels") or {}).items() if not k.startswith("ray.io/")
        )
        nodes.append(
            RayNode(
                info["NodeID"], info["NodeManagerAddress"], custom, labels, info["NodeID"] == here
            )
        )
    return sorted(nodes, key=lambda n: (not n.is_driver, n.node_id))


def cluster_cpus() -> int:
    """CPUs the whole cluster reports (for choosing how many nodes to pack per actor)."""
    import ray

    return max(1, int(ray.cluster_resources().get("CPU", 1)))


def spawn(
    scenario: Scenario,
    groups: list[list[str]],
    bind_host: str = "127.0.0.1",
    targets: list[str] | None = None,
    secret: bytes = b"",
    calibration: Calibration | None = None,
) -> list:
    """One HostActor actor per group of nodes, each pinned to its target Ray node.

    ``bind_host`` :data:`NODE_IP` makes each actor listen on its own Ray node's IP;
    ``secret`` is the run's transport secret (see :mod:`qnemu.runtime.transport`);
    ``calibration`` the driver's plan calibration (see ``NetworkPlan.build``).
    """
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    placement = {node: i for i, group in enumerate(groups) for node in group}
    actor_class = ray.remote(HostActor)
    actors = []
    for i, group in enumerate(groups):
        options: dict[str, Any] = dict(ACTOR_OPTIONS)
        if targets is not None:
            options["scheduling_strategy"] = NodeAffinitySchedulingStrategy(targets[i], soft=False)
        actors.append(
            actor_class.options(**options).remote(
                i, scenario, group, placement, bind_host, secret, calibration
            )
        )
    return actors


def respawn(
    scenario: Scenario,
    host_id: int,
    group: list[str],
    placement: dict[str, int],
    bind_host: str = "127.0.0.1",
    secret: bytes = b"",
    calibration: Calibration | None = None,
) -> list:
    """A new HostActor for host ``host_id`` (its process was killed by a planned crash),
    wherever Ray places it (it listens on ``bind_host`` as the others do)."""
    import ray

    actor_class = ray.remote(HostActor)
    return [
        actor_class.options(**ACTOR_OPTIONS).remote(
            host_id, scenario, group, placement, bind_host, secret, calibration
        )
    ]


def clock_offsets(
    actors: list, ray_nodes: list[str], samples: int = CLOCK_SAMPLES, timeout_s: float = 30.0
) -> dict[str, dict[str, float]]:
    """Each Ray node's clock minus the driver's, measured through one actor on it.

    Per sample the driver reads ``time.time()`` before and after an RPC returning the
    actor's ``time.time()``; the offset is the actor's reading minus the midpoint. The
    sample with the shortest round trip wins; ``rtt_s / 2`` bounds its error.
    """
    import ray

    first: dict[str, Any] = {}
    for actor, node in zip(actors, ray_nodes, strict=True):
        first.setdefault(node, actor)
    result = {}
    try:
        for node, actor in first.items():
            best = (math.inf, 0.0)
            for _ in range(samples):
                sent = time.time()
                remote = ray.get(actor.clock.remote(), timeout=timeout_s)
                received = time.time()
                best = min(best, (received - sent, remote - (sent + received) / 2))
            result[node] = {"offset_s": best[1], "rtt_s": best[0]}
    except ray.exceptions.RayError as exc:
        raise EmulationError(f"ray: clock measurement failed on a node actor: {exc}") from exc
    return result


def check_clock_offsets(offsets: dict[str, dict[str, float]], tolerance_s: float) -> float:
    """The largest |offset| (wall s); ``EmulationError`` when it exceeds ``tolerance_s``."""
    worst_node, worst = "", 0.0
    for node, measured in offsets.items():
        if abs(measured["offset_s"]) >= worst:
            worst_node, worst = node, abs(measured["offset_s"])
    if worst > tolerance_s:
        raise EmulationError(
            f"clock: Ray node {worst_node[:12]} is {worst * 1e3:.3f} ms off the driver's clock, "
            f"more than the {tolerance_s * 1e3:.3f} ms tolerated (a fraction of the shortest "
            f"emulated delay x dilation); synchronize the machines' clocks (chrony/NTP/PTP) "
            f"or raise the dilation"
        )
    return worst


def _rss_bytes() -> int:
    """Resident memory of this process (Linux /proc; 0 where unavailable)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def call_all(
    actors: list,
    method: str,
    *args: Any,
    timeout_s: float = CONTROL_TIMEOUT_S,
    names: list[list[str]] | None = None,
) -> list:
    """Call one method on every actor and wait for all results.

    A failure names the actor's nodes (``names``): a dead actor, the :class:`RunFailed` an
    actor raised, or one that did not answer within ``timeout_s`` (frozen), in that order
    of blame (a peer of a dead actor reports a lost connection too).
    """
    import ray

    refs = [getattr(a, method).remote(*args) for a in actors]
    try:
        return ray.get(refs, timeout=timeout_s)
    except (ray.exceptions.RayError, TimeoutError) as exc:
        raise _blame(refs, method, timeout_s, names or [[] for _ in actors], exc) from None


def call_one(actor: Any, method: str, *args: Any, timeout_s: float = CONTROL_TIMEOUT_S) -> Any:
    """Call one method on one actor and wait for its result (failures as ``call_all``)."""
    return call_all([actor], method, *args, timeout_s=timeout_s)[0]


def _blame(
    refs: list, method: str, timeout_s: float, names: list[list[str]], first: BaseException
) -> EmulationError:
    """The error that explains a failed :func:`call_all` best."""
    import ray

    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=0)
    ready_ids = {r.hex() for r in ready}
    died, raised, silent = [], [], []
    for ref, nodes in zip(refs, names, strict=True):
        who = f"node {nodes[0]}" if len(nodes) == 1 else f"nodes {', '.join(nodes)}"
        if ref.hex() not in ready_ids:
            silent.append(
                RunFailed(
                    f"{who}: its actor did not answer {method} within "
                    f"{timeout_s:g} s (frozen, or the machine is overloaded)"
                )
            )
            continue
        try:
            ray.get(ref, timeout=0)
        except ray.exceptions.RayTaskError as exc:
            cause = getattr(exc, "cause", None)
            raised.append(
                cause
                if isinstance(cause, RunFailed)
                else RunFailed(f"{who}: {method} failed: {_first_line(exc)}", str(exc))
            )
        except ray.exceptions.RayError as exc:
            died.append(RunFailed(f"{who}: its actor process died ({_first_line(exc)})", str(exc)))
    # an actor's own error explains more than a peer that was merely slow to answer
    found = died + raised + silent
    if found:
        return found[0]
    return EmulationError(f"ray: {method} failed on a node actor: {_first_line(first)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _traceback(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def finish_all(actors: list, names: list[list[str]], timeout_s: float) -> list[dict[str, Any]]:
    """``finish`` every actor that still answers within ``timeout_s``; the others are
    skipped (dead or frozen: their last records are lost, and the run already failed)."""
    import ray

    refs = [a.finish.remote() for a in actors]
    ready, _ = ray.wait(refs, num_returns=len(refs), timeout=timeout_s)
    finals = []
    for ref in ready:
        try:
            finals.append(ray.get(ref, timeout=0))
        except ray.exceptions.RayError:
            continue
    return finals


def kill(actors: list) -> None:
    """Terminate actors without waiting for them."""
    import ray

    for actor in actors:
        ray.kill(actor)


def kill_dead(actor: Any, nodes: list[str], timeout_s: float) -> None:
    """Kill ``actor``'s process (a planned crash) and block until Ray reports it dead (a
    call to it fails); one that still answers after ``timeout_s`` fails the run."""
    import ray

    ray.kill(actor, no_restart=True)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        try:
            ray.get(actor.clock.remote(), timeout=1.0)
        except ray.exceptions.RayActorError:
            return
        except ray.exceptions.GetTimeoutError:
            continue
        time.sleep(0.05)
    raise RunFailed(f"node {nodes[0]}: its actor was killed but did not die")
