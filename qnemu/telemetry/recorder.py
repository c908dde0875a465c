"""Turns a run's drained batches into metric updates on an injected registry.

:class:`MetricsRecorder` is a plain class: the collector actor owns one, the in-process
collector owns one, and unit tests give it a fresh ``CollectorRegistry`` and read values
back with ``registry.get_sample_value``. It never reads anything but the batches and the
:class:`RunInfo`, so what Prometheus shows is exactly what ``events.jsonl`` and
``summary.json`` hold: ``qnemu_violations_total`` summed by kind equals the summary's
``violations``, ``qnemu_pairs_delivered_total`` its ``tenants.*.pairs_delivered`` and
``qnemu_events_total`` its ``counts``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from qnemu.apps import quality
from qnemu.results import VIOLATION_KINDS
from qnemu.telemetry.catalog import CATALOG, MetricSpec

LATENESS_WINDOW = 20_000  # lateness samples behind the live p99 (a few seconds of traffic)
P99_EVERY_S = 0.5  # recompute the live p99 at most this often (wall)


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
    node_controllers: tuple[str, ...] = ()  # the controller site serving each node
    mode: str = "ray"
    actors: int = 0
    dilation: float | None = None
    lateness_tolerance_s: float | None = None

    @classmethod
    def from_plan(cls, plan: Any, emulator: dict[str, Any]) -> RunInfo:
        """From a :class:`qnemu.nodes.plan.NetworkPlan` and the sink's ``emulator`` info."""
        from qnemu.emulation import overload_tolerance_s

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
            node_controllers=tuple(site_of[n.id].name if n.id in site_of else architecture
                                   for n in scenario.nodes),
            mode=emulator.get("mode", "ray"),
            actors=int(emulator.get("actors") or 0),
            dilation=dilation,
            lateness_tolerance_s=tolerance,
        )


def build_metrics(registry: CollectorRegistry,
                  catalog: tuple[MetricSpec, ...] = CATALOG) -> dict[str, Any]:
    """Register every metric of the catalogue on ``registry``; returns them by full name."""
    made: dict[str, Any] = {}
    for spec in catalog:
        if spec.type == "counter":
            metric = Counter(spec.name, spec.help_text, spec.labels, registry=registry)
        elif spec.type == "gauge":
            metric = Gauge(spec.name, spec.help_text, spec.labels, registry=registry)
        else:
            metric = Histogram(spec.name, spec.help_text, spec.labels, registry=registry,
                               buckets=spec.buckets)
        made[spec.name] = metric
    return made


