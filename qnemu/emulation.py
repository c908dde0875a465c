"""The facade that turns a scenario into a running emulation and a results folder.

``Emulation(scenario).run()`` starts (or joins) Ray, places the nodes on HostActor
actors, agrees on t0, runs for the scenario's emulated duration while streaming events to
the results folder, and writes ``summary.json``. ``mode="virtual"`` runs the same node
logic in this process in virtual time (no Ray, no wall clock): exact and fast, for tests
and for checking the physics of a scenario.

A run never lies about how it ended: ``summary.json`` says ``status`` (``completed``,
``interrupted`` or ``failed``), ``reason`` and ``emulated_s`` (the emulated time actually
reached, by which every rate is divided). A failure anywhere (a node's or controller's
exception, a dead, frozen or stalled actor, a lost connection, a full disk) ends the run
with :class:`RunFailed`, whose traceback goes to ``error.txt``; every record written so far
stays. Ctrl-C (or :class:`Terminated`, SIGTERM) ends it as ``interrupted``.

Before emulated time 0 the run says its dilation, why it was chosen, and the wall time it
is expected to take (``duration_s x dilation`` plus start-up); while it goes, the first
time its lateness so far is beyond the overload tolerance it warns once (``warn``), and the
summary says ``emulator.overloaded`` and ``overload_seen_at_s``. A run joins a Ray that is
already up (``qnemu compare`` starts one for all its runs) and only stops the one it
started itself; ``emulator.ray_node_id`` and ``ray_started`` say which it was.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import operator
import secrets
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from qnemu.control.api import Controller
from qnemu.control.registry import controller_name
from qnemu.errors import EmulationError, ScenarioError
from qnemu.planning.plan import NetworkPlan
from qnemu.results import (
    RunFolder,
    Summary,
    SummaryBuilder,
    TenantTally,
    check_results_root,
    percentile,
)
from qnemu.runtime.actor_cpu import actor_cpu
from qnemu.runtime.failure import RunFailed
from qnemu.runtime.host import Host
from qnemu.runtime.pacing import (
    LIVE_OVERLOAD_MIN_SAMPLES,
    dilation_for,
    overload_tolerance_s,
)
from qnemu.runtime.scheduler import VirtualScheduler
from qnemu.scenario import Scenario

if TYPE_CHECKING:
    from qnemu.console import LiveConsole
    from qnemu.runtime.crashes import ProcessCrashes
from qnemu.service.live import LiveTenants, driver_hooks
from qnemu.service.sla import ServiceLedger, sla_predicted

#: SLA windows are counted this many wall seconds behind the drained time (records of
#: the last moments may still be on their way from the actors).
HEARTBEAT_LAG_S = 0.3
_T_S = operator.itemgetter("t_s")  # the sort key of drained records
SALVAGE_TIMEOUT_S = 2.0  # wall seconds to collect the last records after a stop or failure


class Terminated(KeyboardInterrupt):
    """The run was asked to stop by a signal other than Ctrl-C (SIGTERM): same handling."""

    def __init__(self, signal_name: str = "SIGTERM") -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


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
    """What the driver reports while a run goes: emulated time and pairs so far, and (for
    a live view) each tenant's figures so far, violations by kind, and message lateness."""

    emulated_s: float
    duration_s: float
    delivered: int
    #: ``summary.json``'s per-tenant block so far (rates per emulated second reached)
    tenants: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    violations: dict[str, int] = dataclasses.field(default_factory=dict)
    #: p99 of the last :data:`LATENESS_WINDOW` messages' lateness (wall s); None in
    #: virtual time or before any message
    lateness_p99_s: float | None = None
    overloaded: bool = False


#: Messages the live lateness figure of :class:`Progress` is taken over (the latest ones).
LATENESS_WINDOW = 10_000


