"""The metric catalog: every metric qnemu exports, defined once.

Each :class:`MetricSpec` names one Prometheus metric: its type, its labels, its HELP text
and whether the quantity it measures is in emulated or wall time. The recorder, the
dashboards and ``docs/telemetry.md`` are all built from :data:`CATALOG`, so a metric
cannot exist in one place and be missing in another.

Rules (checked when a spec is made, so a bad entry fails at import):

- names start with ``qnemu_``, are snake_case and end in a base unit where they have one
  (``_seconds``, ``_hertz``); counters end in ``_total``, nothing else does;
- labels come from :data:`ALLOWED_LABELS` only: bounded sets named by the scenario
  (nodes, links, controllers, tenants) or by the code (kinds, results, apps, QKD bases),
  never a pair id.

Every series also carries :data:`RUN_LABEL` (the run's results folder name), added by the
recorder and not repeated in each spec: one scrape may hold several runs (``qnemu compare
--metrics-port``) and a dashboard filters on it. ``controller`` is always the run's control
plane (``distributed``, ``centralized``, ``pkg.mod:Class``), one value per run; ``site`` is
the controller instance where a decision was made (``distributed@n3``,
``hierarchical:domain-0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "qnemu_"
RUN_LABEL = "run"
ALLOWED_LABELS = (
    "node",
    "link",
    "controller",
    "site",
    "tenant",
    "kind",
    "result",
    "phase",
    "app",
    "basis",
)
# What a run is doing, for ``qnemu_emulator_phase``: starting covers Ray and the actors
# coming up (the endpoint serves before the run has anything to say).
PHASES = ("starting", "running", "finished")
TYPES = ("counter", "gauge", "histogram")
TIME_BASES = ("emulated", "wall", "none")
_NAME = re.compile(r"^qnemu_[a-z][a-z0-9_]*[a-z0-9]$")

# Bucket edges. Emulated latencies span microsecond hops to seconds-long waits.
EMULATED_SECONDS_BUCKETS = (
    1e-5,
    3e-5,
    1e-4,
    3e-4,
    1e-3,
    3e-3,
    1e-2,
    3e-2,
    0.1,
    0.3,
    1.0,
    3.0,
    10.0,
)
# Coarser edges for histograms with one series per node or controller site: a 50-node
# scrape stays well under 50 ms.
PER_NODE_SECONDS_BUCKETS = (1e-5, 1e-4, 1e-3, 3e-3, 1e-2, 3e-2, 0.1, 1.0)
WALL_LATENESS_BUCKETS = (1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 0.1)
WALL_COMPUTE_BUCKETS = (1e-5, 1e-4, 1e-3, 1e-2, 0.1, 1.0)
FIDELITY_BUCKETS = (
    0.5,
    2 / 3,
    0.7,
    0.75,
    0.8,
    0.85,
    0.9,
    0.925,
    0.95,
    0.97,
    0.98,
    0.99,
    0.995,
    1.0,
)


@dataclass(frozen=True)
class MetricSpec:
    """One metric: name, type, labels, HELP text, time base, histogram buckets."""

    name: str
    type: str
    labels: tuple[str, ...]
    help: str
    time: str = "none"
    buckets: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if not _NAME.match(self.name):
            problems.append("must be snake_case and start with 'qnemu_'")
        if self.type not in TYPES:
            problems.append(f"type must be one of {', '.join(TYPES)}, got {self.type!r}")
        if (self.type == "counter") != self.name.endswith("_total"):
            problems.append("counters, and only counters, end in '_total'")
        unknown = [label for label in self.labels if label not in ALLOWED_LABELS]
        if unknown:
            problems.append(f"labels {unknown} not in {', '.join(ALLOWED_LABELS)}")
        if len(set(self.labels)) != len(self.labels):
            problems.append("duplicate label")
        if self.time not in TIME_BASES:
            problems.append(f"time must be one of {', '.join(TIME_BASES)}, got {self.time!r}")
        if (self.type == "histogram") != bool(self.buckets):
            problems.append("histograms, and only histograms, have buckets")
        if self.name.endswith("_seconds") and self.time == "none":
            problems.append("a duration must say whether it is emulated or wall time")
        if not self.help.strip():
            problems.append("HELP text is empty")
        if problems:
            raise ValueError(f"metric {self.name}: " + "; ".join(problems))

    @property
    def series_labels(self) -> tuple[str, ...]:
        """The labels every series of this metric has: the run's, then the spec's own."""
        return (RUN_LABEL, *self.labels)

    @property
    def help_text(self) -> str:
        """HELP as exported: the meaning plus the time base, so a scrape is self-describing."""
        if self.time == "emulated":
            return f"{self.help} (emulated time)"
        if self.time == "wall":
            return f"{self.help} (wall-clock time)"
        return self.help


def _spec(
    name: str,
    kind: str,
    labels: tuple[str, ...],
    text: str,
    time: str = "none",
    buckets: tuple[float, ...] = (),
) -> MetricSpec:
    return MetricSpec(PREFIX + name, kind, labels, text, time, buckets)


CATALOG: tuple[MetricSpec, ...] = (
    # -- quantum data plane ------------------------------------------------------------------
    _spec(
        "pairs_generated_total",
        "counter",
        ("link",),
        "Link-level entangled pairs heralded, per link",
    ),
    _spec(
        "link_attempts_total",
        "counter",
        ("link",),
        "Link generation attempts spent on heralded pairs, per link",
    ),
    _spec(
        "heralds_total",
        "counter",
        ("node",),
        "Heralds received: a memory learned it holds half of a link pair",
    ),
    _spec(
        "swaps_total",
        "counter",
        ("node", "result"),
        "Entanglement swaps, by node and result (success or failure)",
    ),
    _spec(
        "purifications_total",
        "counter",
        ("node", "result"),
        "Purification rounds, by node and result (success or failure)",
    ),
    _spec(
        "discards_total", "counter", ("node", "kind"), "Stored qubits discarded, by node and reason"
    ),
    _spec(
        "pairs_delivered_total",
        "counter",
        ("tenant", "controller"),
        "End-to-end pairs delivered to a tenant",
    ),
    _spec(
        "delivered_fidelity",
        "histogram",
        ("tenant", "controller"),
        "Fidelity of delivered pairs to |Phi+>: GROUND TRUTH read by the oracle, "
        "never seen by nodes or controllers",
        buckets=FIDELITY_BUCKETS,
    ),
    _spec(
        "delivered_latency_seconds",
        "histogram",
        ("tenant", "controller"),
        "End-to-end latency of delivered pairs, first link pair created to delivery",
        "emulated",
        EMULATED_SECONDS_BUCKETS,
    ),
    _spec("memory_slots", "gauge", ("node",), "Memory slots a node has"),
    _spec(
        "memory_slots_occupied",
        "gauge",
        ("node",),
        "Memory slots holding a qubit, as last reported by the node",
    ),
    _spec(
        "memory_age_at_use_seconds",
        "histogram",
        ("node",),
        "Age of a stored qubit when it was swapped or used by its application",
        "emulated",
        PER_NODE_SECONDS_BUCKETS,
    ),
    # -- classical plane and violations -----------------------------------------------------
    _spec(
        "classical_message_latency_seconds",
        "histogram",
        (),
        "Classical message latency, sent to released at the receiver",
        "emulated",
        EMULATED_SECONDS_BUCKETS,
    ),
    _spec(
        "messages_lost_total",
        "counter",
        ("node", "kind"),
        "Classical messages lost on the emulated network, by sender and message type",
    ),
    _spec(
        "violations_total",
        "counter",
        ("kind", "node", "controller", "site"),
        "Latency-coherence violations: a stored qubit used past its coherence budget or "
        "below its tenant's fidelity floor because it waited for classical information; "
        "kind is herald_late, correction_late, cutoff_expired, below_threshold or "
        "controller_late; site is the controller instance serving the node",
    ),
    _spec("events_total", "counter", ("kind",), "Events recorded in events.jsonl, by event type"),
    # -- control plane ----------------------------------------------------------------------
    _spec(
        "controller_decision_latency_seconds",
        "histogram",
        ("controller", "site"),
        "Controller decision latency, request to instruction arriving at the node; "
        "site is the controller instance that decided",
        "emulated",
        PER_NODE_SECONDS_BUCKETS,
    ),
    _spec(
        "controller_compute_seconds",
        "histogram",
        ("controller", "site"),
        "Compute time a controller instance (site) spent on one decision (measured)",
        "wall",
        WALL_COMPUTE_BUCKETS,
    ),
    _spec(
        "admission_decisions_total",
        "counter",
        ("tenant", "result"),
        "Admission control decisions per tenant (admitted or rejected)",
    ),
    _spec(
        "qnum_utility",
        "gauge",
        ("tenant", "controller"),
        "Q-NUM utility U = R*q(F) the controller predicts for a tenant (NaN until known)",
    ),
    _spec(
        "qnum_predicted_rate_hertz",
        "gauge",
        ("tenant", "controller"),
        "Delivery rate the controller predicts for a tenant, per emulated second (NaN until known)",
    ),
    _spec(
        "qnum_predicted_fidelity",
        "gauge",
        ("tenant", "controller"),
        "Fidelity the controller predicts for a tenant's pairs (NaN until known)",
    ),
    _spec(
        "tenant_min_fidelity",
        "gauge",
        ("tenant",),
        "Fidelity floor f_min the tenant asked for (a pair below it is a violation)",
    ),
    _spec(
        "tenant_utility",
        "gauge",
        ("tenant", "controller"),
        "Utility U = R*q(F) the tenant actually got so far: delivered rate per emulated "
        "second and mean TRUE fidelity (oracle)",
    ),
    # -- the tenants' applications (docs/apps.md) ---------------------------------------------
    _spec(
        "qkd_qber",
        "gauge",
        ("tenant", "basis"),
        "QKD quantum bit error rate measured so far from the sifted bits, per basis (Z or X)",
    ),
    _spec(
        "qkd_secret_key_rate_bps",
        "gauge",
        ("tenant",),
        "QKD asymptotic secret key rate so far (Shor-Preskill), bits per emulated second",
        "emulated",
    ),
    _spec(
        "app_fidelity",
        "histogram",
        ("tenant", "app"),
        "What the application got (oracle): a teleported qubit's fidelity to its input, a "
        "remote CNOT's average gate fidelity, a fused GHZ state's fidelity (tenant: the "
        "ghz/sensing tenant), a QFL parameter's teleported fidelity (tenant: the qfl tenant)",
        buckets=FIDELITY_BUCKETS,
    ),
    # -- faults and recovery (README, "Faults") ------------------------------------------------
    _spec("faults_total", "counter", ("kind",), "Faults injected, by kind (scenario or console)"),
    _spec(
        "faults_active",
        "gauge",
        (),
        "Faults in effect now (links down, nodes crashed, controllers stopped, ...): a "
        "step series to annotate other panels with",
    ),
    _spec(
        "fault_detections_total",
        "counter",
        ("node",),
        "Link changes a node detected from its heartbeats (down or back up)",
    ),
    _spec(
        "reroutes_total",
        "counter",
        ("tenant",),
        "Re-routes of a tenant's path by its routing controller (including withdrawals)",
    ),
    _spec(
        "recovery_seconds",
        "histogram",
        ("kind",),
        "Time from a fault to the first delivery, to every tenant it hit, of a pair made after it",
        "emulated",
        EMULATED_SECONDS_BUCKETS,
    ),
    # -- the emulator itself ----------------------------------------------------------------
    _spec(
        "emulated_time_seconds",
        "gauge",
        (),
        "Latest emulated time seen in the event stream",
        "emulated",
    ),
    _spec("emulator_running", "gauge", (), "1 while a run is in progress, 0 after it ended"),
    _spec(
        "emulator_phase",
        "gauge",
        ("phase",),
        "1 for the run's current phase, 0 for the others: starting (Ray and the actors "
        "coming up, every other figure still 0), running, finished",
    ),
    _spec("emulator_dilation", "gauge", (), "Wall seconds per emulated second (0 in virtual time)"),
    _spec("emulator_actors", "gauge", (), "Ray actors hosting the nodes (0 in virtual time)"),
    _spec("emulator_nodes", "gauge", (), "Quantum nodes in the run"),
    _spec(
        "emulator_lateness_seconds",
        "histogram",
        (),
        "Lateness of released classical messages, actual minus intended release",
        "wall",
        WALL_LATENESS_BUCKETS,
    ),
    _spec(
        "emulator_lateness_p99_seconds",
        "gauge",
        (),
        "99th percentile of message lateness over the recent window",
        "wall",
    ),
    _spec(
        "emulator_lateness_tolerance_seconds",
        "gauge",
        (),
        "Lateness p99 above which the run is overloaded",
        "wall",
    ),
    _spec(
        "emulator_actor_cpu_seconds_total",
        "counter",
        ("kind",),
        "CPU of the node actors' event loops, by what it went to: events (node and "
        "controller logic), frames (from other actors), loop (waking up, sockets)",
        "wall",
    ),
    _spec(
        "emulator_overloaded",
        "gauge",
        (),
        "1 when lateness p99 exceeds its tolerance: the run's numbers are not trusted",
    ),
)

BY_NAME: dict[str, MetricSpec] = {spec.name: spec for spec in CATALOG}


def spec(name: str) -> MetricSpec:
    """The spec of a metric by its full name; a wrong name lists the valid ones."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"no metric {name!r} (valid: {', '.join(BY_NAME)})") from None


if len(BY_NAME) != len(CATALOG):
    raise ValueError("metric catalog: duplicate metric name")


def markdown_table(catalog: tuple[MetricSpec, ...] = CATALOG) -> str:
    """The catalog as the Markdown table of ``docs/telemetry.md``."""
    lines = ["| name | type | labels | meaning | time |", "| --- | --- | --- | --- | --- |"]
    for metric in catalog:
        meaning = metric.help.replace("|", "/")
        lines.append(
            f"| `{metric.name}` | {metric.type} | {', '.join(metric.labels) or '-'} "
            f"| {meaning} | {metric.time} |"
        )
    return "\n".join(lines)