class MetricsRecorder:
    """Event batches in, metric updates out (see the module docstring)."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.m = build_metrics(registry)
        self.run: RunInfo | None = None
        self._lateness: deque[float] = deque(maxlen=LATENESS_WINDOW)
        self._p99_at = 0.0
        self._delivered: dict[str, list[float]] = {}  # tenant: [count, sum of q(F)]
        self._emulated_s = 0.0
        self._site: dict[str, str] = {}  # node: the controller site serving it
        self._handlers: dict[str, Callable[[dict[str, Any]], None]] = {
            "pair_generated": self._on_pair_generated,
            "herald": self._on_herald,
            "swap": self._on_swap,
            "purification": self._on_purification,
            "discard": self._on_discard,
            "use": self._on_use,
            "delivered": self._on_delivered,
            "violation": self._on_violation,
            "message_lost": self._on_message_lost,
            "decision": self._on_decision,
            "admission": self._on_admission,
            "qnum": self._on_qnum,
        }

    def _metric(self, name: str) -> Any:
        return self.m["qnemu_" + name]

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, run: RunInfo) -> None:
        """A run begins: set the static gauges and create every known series at zero.

        Pre-creating the series (Prometheus practice for known label values) means a
        dashboard shows 0, not "no data", for a node that never violated.
        """
        self.run = run
        controller = run.controller
        self._site = dict(zip(run.nodes, run.node_controllers or (), strict=False))
        self._metric("emulator_running").set(1)
        self._metric("emulator_nodes").set(len(run.nodes))
        self._metric("emulator_actors").set(run.actors)
        self._metric("emulator_dilation").set(run.dilation or 0.0)
        self._metric("emulator_overloaded").set(0)
        self._metric("emulator_lateness_p99_seconds").set(0.0)
        if run.lateness_tolerance_s is not None:
            self._metric("emulator_lateness_tolerance_seconds").set(run.lateness_tolerance_s)
        self._metric("emulated_time_seconds").set(0.0)
        for node, memories in zip(run.nodes, run.memories, strict=True):
            self._metric("memory_slots").labels(node).set(memories)
            self._metric("memory_slots_occupied").labels(node).set(0)
            self._metric("heralds_total").labels(node)
            self._metric("memory_age_at_use_seconds").labels(node)
            for result in ("success", "failure"):
                self._metric("swaps_total").labels(node, result)
                self._metric("purifications_total").labels(node, result)
            for kind in VIOLATION_KINDS:
                self._metric("violations_total").labels(kind, node, self._site.get(node,
                                                                                  controller))
        for link in run.links:
            self._metric("pairs_generated_total").labels(link)
            self._metric("link_attempts_total").labels(link)
        for tenant in run.tenants:
            self._delivered[tenant.name] = [0, 0.0]
            self._metric("pairs_delivered_total").labels(tenant.name, controller)
            self._metric("delivered_fidelity").labels(tenant.name, controller)
            self._metric("delivered_latency_seconds").labels(tenant.name, controller)
            for result in ("admitted", "rejected"):
                self._metric("admission_decisions_total").labels(tenant.name, result)
            for name in ("qnum_utility", "qnum_predicted_rate_hertz", "qnum_predicted_fidelity",
                         "tenant_utility"):
                self._metric(name).labels(tenant.name, controller).set(math.nan)
        for site in sorted(set(run.node_controllers) or {controller}):
            self._metric("controller_decision_latency_seconds").labels(site)
            self._metric("controller_compute_seconds").labels(site)
        self._metric("classical_message_latency_seconds")

    def record(self, batch: dict[str, Any]) -> None:
        """Fold one drained batch in (see :class:`qnemu.emulation.TelemetrySink`)."""
        events_total = self._metric("events_total")
        for event in batch.get("events", ()):
            kind = event.get("event", "")
            events_total.labels(kind).inc()
            handler = self._handlers.get(kind)
            if handler is not None:
                handler(event)
            t_s = event.get("t_s", event.get("t_delivered_s"))
            if t_s is not None and t_s > self._emulated_s:
                self._emulated_s = float(t_s)
        self._metric("emulated_time_seconds").set(self._emulated_s)
        for value in batch.get("message_latency_s", ()):
            self._metric("classical_message_latency_seconds").observe(value)
        lateness = batch.get("lateness_s", ())
        histogram = self._metric("emulator_lateness_seconds")
        for value in lateness:
            histogram.observe(value)
        self._lateness.extend(lateness)
        if time.monotonic() - self._p99_at >= P99_EVERY_S:
            self._update_overload()
        self._update_utility()

    def close(self, summary: dict[str, Any] | None) -> None:
        """The run ended: final health figures agree with ``summary.json``."""
        self._update_overload()
        self._update_utility()
        self._metric("emulator_running").set(0)
        emulator = (summary or {}).get("emulator") or {}
        if emulator.get("lateness_p99_s") is not None:
            self._metric("emulator_lateness_p99_seconds").set(emulator["lateness_p99_s"])
        if "overloaded" in emulator:
            self._metric("emulator_overloaded").set(1 if emulator["overloaded"] else 0)

    # -- derived gauges ----------------------------------------------------------------------
    def _update_overload(self) -> None:
        self._p99_at = time.monotonic()
        if not self._lateness:
            return
        p99 = float(np.percentile(np.fromiter(self._lateness, float), 99))
        self._metric("emulator_lateness_p99_seconds").set(p99)
        tolerance = self.run.lateness_tolerance_s if self.run else None
        if tolerance is not None:
            self._metric("emulator_overloaded").set(1 if p99 > tolerance else 0)

    def _update_utility(self) -> None:
        """U = R · mean q(F) of what was delivered so far: Σ q(F_i) / emulated time, the
        same definition as ``summary.json``'s per-tenant ``utility``."""
        if self.run is None or self._emulated_s <= 0:
            return
        for tenant in self.run.tenants:
            _, quality_sum = self._delivered.get(tenant.name, (0, 0.0))
            self._metric("tenant_utility").labels(tenant.name, self._controller()).set(
                quality_sum / self._emulated_s)

    def _controller(self, event: dict[str, Any] | None = None) -> str:
        """The controller an event names, else the run's control architecture."""
        if event is not None and event.get("controller"):
            return str(event["controller"])
        return self.run.controller if self.run else "unknown"

    def _occupied(self, event: dict[str, Any]) -> None:
        if "occupied" in event and "node" in event:
            self._metric("memory_slots_occupied").labels(event["node"]).set(event["occupied"])

    # -- one handler per event type ----------------------------------------------------------
    def _on_pair_generated(self, event: dict[str, Any]) -> None:
        self._metric("pairs_generated_total").labels(event["link"]).inc()
        self._metric("link_attempts_total").labels(event["link"]).inc(event.get("attempts", 0))

    def _on_herald(self, event: dict[str, Any]) -> None:
        self._metric("heralds_total").labels(event["node"]).inc()
        self._occupied(event)

    def _on_swap(self, event: dict[str, Any]) -> None:
        result = "success" if event["success"] else "failure"
        self._metric("swaps_total").labels(event["node"], result).inc()
        ages = self._metric("memory_age_at_use_seconds").labels(event["node"])
        for age in event.get("ages_s", ()):
            ages.observe(age)
        self._occupied(event)

    def _on_purification(self, event: dict[str, Any]) -> None:
        result = "success" if event["success"] else "failure"
        self._metric("purifications_total").labels(event["node"], result).inc()
        self._occupied(event)

    def _on_discard(self, event: dict[str, Any]) -> None:
        self._metric("discards_total").labels(event["node"], event.get("reason", "")).inc()
        self._occupied(event)

    def _on_use(self, event: dict[str, Any]) -> None:
        if "waited_s" in event:
            self._metric("memory_age_at_use_seconds").labels(event["node"]).observe(
                event["waited_s"])
        self._occupied(event)

    def _on_delivered(self, event: dict[str, Any]) -> None:
        tenant, controller = event["tenant"], self._controller(event)
        self._metric("pairs_delivered_total").labels(tenant, controller).inc()
        self._metric("delivered_fidelity").labels(tenant, controller).observe(event["fidelity"])
        self._metric("delivered_latency_seconds").labels(tenant, controller).observe(
            event["latency_s"])
        figures = self._delivered.setdefault(tenant, [0, 0.0])
        figures[0] += 1
        spec = next((t for t in self.run.tenants if t.name == tenant), None) if self.run else None
        if spec is not None:
            figures[1] += quality(spec.app, event["fidelity"], spec.f_min)

    def _on_violation(self, event: dict[str, Any]) -> None:
        node = event.get("node", "")
        controller = event.get("controller") or self._site.get(node) or self._controller()
        self._metric("violations_total").labels(event["kind"], node, controller).inc()

    def _on_message_lost(self, event: dict[str, Any]) -> None:
        self._metric("messages_lost_total").labels(event["node"], event.get("kind", "")).inc()

    def _on_decision(self, event: dict[str, Any]) -> None:
        controller = self._controller(event)
        if event.get("latency_s") is not None:
            self._metric("controller_decision_latency_seconds").labels(controller).observe(
                event["latency_s"])
        if event.get("compute_s") is not None:
            self._metric("controller_compute_seconds").labels(controller).observe(
                event["compute_s"])

    def _on_admission(self, event: dict[str, Any]) -> None:
        result = "admitted" if event["admitted"] else "rejected"
        self._metric("admission_decisions_total").labels(event["tenant"], result).inc()

    def _on_qnum(self, event: dict[str, Any]) -> None:
        labels = (event["tenant"], self._controller(event))
        for field, name in (("utility", "qnum_utility"),
                            ("predicted_rate_hz", "qnum_predicted_rate_hertz"),
                            ("predicted_fidelity", "qnum_predicted_fidelity")):
            if event.get(field) is not None:
                self._metric(name).labels(*labels).set(event[field])
