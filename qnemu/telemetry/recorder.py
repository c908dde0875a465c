"""Turns a run's drained batches into metric updates on an injected registry.

:class:`MetricsRecorder` is a plain class: the collector actor owns one, the in-process
collector owns one, and unit tests give it a fresh ``CollectorRegistry`` and read values
back with ``registry.get_sample_value``. It never reads anything but the batches and the
:class:`RunInfo`, so what Prometheus shows is exactly what ``events.jsonl`` and
``summary.json`` hold: ``qnemu_violations_total`` summed by kind equals the summary's
``violations``, ``qnemu_pairs_delivered_total`` its ``tenants.*.pairs_delivered`` and
``qnemu_events_total`` its ``counts``.

One recorder can hold several runs one after the other (``qnemu compare --metrics-port``):
every series carries the run's ``run`` label, and a finished run's series keep their final
values while the next run's start at zero.

Labels are translated here, once: ``controller`` is always the run's control plane, however
an event names it, and the controller instance (``distributed@n4``) goes into ``site``.
"""

from __future__ import annotations

import collections
import math
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from qnemu import records
from qnemu.apps import quality, realized_utility
from qnemu.apps.ghz import GhzTally
from qnemu.apps.qkd import QkdTally
from qnemu.fault_report import FaultTally
from qnemu.records import DISCARD_REASONS, RunEvent
from qnemu.results import VIOLATION_KINDS
from qnemu.runtime import actor_cpu
from qnemu.scenario.spec import FAULT_KINDS
from qnemu.telemetry.catalog import CATALOG, PHASES, MetricSpec

LATENESS_WINDOW = 20_000  # lateness samples behind the live p99 (a few seconds of traffic)
P99_EVERY_S = 0.5  # recompute the live p99 at most this often (wall)
PENDING_RUN = ""  # the run label of the starting phase while the run's name is not known


@dataclass(frozen=True)
class TenantInfo:
    """What the recorder needs of a tenant: its name and what its utility depends on."""

    name: str
    app: str
    f_min: float


@dataclass(frozen=True)
class RunInfo:
    """The bounded label values of one run and the figures its gauges start from.

    Built on the driver from the network plan (:meth:`from_plan`) and shipped to the
    collector as plain data, so the collector never rebuilds the plan.
    """

    nodes: tuple[str, ...]
    memories: tuple[int, ...]
    links: tuple[str, ...]
    tenants: tuple[TenantInfo, ...]
    controller: str
    node_sites: tuple[str, ...] = ()  # the controller instance (site) serving each node
    mode: str = "ray"
    actors: int = 0
    dilation: float | None = None
    lateness_tolerance_s: float | None = None
    run: str = "run"  # the ``run`` label: the results folder's name

    @classmethod
    def from_plan(cls, plan: Any, emulator: dict[str, Any], run: str | None = None) -> RunInfo:
        """From a :class:`qnemu.planning.plan.NetworkPlan` and the sink's ``emulator`` info.

        ``run`` names the run when the sink was given a label (``qnemu compare``'s
        ``comparison/run``); otherwise ``emulator["run"]`` (the results folder's name, which
        the emulation passes), and without either the name is made the way the results
        folder's is (see :func:`run_name`).
        """
        from qnemu.runtime.pacing import overload_tolerance_s

        scenario = plan.scenario
        dilation = emulator.get("dilation")
        tolerance = None
        if dilation:
            tolerance = overload_tolerance_s(plan) * dilation
        architecture = scenario.control.architecture
        site_of = plan.site_of
        return cls(
            nodes=tuple(n.id for n in scenario.nodes),
            memories=tuple(plan.nodes[n.id].memories for n in scenario.nodes),
            links=tuple(plan.links),
            tenants=tuple(TenantInfo(t.name, t.app, t.f_min) for t in scenario.tenants),
            controller=architecture,
            node_sites=tuple(
                site_of[n.id].name if n.id in site_of else architecture for n in scenario.nodes
            ),
            mode=emulator.get("mode", "ray"),
            actors=int(emulator.get("actors") or 0),
            dilation=dilation,
            lateness_tolerance_s=tolerance,
            # a label the sink was given (compare's folder/run) wins over the folder's name
            run=str(run or emulator.get("run") or run_name(scenario.name)),
        )