class Emulation:
    """One run of one scenario (see the module docstring)."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        address: str | None = None,
        results_dir: str | Path = "runs",
        dilation: float | None = None,
        mode: str = "ray",
        say: Callable[[str], None] | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        telemetry: TelemetrySink | None = None,
        warn: Callable[[str], None] | None = None,
        dilation_reason: str = "set by the user",
        choose: Callable[[float], tuple[float, str]] | None = None,
        controller: str | type[Controller] | None = None,
    ) -> None:
        if mode not in ("ray", "virtual"):
            raise ScenarioError(f"mode: must be 'ray' or 'virtual', got {mode!r}")
        if dilation is not None and not dilation >= 1:
            raise ScenarioError(f"dilation: must be >= 1, got {dilation}")
        if controller is not None:  # a class or any name ``qnemu run --controller`` takes
            scenario = dataclasses.replace(
                scenario,
                control=dataclasses.replace(
                    scenario.control, architecture=controller_name(controller)
                ),
            )
        self.scenario = scenario
        self.plan = NetworkPlan.build(scenario)
        # the service layer: arrivals, departures, SLA windows; the API when one serves
        admitted = [t for t in scenario.tenants if t.name in self.plan.paths]
        readout = {n: node.profile.measurement_error for n, node in self.plan.nodes.items()}
        self.ledger = ServiceLedger(admitted, sla_predicted(self.plan), readout)
        self.api: Any = None
        self.live: LiveTenants | None = None  # while a run goes (Ray mode)
        self._builder: SummaryBuilder | None = None
        self.address = address
        self.results_dir = Path(results_dir)
        self.dilation = dilation if dilation is not None else scenario.dilation
        self.mode = mode
        self.say = say or (lambda text: None)
        self.warn = warn or self.say  # the live overload warning (stderr on the CLI)
        self.dilation_reason = dilation_reason  # said when ``dilation`` is given
        # auto dilation from the measured lateness (wall s); default: this plan's needs
        self.choose = choose or (lambda lateness_s: dilation_for(self.plan, lateness_s))
        self.on_progress = on_progress
        self.telemetry = telemetry
        self._lateness_s: list[float] = []
        self._late_tolerance_wall = math.inf  # lateness (wall s) beyond it counts as late
        self._late_count = 0  # samples beyond the tolerance so far
        self._overload_seen_at: float | None = None  # emulated s the run first looked it
        self._t0, self._dilation_now = 0.0, 1.0  # of the run going on (Ray mode)
        self._start_margin_s = 0.0  # of the run going on (Ray mode)
        self._secret = secrets.token_bytes(32)  # authenticates this run's transport
        self._emulator: dict[str, Any] = {}  # the emulator block, filled as the run goes
        self._reached_s = 0.0  # emulated time up to which every record is in the folder
        self.book: dict[int, tuple[str, int]] = {}  # each actor's transport address
        self.actor_pids: list[int] = []  # each actor's process id (same machine or not)
        self.folder: RunFolder | None = None
        self.summary: dict[str, Any] | None = None
        #: the live console (``qnemu run --console``): set before :meth:`run`
        self.console: LiveConsole | None = None

    # -- public ------------------------------------------------------------------------------
    @property
    def emulator(self) -> dict[str, Any]:
        """The emulator block as far as the run got (dilation, calibration, actors, ...)."""
        return self._emulator

    def run(self) -> Summary:
        """Run to the end (or to Ctrl-C); returns the summary also written to disk (a dict
        with attribute access and the run's records as DataFrames: :class:`Summary`).

        The results folder is created only once the nodes are placed and about to start,
        so a run that cannot start (bad address, unknown machine label) leaves nothing behind.
        A failure while it runs raises :class:`RunFailed` after the summary (``status:
        failed``) and ``error.txt`` were written; Ctrl-C re-raises ``KeyboardInterrupt``.
        """
        check_results_root(self.results_dir)
        self.folder = None
        self.summary = None
        self._reached_s = 0.0
        self._lateness_s = []
        self._late_tolerance_wall, self._late_count = math.inf, 0
        self._overload_seen_at = None
        builder = SummaryBuilder([(t.name, t.app, t.f_min) for t in self.scenario.tenants])
        self._builder = builder
        emulator: dict[str, Any] = {}
        status, reason, details = "completed", None, ""
        try:
            if self.mode == "virtual":
                emulator = self._run_virtual(builder)
            else:
                emulator = self._run_ray(builder)
        except KeyboardInterrupt as exc:
            status = "interrupted"
            reason = (
                f"stopped by {exc.signal_name}"
                if isinstance(exc, Terminated)
                else "stopped by Ctrl-C (SIGINT)"
            )
            raise
        except RunFailed as exc:
            status, reason, details = "failed", str(exc), exc.details or _format(exc)
            raise
        except Exception as exc:
            status, reason, details = "failed", _one_line(exc), _format(exc)
            raise
        finally:
            emulator = emulator or self._emulator
            self._conclude(builder, emulator, status, reason, details)
        if self.summary is None:  # _conclude always writes one; a bug otherwise
            raise EmulationError("the run ended without a summary")
        return Summary(self.summary)

    async def run_async(self) -> Summary:
        """:meth:`run` without blocking the caller's event loop (Jupyter's, for one): the
        run goes in a worker thread and this coroutine waits for it."""
        return await asyncio.to_thread(self.run)

    def _conclude(
        self,
        builder: SummaryBuilder,
        emulator: dict[str, Any],
        status: str,
        reason: str | None,
        details: str,
    ) -> None:
        """Write the summary (and ``error.txt``) of however the run ended; close telemetry."""
        try:
            if self.folder is not None:
                emulated = self.scenario.duration_s if status == "completed" else self._reached_s
                if self.console is not None:  # ``quit`` ends a console run where it got
                    emulated = self._reached_s
                self._close_windows(builder, emulated)
                self.summary = self._summary(builder, emulator, status, reason, emulated)
                if status == "failed":
                    self.folder.write_error(details or f"{reason}\n")
                self.folder.write_summary(self.summary)
        finally:
            if self.folder is not None:
                self.folder.close()
            if self.telemetry is not None:
                self.telemetry.close(self.summary or {})

    # -- virtual time ------------------------------------------------------------------------
    def _run_virtual(self, builder: SummaryBuilder) -> dict[str, Any]:
        scenario = self.scenario
        ids = [n.id for n in scenario.nodes]
        host = Host(0, self.plan, ids, dict.fromkeys(ids, 0))
        scheduler = VirtualScheduler(stop_at_s=scenario.duration_s)
        host.attach(scheduler, _no_remote_hosts)
        scheduler.schedule(0.0, host.start)
        self._emulator = {
            "mode": "virtual",
            "dilation": None,
            "actors": 0,
            "nodes_per_actor": len(ids),
        }
        self._begin(builder, {"mode": "virtual", "actors": 0, "dilation": None})
        if self.console is not None:  # ``qnemu run --console``: paced, commands between steps
            return self._run_console(host, scheduler, builder)
        step = scenario.duration_s / 20
        wall = time.perf_counter()
        for i in range(1, 21):
            try:
                scheduler.run(i * step)
            except Exception as exc:
                self._record(builder, [host.drain()])
                raise RunFailed(
                    f"{host.blame(scheduler.current)} failed: {_one_line(exc)}", _format(exc)
                ) from exc
            self._record(builder, [host.drain()])
            self._reached_s = i * step
            self._close_windows(builder, i * step)
            self._progress(i * step, builder)
        return {
            **self._emulator,
            "lateness_p50_s": 0.0,
            "lateness_p99_s": 0.0,
            "overloaded": False,
            "messages": host.messages_released,
            "wall_s": time.perf_counter() - wall,
        }

    def _run_console(
        self, host: Host, scheduler: VirtualScheduler, builder: SummaryBuilder
    ) -> dict[str, Any]:
        """Virtual time paced by the wall clock while the live console takes commands."""
        from qnemu.console import drive_virtual

        assert self.console is not None
        wall = time.perf_counter()

        def record(batches: list[dict[str, Any]]) -> None:
            self._record(builder, batches)

        def progress(emulated_s: float) -> dict[str, Any]:
            self._reached_s = emulated_s
            self._progress(emulated_s, builder)
            return {
                "tenants": builder.tenant_table(emulated_s) if emulated_s > 0 else {},
                "violations": dict(builder.violations),
            }

        # tenants added live (API, console ``tenant add``) reach the host in this thread
        add, remove = driver_hooks(host, self.console)
        self.live = LiveTenants(self.plan, host.now, add, remove, self.ledger.track)
        self.console.service = self
        try:
            reached = drive_virtual(
                self.console, host, scheduler, self.scenario.duration_s, record, progress
            )
        except Exception as exc:
            raise RunFailed(
                f"{host.blame(scheduler.current)} failed: {_one_line(exc)}", _format(exc)
            ) from exc
        self._reached_s = reached
        self._emulator["dilation"] = self.console.dilation
        return {
            **self._emulator,
            "lateness_p50_s": 0.0,
            "lateness_p99_s": 0.0,
            "overloaded": False,
            "messages": host.messages_released,
            "wall_s": time.perf_counter() - wall,
            "console": True,
        }

    # -- Ray ---------------------------------------------------------------------------------
    def _run_ray(self, builder: SummaryBuilder) -> dict[str, Any]:
        from qnemu.runtime import ray_backend
        from qnemu.runtime.startup import start_actors

        ray_started = ray_backend.start_ray(self.address)
        actors: list = []
        try:
            started = start_actors(
                self.scenario,
                self.plan,
                self._secret,
                ray_started=ray_started,
                dilation=None if self.dilation is None else float(self.dilation),
                dilation_reason=self.dilation_reason,
                choose=self.choose,
                say=self.say,
                spawned=actors.extend,
            )
            self._groups = started.groups
            self._bind_host = started.bind_host
            self.book, self.actor_pids = started.book, started.actor_pids
            self._start_margin_s = started.start_margin_s
            self.dilation_reason = started.dilation_reason
            self._emulator = started.emulator
            dilation = started.dilation
            self._begin(builder, {"mode": "ray", "actors": len(actors), "dilation": dilation})
            return self._drive(actors, dilation, builder)
        finally:
            if actors:
                ray_backend.kill(actors)
            if ray_started:
                ray_backend.stop_ray()

    def _drive(self, actors: list, dilation: float, builder: SummaryBuilder) -> dict[str, Any]:
        """Run the actors to the scenario's end; on Ctrl-C or a failure collect what they
        still hold, note how far the run got, and re-raise."""
        from qnemu.runtime import heap, ray_backend

        heap.settle()  # a full collection over the driver's start-up heap stalled heartbeats
        duration = self.scenario.duration_s
        t0 = time.time() + self._start_margin_s
        self._t0, self._dilation_now = t0, dilation
        self._late_tolerance_wall = overload_tolerance_s(self.plan) * dilation
        ray_backend.call_all(actors, "run", t0, dilation, duration, names=self._groups)
        self._crashes = self._process_crashes(actors, t0, dilation, builder)
        if self.console is not None:
            self._attach_console(builder)
        self.live = self._live_tenants(actors, t0, dilation)
        if self.console is not None:  # the console's ``tenant`` command admits through it
            self.console.service = self
        self._emulator["start_margin_s"] = self._start_margin_s
        self._emulator["armed_before_t0_s"] = t0 - time.time()  # < 0: the start was late
        self._emulator["frames_rejected"] = self._emulator["peers_rejected"] = 0
        try:
            first_pair_wall = self._heartbeats(actors, t0, dilation, builder)
            alive, names = self._crashes.alive()
            if self.console is not None:  # ended early (quit): nobody minds closed sockets
                ray_backend.call_all(alive, "stop", names=names)
            finals = ray_backend.call_all(alive, "finish", names=names)
        except BaseException:
            self._salvage(actors, t0, dilation, builder)
            raise
        finally:
            if self.console is not None:
                self.console.drain_on_exit()
        finals += self._crashes.finals
        self._emulator.update(self._crashes.summary())
        self._record(builder, finals)
        self._tally(finals, t0, dilation)
        self._watch_overload(final=True)
        failures = [f["failure"] for f in finals if f["failure"] is not None]
        if failures:
            raise RunFailed(*failures[0])
        self._emulator["first_pair_wall_s"] = (
            None if first_pair_wall is None else first_pair_wall - t0
        )
        return self._emulator

    def _heartbeats(
        self, actors: list, t0: float, dilation: float, builder: SummaryBuilder
    ) -> float | None:
        """Drain every actor about four times a second until the end; a drain doubles as a
        heartbeat (a dead, frozen or failed actor ends the run). Returns the wall time the
        first pair was delivered, or None. Under the console (``--console --ray``) its
        commands are carried out between heartbeats, ``pause`` holds emulated time (t0
        moves on at ``resume``) and ``quit`` ends the run where it got."""
        from qnemu.runtime import ray_backend

        duration = self.scenario.duration_s
        first_pair_wall = None
        while True:
            end_wall = self._t0 + duration * dilation
            self._wait_beat(end_wall)
            before = builder.delivered
            paused = self._paused_at()
            issued = paused if paused is not None else (time.time() - self._t0) / dilation
            alive, names = self._crashes.alive()
            batches = ray_backend.call_all(
                alive, "drain", names=names, timeout_s=ray_backend.HEARTBEAT_TIMEOUT_S
            )
            self._record(builder, batches)
            if paused is None:
                self._crashes.tick()
            self._reached_s = min(duration, max(self._reached_s, issued))
            self._close_windows(builder, self._reached_s - HEARTBEAT_LAG_S / dilation)
            self._watch_overload()
            if first_pair_wall is None and builder.delivered > before:
                first_pair_wall = time.time()
            now = paused if paused is not None else (time.time() - self._t0) / dilation
            self._progress(min(duration, max(0.0, now)), builder)
            if self.console is not None and self.console.quit.is_set():
                return first_pair_wall
            if paused is None and time.time() >= end_wall + 0.2:
                return first_pair_wall

    def _wait_beat(self, end_wall: float) -> None:
        """Sleep until the next heartbeat, carrying out console commands meanwhile."""
        until = time.time() + min(0.25, max(0.0, end_wall - time.time()) + 0.05)
        while True:
            if self.console is not None:
                self.console.poll()
                if self.console.quit.is_set():
                    return
            left = until - time.time()
            if left <= 0:
                return
            time.sleep(min(left, 0.05))

    def _paused_at(self) -> float | None:
        """The emulated time a Ray run is held at (``pause``), or None."""
        remote = self.console.remote if self.console is not None else None
        return None if remote is None else remote.paused_at_s

    def _attach_console(self, builder: SummaryBuilder) -> None:
        """The console's commands act on every actor (``qnemu run --console --ray``)."""
        from qnemu.console import stats_text
        from qnemu.runtime.live_control import RayLive

        assert self.console is not None

        def retime(t0: float) -> None:
            self._t0 = t0

        def stats() -> str:
            reached = self._reached_s
            table = builder.tenant_table(reached) if reached > 0 else {}
            return stats_text({"tenants": table, "violations": dict(builder.violations)}, reached)

        self.console.remote = RayLive(self._crashes, self._crashes.emit, retime)
        self.console.stats = stats
        self.console.ready.set()

    def _process_crashes(
        self, actors: list, t0: float, dilation: float, builder: SummaryBuilder
    ) -> ProcessCrashes:
        """The planned node crashes of this run that kill a real process (a node with an
        actor to itself; see :mod:`qnemu.runtime.crashes`)."""
        from qnemu.runtime.crashes import ProcessCrashes
        from qnemu.runtime.startup import portable

        def emit(events: list[dict[str, Any]]) -> None:
            batch = {"events": events, "lateness_s": [], "message_latency_s": [], "host": -1}
            self._record(builder, [{**batch, "nodes": []}])

        return ProcessCrashes(
            portable(self.scenario),
            self._groups,
            actors,
            self.actor_pids,
            self._secret,
            self.plan.calibration,
            self._bind_host,
            t0,
            dilation,
            emit,
            self.book,
        )

    def _salvage(self, actors: list, t0: float, dilation: float, builder: SummaryBuilder) -> None:
        """Stop the actors that still answer and keep their last records (best effort)."""
        from qnemu.runtime import ray_backend

        try:
            finals = ray_backend.finish_all(actors, self._groups, SALVAGE_TIMEOUT_S)
            self._record(builder, finals)
            self._tally(finals, t0, dilation)
            if len(finals) == len(actors):
                self._reached_s = min(f["reached_s"] for f in finals)
        except Exception:  # the run is ending already: keep its first error
            return

    def _tally(self, finals: list[dict[str, Any]], t0: float, dilation: float) -> None:
        """Fill the emulator block from the actors' last reports."""
        lateness = self._lateness_s
        p50, p99 = percentile(lateness, 50), percentile(lateness, 99)
        tolerance_wall = overload_tolerance_s(self.plan) * dilation
        released = sum(f["messages_released"] for f in finals)
        wall = max(time.time() - t0, 1e-9)
        self._emulator.update(
            {
                "lateness_p50_s": p50,
                "lateness_p99_s": p99,
                "lateness_tolerance_s": tolerance_wall,
                "overloaded": bool(p99 is not None and p99 > tolerance_wall),
                "overload_seen_at_s": self._overload_seen_at,
                "messages": released,
                "messages_per_wall_s": released / min(wall, self.scenario.duration_s * dilation),
                "handovers": sum(f["handovers"] for f in finals),
                "frames_rejected": sum(f["frames_rejected"] for f in finals),
                "frames_lost": sum(f.get("frames_lost", 0) for f in finals),
                "peers_rejected": sum(f["peers_rejected"] for f in finals),
                **actor_cpu([f["cpu"] for f in finals if "cpu" in f], released),
            }
        )

    # -- shared ------------------------------------------------------------------------------
    def _begin(self, builder: SummaryBuilder, emulator: dict[str, Any]) -> None:
        """Create the results folder, start telemetry, record the decisions taken at t=0."""
        self.folder = RunFolder(self.results_dir, self.scenario.name, self.scenario.to_dict())
        if self.api is not None:  # the northbound API's token file goes with the results
            self.api.on_folder(self.folder.path)
        if self.telemetry is not None:
            self.telemetry.start(self.plan, {**emulator, "run": self.folder.path.name})
        self._record(
            builder,
            [
                {
                    "events": [d.to_dict() for d in self.plan.decisions],
                    "lateness_s": [],
                    "message_latency_s": [],
                    "host": -1,
                    "nodes": [],
                }
            ],
        )

    def _record(self, builder: SummaryBuilder, batches: list[dict[str, Any]]) -> None:
        """Stream drained batches to the results folder, the summary and telemetry."""
        events = [event for batch in batches for event in batch["events"]]
        for batch in batches:
            self._lateness_s.extend(batch["lateness_s"])
            self._late_count += sum(1 for x in batch["lateness_s"] if x > self._late_tolerance_wall)
            if self.telemetry is not None:
                self.telemetry.record(batch)
        if events:
            events.sort(key=_T_S)  # every record has t_s (qnemu.records)
            self._folder().write(events)
            self._new_tenants(builder, events)
            builder.add(events)
            self.ledger.observe(events)

    # -- the service layer (tenants arriving and leaving, SLA windows) ------------------------
    def _new_tenants(self, builder: SummaryBuilder, events: list[dict[str, Any]]) -> None:
        """A tenant added live gets its tally before its first record is folded in."""
        for event in events:
            if event["event"] == "tenant_added" and event["tenant"] not in builder.tenants:
                builder.tenants[event["tenant"]] = TenantTally(event["app"], event["f_min"])

    def reached_s(self) -> float:
        """Emulated time every record up to which has been folded in (for the API)."""
        return self._reached_s

    def tenant_table(self, emulated_s: float) -> dict[str, dict[str, Any]]:
        """The summary's per-tenant block so far (empty before the run began)."""
        builder = self._builder
        if builder is None or emulated_s <= 0.0:
            return {}
        return builder.tenant_table(emulated_s)

    def _live_tenants(self, actors: list, t0: float, dilation: float) -> LiveTenants:
        """Tenants added and removed through the northbound API reach the node that
        routes them (its host actor), which announces them with timed messages."""
        from qnemu.runtime import ray_backend

        host_of = {node: i for i, group in enumerate(self._groups) for node in group}

        def add(node: str, spec: dict[str, Any], path: list[str], rounds: int) -> None:
            ray_backend.call_one(actors[host_of[node]], "add_tenant", node, spec, path, rounds)

        def remove(node: str, tenant: str) -> bool:
            return bool(ray_backend.call_one(actors[host_of[node]], "remove_tenant", node, tenant))

        return LiveTenants(
            self.plan, lambda: (time.time() - self._t0) / dilation, add, remove, self.ledger.track
        )

    def _close_windows(self, builder: SummaryBuilder, reached_s: float) -> None:
        """Count the SLA windows that ended by ``reached_s``; record the violated ones."""
        missed = self.ledger.close_windows(reached_s)
        if missed:
            batch = {"events": missed, "lateness_s": [], "message_latency_s": [], "host": -1}
            self._record(builder, [{**batch, "nodes": []}])

    def _folder(self) -> RunFolder:
        """The results folder (made when the run begins)."""
        if self.folder is None:
            raise EmulationError("no results folder before the run began")
        return self.folder

    def _watch_overload(self, final: bool = False) -> None:
        """Warn once, as soon as more than 1% of the lateness samples so far are beyond the
        overload tolerance (their p99 is): live once enough samples came, else at the end."""
        total = len(self._lateness_s)
        if (
            self._overload_seen_at is not None
            or total == 0
            or (not final and total < LIVE_OVERLOAD_MIN_SAMPLES)
            or self._late_count <= 0.01 * total
        ):
            return
        at = min(self.scenario.duration_s, max(0.0, (time.time() - self._t0) / self._dilation_now))
        self._overload_seen_at = at
        p99 = percentile(self._lateness_s, 99) or 0.0
        self.warn(
            f"overloaded at {at:.3g} s emulated: lateness p99 {p99 * 1e3:.3f} ms wall "
            f"is beyond the tolerance {self._late_tolerance_wall * 1e3:.3f} ms "
            f"({self._late_count} of {total} samples late); this run's numbers are not "
            f"to be trusted (raise --dilation or lighten the load)"
        )

    def _progress(self, emulated_s: float, builder: SummaryBuilder) -> None:
        if self.on_progress is not None:
            self.on_progress(
                Progress(
                    emulated_s,
                    self.scenario.duration_s,
                    builder.delivered,
                    builder.tenant_table(emulated_s) if emulated_s > 0 else {},
                    dict(builder.violations),
                    percentile(self._lateness_s[-LATENESS_WINDOW:], 99),
                    self._overload_seen_at is not None,
                )
            )

    def _summary(
        self,
        builder: SummaryBuilder,
        emulator: dict[str, Any],
        status: str,
        reason: str | None,
        emulated_s: float,
    ) -> dict[str, Any]:
        tenants = builder.tenant_table(emulated_s)
        for name, block in tenants.items():
            block.update(self.ledger.tenant_fields(name))
        return {
            "scenario": self.scenario.name,
            "controller": self.scenario.control.architecture,
            "status": status,
            "reason": reason,
            "duration_s": self.scenario.duration_s,
            "emulated_s": emulated_s,
            "seed": self.scenario.seed,
            "interrupted": status == "interrupted",
            "results": str(self._folder().path),
            "tenants": tenants,
            "utility": sum(t["utility"] for t in tenants.values()),
            "controller_decision_latency_s": builder.decision_latency_s(),
            "admission": builder.admission,
            "violations": builder.violations,
            "faults": builder.faults.summary(),
            "counts": builder.counts,
            "emulator": emulator,
        }


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def _no_remote_hosts(host: int, payload: list[Any]) -> None:
    raise EmulationError(f"virtual mode has one host; nothing may be sent to host {host}")


def run(scenario: Scenario, **options: Any) -> Summary:
    """Run a scenario and return its summary (see :class:`Emulation` for the options)."""
    return Emulation(scenario, **options).run()