def run_name(scenario_name: str, at: float | None = None) -> str:
    """``20250101-120000-chain5``: a run's name as its results folder gets it.

    The sink is called right after the emulation made that folder, in the same second;
    two runs of one scenario in one second (the folder then ends in ``-2``) are told apart
    only once the emulation passes its folder name in ``emulator["run"]``.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(at))
    return f"{stamp}-{re.sub(r'[^A-Za-z0-9_.-]+', '-', scenario_name) or 'scenario'}"


def build_metrics(
    registry: CollectorRegistry, catalog: tuple[MetricSpec, ...] = CATALOG
) -> dict[str, Any]:
    """Register every metric of the catalog on ``registry``; returns them by full name.

    Each has its spec's labels plus ``run`` first (:attr:`MetricSpec.series_labels`).
    """
    made: dict[str, Any] = {}
    for spec in catalog:
        labels = spec.series_labels
        metric: Counter | Gauge | Histogram
        if spec.type == "counter":
            metric = Counter(spec.name, spec.help_text, labels, registry=registry)
        elif spec.type == "gauge":
            metric = Gauge(spec.name, spec.help_text, labels, registry=registry)
        else:
            metric = Histogram(
                spec.name, spec.help_text, labels, registry=registry, buckets=spec.buckets
            )
        made[spec.name] = metric
    return made


class MetricsRecorder:
    """Event batches in, metric updates out (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.m = build_metrics(registry)
        self.run: RunInfo | None = None
        self._phase_run: str | None = None  # the run label the phase gauge is set for
        self._lateness: deque[float] = deque(maxlen=LATENESS_WINDOW)
        self._p99_at = 0.0
        self._delivered: dict[str, list[float]] = {}  # tenant: [count, sum of q(F)]
        self._qkd: dict[str, QkdTally] = {}  # tenant: its QKD bits so far
        self._ghz: dict[str, GhzTally] = {}  # ghz/sensing tenant: its fusions so far
        self._emulated_s = 0.0
        self._site: dict[str, str] = {}  # node: the controller site serving it
        self._actor_cpu: dict[int, dict[str, float]] = {}  # host: its CPU counted so far
        self._handlers: dict[type[RunEvent], Callable[[Any], None]] = {
            records.PairGenerated: self._on_pair_generated,
            records.Herald: self._on_herald,
            records.Swap: self._on_swap,
            records.Purification: self._on_purification,
            records.Discard: self._on_discard,
            records.Use: self._on_use,
            records.Delivered: self._on_delivered,
            records.Violation: self._on_violation,
            records.MessageLost: self._on_message_lost,
            records.Decision: self._on_decision,
            records.Admission: self._on_admission,
            records.Qnum: self._on_qnum,
            records.Fault: self._on_fault,
            records.FaultEnded: self._on_fault_ended,
            records.Detected: self._on_detected,
            records.Reroute: self._on_reroute,
        }
        self._faults = FaultTally()  # recovery times, as summary.json computes them
        # the kinds parsed at all: those with a handler or that the fault tally reads
        self._reads = frozenset(cls.event for cls in (*self._handlers, *FaultTally.READS))

    def _metric(self, name: str) -> Any:
        return self.m["qnemu_" + name]

    def _series(self, name: str, *labels: str) -> Any:
        """One series of the current run (its ``run`` label first)."""
        return self.m["qnemu_" + name].labels(self._label, *labels)

    @property
    def _label(self) -> str:
        return self.run.run if self.run is not None else PENDING_RUN

    # -- lifecycle ---------------------------------------------------------------------------
    def begin(self, run: str | None = None) -> None:
        """A run is coming (Ray and its actors are starting): phase ``starting``.

        ``run``: its name when known already; else the phase is shown under an empty run
        label until :meth:`start` names the run.
        """
        self._set_phase(run or PENDING_RUN, "starting")

    def start(self, run: RunInfo) -> None:
        """A run begins: set the static gauges and create every known series at zero.

        Pre-creating the series (Prometheus practice for known label values) means a
        dashboard shows 0, not "no data", for a node that never violated. A run started
        after another in the same registry gets fresh per-run state; the earlier run's
        series keep their final values.
        """
        self.run = run
        self._lateness.clear()
        self._p99_at = 0.0
        self._delivered = {}
        self._qkd = {}
        self._ghz = {}
        self._faults = FaultTally()
        self._actor_cpu = {}
        for kind in actor_cpu.KINDS:
            self._series("emulator_actor_cpu_seconds_total", kind)
        self._series("faults_active").set(0)
        self._emulated_s = 0.0
        self._site = dict(zip(run.nodes, run.node_sites or (), strict=False))
        self._set_phase(run.run, "running")
        self._series("emulator_running").set(1)
        self._series("emulator_nodes").set(len(run.nodes))
        self._series("emulator_actors").set(run.actors)
        self._series("emulator_dilation").set(run.dilation or 0.0)
        self._series("emulator_overloaded").set(0)
        self._series("emulator_lateness_p99_seconds").set(0.0)
        if run.lateness_tolerance_s is not None:
            self._series("emulator_lateness_tolerance_seconds").set(run.lateness_tolerance_s)
        self._series("emulated_time_seconds").set(0.0)
        for node, memories in zip(run.nodes, run.memories, strict=True):
            self._start_node(node, memories)
        for link in run.links:
            self._series("pairs_generated_total", link)
            self._series("link_attempts_total", link)
        for tenant in run.tenants:
            self._start_tenant(tenant)
        for site in sorted(set(run.node_sites) or {run.controller}):
            self._series("controller_decision_latency_seconds", run.controller, site)
            self._series("controller_compute_seconds", run.controller, site)
        self._series("classical_message_latency_seconds")
        self._series("emulator_lateness_seconds")
        for kind in FAULT_KINDS:  # a run without faults shows 0, not "No data"
            self._series("faults_total", kind)
            self._series("recovery_seconds", kind)

    def _start_node(self, node: str, memories: int) -> None:
        self._series("memory_slots", node).set(memories)
        self._series("memory_slots_occupied", node).set(0)
        self._series("heralds_total", node)
        self._series("fault_detections_total", node)
        self._series("memory_age_at_use_seconds", node)
        for result in ("success", "failure"):
            self._series("swaps_total", node, result)
            self._series("purifications_total", node, result)
        for kind in VIOLATION_KINDS:
            self._series("violations_total", kind, node, self._controller(), self._where(node))
        # a node's own discard reasons start at 0, so a panel shows 0, not "No data"
        for reason in DISCARD_REASONS:
            self._series("discards_total", node, reason)

    def _start_tenant(self, tenant: TenantInfo) -> None:
        controller = self._controller()
        self._delivered[tenant.name] = [0, 0.0]
        self._series("tenant_min_fidelity", tenant.name).set(tenant.f_min)
        self._series("reroutes_total", tenant.name)
        self._series("pairs_delivered_total", tenant.name, controller)
        self._series("delivered_fidelity", tenant.name, controller)
        self._series("delivered_latency_seconds", tenant.name, controller)
        for result in ("admitted", "rejected"):
            self._series("admission_decisions_total", tenant.name, result)
        for name in (
            "qnum_utility",
            "qnum_predicted_rate_hertz",
            "qnum_predicted_fidelity",
            "tenant_utility",
        ):
            self._series(name, tenant.name, controller).set(math.nan)

    def record(self, batch: dict[str, Any]) -> None:
        """Fold one batch in (see :class:`qnemu.emulation.TelemetrySink`)."""
        events = batch.get("events", ())
        # one increment per kind and batch: a labelled series lookup per event cost more
        # than the rest of the loop
        for kind, count in collections.Counter(plain["event"] for plain in events).items():
            self._series("events_total", kind).inc(count)
        for plain in events:
            if plain["t_s"] > self._emulated_s:
                self._emulated_s = float(plain["t_s"])
            if plain["event"] not in self._reads:  # counted, nothing else to read
                continue
            event = records.parse(plain)
            handler = self._handlers.get(type(event))
            if handler is not None:
                handler(event)
            for kind, seconds in self._faults.add(event):
                self._series("recovery_seconds", kind).observe(seconds)
        self._series("emulated_time_seconds").set(self._emulated_s)
        latency = self._series("classical_message_latency_seconds")
        for value in batch.get("message_latency_s", ()):
            latency.observe(value)
        lateness = batch.get("lateness_s", ())
        histogram = self._series("emulator_lateness_seconds")
        for value in lateness:
            histogram.observe(value)
        self._lateness.extend(lateness)
        if batch.get("cpu") is not None:
            self._count_actor_cpu(batch["host"], batch["cpu"])
        if time.monotonic() - self._p99_at >= P99_EVERY_S:
            self._update_overload()
        self._update_utility()

    def _count_actor_cpu(self, host: int, cpu: dict[str, float]) -> None:
        """Add what an actor's loop used since its last report (its counters are totals
        since the run was armed; a respawned actor starts again from zero)."""
        now = actor_cpu.cpu_parts(cpu)
        seen = self._actor_cpu.get(host)
        if seen is None or cpu["loop_s"] < seen["total"]:
            seen = {"events": 0.0, "frames": 0.0, "loop": 0.0, "total": 0.0}
        for kind in actor_cpu.KINDS:
            if now[kind] > seen[kind]:
                self._series("emulator_actor_cpu_seconds_total", kind).inc(now[kind] - seen[kind])
                seen[kind] = now[kind]
        seen["total"] = cpu["loop_s"]
        self._actor_cpu[host] = seen

    def close(self, summary: dict[str, Any] | None) -> None:
        """The run ended: final health figures agree with ``summary.json``."""
        self._update_overload()
        self._update_utility()
        self._series("emulator_running").set(0)
        self._set_phase(self._label, "finished")
        emulator = (summary or {}).get("emulator") or {}
        if emulator.get("lateness_p99_s") is not None:
            self._series("emulator_lateness_p99_seconds").set(emulator["lateness_p99_s"])
        if "overloaded" in emulator:
            self._series("emulator_overloaded").set(1 if emulator["overloaded"] else 0)

    def _set_phase(self, run: str, phase: str) -> None:
        """1 for ``phase`` of ``run``, 0 for the others; a pending name gives way."""
        gauge = self._metric("emulator_phase")
        if self._phase_run == PENDING_RUN and run != PENDING_RUN:
            for other in PHASES:
                gauge.remove(PENDING_RUN, other)
        self._phase_run = run
        for each in PHASES:
            gauge.labels(run, each).set(1 if each == phase else 0)

    # -- derived gauges ----------------------------------------------------------------------
    def _update_overload(self) -> None:
        self._p99_at = time.monotonic()
        if not self._lateness:
            return
        p99 = float(np.percentile(np.fromiter(self._lateness, float), 99))
        self._series("emulator_lateness_p99_seconds").set(p99)
        tolerance = self.run.lateness_tolerance_s if self.run else None
        if tolerance is not None:
            self._series("emulator_overloaded").set(1 if p99 > tolerance else 0)

    def _update_utility(self) -> None:
        """U = R · mean q(F) of what was delivered so far: Σ q(F_i) / emulated time, the
        same definition as ``summary.json``'s per-tenant ``utility``."""
        if self.run is None or self._emulated_s <= 0:
            return
        for tenant in self.run.tenants:
            _, quality_sum = self._delivered.get(tenant.name, (0, 0.0))
            self._series("tenant_utility", tenant.name, self._controller()).set(
                realized_utility(quality_sum, self._emulated_s)
            )

    def _controller(self) -> str:
        """The run's control plane: the one ``controller`` label value of a run.

        Events name a controller instance (``distributed@n4``) where they name one at
        all; that goes into ``site`` (:meth:`_where`), never into ``controller``.
        """
        return self.run.controller if self.run else "unknown"

    def _where(self, node: str, site: str | None = None) -> str:
        """The controller site of an event: the one it names, else the node's."""
        return site or self._site.get(node) or self._controller()

    def _occupied(self, node: str, occupied: int) -> None:
        self._series("memory_slots_occupied", node).set(occupied)

    # -- one handler per event type ----------------------------------------------------------
    def _on_pair_generated(self, event: records.PairGenerated) -> None:
        self._series("pairs_generated_total", event.link).inc()
        self._series("link_attempts_total", event.link).inc(event.attempts)

    def _on_herald(self, event: records.Herald) -> None:
        self._series("heralds_total", event.node).inc()
        self._occupied(event.node, event.occupied)

    def _on_swap(self, event: records.Swap) -> None:
        result = "success" if event.success else "failure"
        self._series("swaps_total", event.node, result).inc()
        ages = self._series("memory_age_at_use_seconds", event.node)
        for age in event.ages_s:
            ages.observe(age)
        self._occupied(event.node, event.occupied)

    def _on_purification(self, event: records.Purification) -> None:
        result = "success" if event.success else "failure"
        self._series("purifications_total", event.node, result).inc()

    def _on_discard(self, event: records.Discard) -> None:
        self._series("discards_total", event.node, event.reason).inc()
        self._occupied(event.node, event.occupied)

    def _on_use(self, event: records.Use) -> None:
        self._series("memory_age_at_use_seconds", event.node).observe(event.waited_s)
        self._occupied(event.node, event.occupied)

    def _on_delivered(self, event: records.Delivered) -> None:
        tenant, controller = event.tenant, self._controller()
        self._series("pairs_delivered_total", tenant, controller).inc()
        self._series("delivered_fidelity", tenant, controller).observe(event.fidelity)
        self._series("delivered_latency_seconds", tenant, controller).observe(event.latency_s)
        figures = self._delivered.setdefault(tenant, [0, 0.0])
        figures[0] += 1
        spec = next((t for t in self.run.tenants if t.name == tenant), None) if self.run else None
        if spec is not None:
            figures[1] += quality(spec.app, event.fidelity, spec.f_min)
        if event.app is not None:
            self._on_app(tenant, event.app, event.t_s)

    def _on_app(self, tenant: str, app: dict[str, Any], t_s: float) -> None:
        """A delivered pair's application result: QKD bits, or a fidelity."""
        name = app.get("name")
        if name == "qkd":
            tally = self._qkd.setdefault(tenant, QkdTally())
            tally.add(app["basis_src"], app["basis_dst"], app["bit_src"], app["bit_dst"])
            for basis in ("Z", "X"):
                qber = tally.qber(basis)
                if qber is not None:
                    self._series("qkd_qber", tenant, basis).set(qber)
            rate = tally.block(t_s)["secret_key_rate_bps"] if t_s > 0 else None
            if rate is not None:
                self._series("qkd_secret_key_rate_bps", tenant).set(rate)
        elif name in ("teleport", "dqc", "qfl"):
            value = app["gate_fidelity"] if name == "dqc" else app["fidelity"]
            self._series("app_fidelity", app.get("group", tenant), name).observe(value)
        elif name in ("ghz", "sensing"):  # a GHZ state once its fusion's pairs are all in
            state = self._ghz.setdefault(app["group"], GhzTally()).add(app)
            if state is not None:
                self._series("app_fidelity", app["group"], name).observe(state.fidelity)

    def _on_violation(self, event: records.Violation) -> None:
        self._series(
            "violations_total",
            event.kind,
            event.node,
            self._controller(),
            self._where(event.node, event.site),
        ).inc()

    def _on_message_lost(self, event: records.MessageLost) -> None:
        self._series("messages_lost_total", event.node, event.kind).inc()

    def _on_decision(self, event: records.Decision) -> None:
        labels = (self._controller(), self._where(event.node, event.site))
        self._series("controller_decision_latency_seconds", *labels).observe(event.latency_s)
        self._series("controller_compute_seconds", *labels).observe(event.compute_s)

    def _on_admission(self, event: records.Admission) -> None:
        result = "admitted" if event.admitted else "rejected"
        self._series("admission_decisions_total", event.tenant, result).inc()

    def _on_fault(self, event: records.Fault) -> None:
        self._series("faults_total", event.kind).inc()
        self._series("faults_active").inc()

    def _on_fault_ended(self, event: records.FaultEnded) -> None:
        self._series("faults_active").dec()

    def _on_detected(self, event: records.Detected) -> None:
        self._series("fault_detections_total", event.node).inc()

    def _on_reroute(self, event: records.Reroute) -> None:
        self._series("reroutes_total", event.tenant).inc()

    def _on_qnum(self, event: records.Qnum) -> None:
        labels = (event.tenant, self._controller())
        self._series("qnum_utility", *labels).set(event.utility)
        self._series("qnum_predicted_rate_hertz", *labels).set(event.predicted_rate_hz)
        self._series("qnum_predicted_fidelity", *labels).set(event.predicted_fidelity)
