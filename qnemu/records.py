"""Typed run events: every kind of record a run writes to ``events.jsonl``.

Each kind is a small frozen dataclass whose class attribute ``event`` names it and whose
``t_s`` is the emulated time it happened (seconds). Emitters build them (nodes, controller
hosts, the runtime, the planner); :meth:`RunEvent.to_dict` is what travels from the actors
and what ``events.jsonl`` holds, one object a line; :func:`parse` turns such an object back
into its dataclass, so that the summary, the telemetry recorder and ``qnemu compare`` read
one definition of every field. ``docs/events.md`` lists the kinds and fields (a test checks
that it matches this module).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar, cast

KINDS: dict[str, type[RunEvent]] = {}
_FIELDS: dict[type, tuple[str, ...]] = {}
_GETTERS: dict[type, Callable[[RunEvent], dict[str, Any]]] = {}
E = TypeVar("E", bound="RunEvent")


@dataclass(frozen=True, kw_only=True, slots=True)
class RunEvent:
    """Base of every run event: ``event`` (the kind) and ``t_s`` (emulated seconds)."""

    event: ClassVar[str] = ""
    t_s: float

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # no super(): a slots dataclass is rebuilt as a new class, which breaks its cell
        if cls.event:
            if cls.event in KINDS and KINDS[cls.event].__name__ != cls.__name__:
                raise TypeError(f"event kind {cls.event!r} is defined twice")
            KINDS[cls.event] = cls

    def to_dict(self) -> dict[str, Any]:
        """The record as ``events.jsonl`` holds it: ``event`` first, then every field."""
        getter = _GETTERS.get(type(self))
        if getter is None:
            getter = _GETTERS[type(self)] = _getter(type(self))
        return getter(self)


def _getter(cls: type[RunEvent]) -> Callable[[RunEvent], dict[str, Any]]:
    """``to_dict`` for one kind, generated the way ``dataclasses`` generates ``__init__``:
    one dict display of its fields, about 4x faster than a ``getattr`` per field (a run
    builds a few records per classical message). Field names are identifiers."""
    names = ("event", *(f.name for f in dataclasses.fields(cls)))
    body = ", ".join(f"{name!r}: event.{name}" for name in names)
    namespace: dict[str, Any] = {}
    exec(f"def to_dict(event):\n    return {{{body}}}\n", namespace)
    return cast(Callable[[RunEvent], dict[str, Any]], namespace["to_dict"])


def parse(record: Mapping[str, Any]) -> RunEvent:
    """The typed event of one ``events.jsonl`` object (unknown keys are ignored, so that
    newer records still read); KeyError for an unknown kind."""
    cls = KINDS[record["event"]]
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return cls(**{name: record[name] for name in names if name in record})


def of_kind(records: Iterable[Mapping[str, Any]], kind: type[E]) -> list[E]:
    """The events of one kind among plain records, typed."""
    return [parse(r) for r in records if r.get("event") == kind.event]  # type: ignore[misc]


# -- planning (t_s = 0: decided before the run) ------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Admission(RunEvent):
    """Admission control's verdict on a tenant, with the utilities it compared."""

    event: ClassVar[str] = "admission"
    tenant: str
    admitted: bool
    reason: str
    utility_before: float | None = None
    utility_after: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Qnum(RunEvent):
    """The planner's route for a tenant and its prediction (``model``: ``twin`` when the
    digital twin calibrated it, the closed forms then kept as ``analytic_*``)."""

    event: ClassVar[str] = "qnum"
    tenant: str
    routing: str
    path: list[str]
    rounds: int
    predicted_rate_hz: float
    predicted_fidelity: float
    utility: float
    note: str = ""
    model: str = "closed_form"
    analytic_rate_hz: float | None = None
    analytic_fidelity: float | None = None
    twin_pairs: int | None = None
    twin_horizon_s: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class TwinFailed(RunEvent):
    """The digital twin raised (a user controller's bug): the closed forms stand."""

    event: ClassVar[str] = "twin_failed"
    error: str


# -- link layer and nodes --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class PairGenerated(RunEvent):
    """A link pair heralded at its station: emitted at ``created_s`` after ``attempts``."""

    event: ClassVar[str] = "pair_generated"
    created_s: float
    link: str
    pair: str
    tenant: str | None
    attempts: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Herald(RunEvent):
    """A node learned of a link pair half it holds; ``occupied``: memories now in use."""

    event: ClassVar[str] = "herald"
    node: str
    pair: str
    created_s: float
    tenant: str | None
    occupied: int


@dataclass(frozen=True, kw_only=True, slots=True)
class PathSetup(RunEvent):
    """A tenant's path setup reached a node."""

    event: ClassVar[str] = "path_setup"
    node: str
    tenant: str
    path: list[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class MessageLost(RunEvent):
    """The emulated classical network lost a message (``kind``: its type) to ``dst``."""

    event: ClassVar[str] = "message_lost"
    node: str
    dst: str
    kind: str


#: Why a node drops a pair half (:class:`Discard`'s ``reason``); a node that drops its half
#: because its link partner did says ``partner_`` and the partner's reason.
DISCARD_REASONS = (
    "cutoff",
    "herald_late",
    "timeout",
    "controller",
    "swap_failed",
    "purification_failed",
    "unrequested",
    "departed",
    "link_down",
    "crash",
    "reroute",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Discard(RunEvent):
    """A node dropped a pair half: ``reason`` is one of ``DISCARD_REASONS``, or
    ``partner_`` and one of them."""

    event: ClassVar[str] = "discard"
    node: str
    pair: str
    tenant: str | None
    reason: str
    waited_s: float
    occupied: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Violation(RunEvent):
    """A latency-coherence violation of ``kind`` (see the README's list). ``site`` and
    ``controller`` say which control plane's decision it concerns; the detail fields are
    set where the kind has them."""

    event: ClassVar[str] = "violation"
    kind: str
    node: str
    tenant: str | None
    site: str | None = None
    controller: str | None = None
    waited_s: float | None = None
    fidelity: float | None = None
    pair: str | None = None
    missing: list[str] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Decision(RunEvent):
    """A swap instruction reached a repeater: ``latency_s`` from knowing both pairs,
    ``compute_s`` the controller's handler time. ``site`` decided it, under the control
    plane ``controller``."""

    event: ClassVar[str] = "decision"
    node: str
    site: str
    controller: str
    tenant: str
    latency_s: float
    compute_s: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Swap(RunEvent):
    """A repeater swapped two link pair halves (``ages_s``: how long each was stored)."""

    event: ClassVar[str] = "swap"
    node: str
    tenant: str
    left_pair: str
    right_pair: str
    left_known_s: float
    right_known_s: float
    ages_s: list[float]
    success: bool
    occupied: int


@dataclass(frozen=True, kw_only=True, slots=True)
class OutcomeReceived(RunEvent):
    """An end node received a repeater's swap outcome."""

    event: ClassVar[str] = "outcome_received"
    node: str
    tenant: str
    repeater: str
    left_pair: str
    right_pair: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Purification(RunEvent):
    """An end-to-end purification round at ``level`` ended (``success`` or not)."""

    event: ClassVar[str] = "purification"
    node: str
    tenant: str
    level: int
    success: bool


# -- tenants' demand and deliveries ----------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Request(RunEvent):
    """A tenant's request for a pair arrived at its source."""

    event: ClassVar[str] = "request"
    tenant: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Served(RunEvent):
    """A waiting request got a finished pair after ``waited_s``."""

    event: ClassVar[str] = "served"
    tenant: str
    pair: str
    waited_s: float


@dataclass(frozen=True, kw_only=True, slots=True)
class Use(RunEvent):
    """An end node handed its half to the application (``role``: src or dst)."""

    event: ClassVar[str] = "use"
    node: str
    tenant: str
    role: str
    pair: str
    repeaters: list[str]
    waited_s: float
    chain: list[Any]
    occupied: int


@dataclass(frozen=True, kw_only=True, slots=True)
class Delivered(RunEvent):
    """An end-to-end pair delivered: its true ``fidelity`` (ground truth, oracle side) and
    ``latency_s`` from its first link pair. ``t_s`` equals ``t_delivered_s``. These
    records also make up ``pairs.jsonl``. ``app``: what the tenant's application did with
    the pair (``name`` and its results, see docs/apps.md; null for a pure quality
    function)."""

    event: ClassVar[str] = "delivered"
    tenant: str
    src: str
    dst: str
    t_delivered_s: float
    fidelity: float
    latency_s: float
    link_pairs: list[str]
    src_used_s: float
    dst_used_s: float
    src_waited_s: float
    dst_waited_s: float
    app: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class GateDone(RunEvent):
    """A remote CNOT finished at the source: its disentangler bit arrived. ``gate`` counts
    the tenant's gates from 0; ``started_s`` is when the source used its half."""

    event: ClassVar[str] = "gate_done"
    tenant: str
    pair: str
    gate: int
    started_s: float


@dataclass(frozen=True, kw_only=True, slots=True)
class QflUpdate(RunEvent):
    """A QFL client's update reached the server: its ``pairs`` (``pairs_per_round``
    teleported parameters) all arrived, the first after ``started_s``. ``staleness``:
    model versions aggregated since the client's base version; ``accepted``: within the
    tenant's bound (sync: always). ``tenant`` is the qfl tenant, ``client`` the node."""

    event: ClassVar[str] = "qfl_update"
    tenant: str
    client: str
    started_s: float
    staleness: int
    accepted: bool
    pairs: list[str]


@dataclass(frozen=True, kw_only=True, slots=True)
class QflRound(RunEvent):
    """The QFL server aggregated round ``round`` (a new model version) at ``t_s``; the
    round began at ``started_s`` (the previous aggregation). ``clients``: whose updates it
    took; ``straggler_s``: sync only, the slowest client's update time beyond the
    fastest's; ``surplus``: sync only, pairs that arrived from clients already done."""

    event: ClassVar[str] = "qfl_round"
    tenant: str
    round: int
    started_s: float
    aggregation: str
    clients: list[str]
    pairs: list[str]
    straggler_s: float | None = None
    surplus: int = 0


# -- the service layer: tenants arriving and leaving, SLAs ---------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class TenantAdded(RunEvent):
    """A tenant arrived: its path setup left ``node`` (``origin``: ``scenario`` for a
    tenant with ``at_s``, ``api`` for one added through the northbound API)."""

    event: ClassVar[str] = "tenant_added"
    node: str
    tenant: str
    origin: str
    app: str
    f_min: float
    path: list[str]
    slice: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class TenantRemoved(RunEvent):
    """A tenant left (its ``until_s``, or removed through the API): ``node`` told its
    path to stop serving it; its idle qubits are discarded as ``departed``."""

    event: ClassVar[str] = "tenant_removed"
    node: str
    tenant: str
    origin: str


@dataclass(frozen=True, kw_only=True, slots=True)
class TenantUnconfirmed(RunEvent):
    """``node`` gave up announcing a live tenant's ``message`` (``TenantJoin`` or
    ``TenantLeave``) after ``sends`` sends: ``nodes`` never acknowledged it (classical
    loss)."""

    event: ClassVar[str] = "tenant_unconfirmed"
    node: str
    tenant: str
    message: str
    nodes: list[str]
    sends: int


@dataclass(frozen=True, kw_only=True, slots=True)
class SlaPredicted(RunEvent):
    """The planner's SLA verdict: the model's probability that a window of ``window_s``
    holds at least ``target_pairs`` pairs above f_min, from the delivery renewal process
    (mean and standard deviation of the gap between such pairs)."""

    event: ClassVar[str] = "sla_predicted"
    tenant: str
    window_s: float
    target_pairs: int
    probability: float
    required: float
    gap_mean_s: float | None
    gap_std_s: float | None


@dataclass(frozen=True, kw_only=True, slots=True)
class SlaMissed(RunEvent):
    """An SLA window of a tenant ended (at ``t_s``) with fewer than ``target_pairs``
    pairs above f_min: ``pairs`` arrived in [``start_s``, ``t_s``)."""

    event: ClassVar[str] = "sla_missed"
    tenant: str
    start_s: float
    pairs: int
    target_pairs: int


# -- the runtime -----------------------------------------------------------------------------


# -- faults, detection, recovery, the live console ---------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Fault(RunEvent):
    """A fault began (``kind``, ``target`` as the scenario's ``faults:`` names it; until
    ``until_s``, null: the end of the run). ``pairs_lost``: pair halves it destroyed at
    once; ``tenants``: those whose path crossed the target then; ``origin``: ``scenario``
    or ``console``."""

    event: ClassVar[str] = "fault"
    kind: str
    target: str
    until_s: float | None = None
    value: float | None = None
    pairs_lost: int = 0
    tenants: list[str] = dataclasses.field(default_factory=list)
    origin: str = "scenario"


@dataclass(frozen=True, kw_only=True, slots=True)
class FaultEnded(RunEvent):
    """A fault ended: the link is back, the node restarted empty, the controller decides again."""

    event: ClassVar[str] = "fault_end"
    kind: str
    target: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Detected(RunEvent):
    """``node`` concluded from its own heartbeats that ``link`` went down (``up`` false:
    silent for ``silent_s``) or came back (``up`` true)."""

    event: ClassVar[str] = "detected"
    node: str
    link: str
    up: bool
    silent_s: float | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Reroute(RunEvent):
    """The routing controller at ``node`` moved ``tenant`` to ``path`` (epoch ``epoch``;
    null: no path left, the tenant is unserved until one returns), because of ``reason``
    (the link states it knew). ``compute_s``: the route computation's time."""

    event: ClassVar[str] = "reroute"
    node: str
    tenant: str
    epoch: int
    path: list[str] | None
    previous: list[str] | None
    reason: str
    compute_s: float = 0.0
    architecture: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConsoleAction(RunEvent):
    """A command typed at the live console (``qnemu run --console``) that changed the
    run; ``qnemu run --replay`` repeats these at the same emulated times."""

    event: ClassVar[str] = "console"
    command: str


@dataclass(frozen=True, kw_only=True, slots=True)
class FrameRejected(RunEvent):
    """A host dropped a malformed frame or refused a peer (``reason``), and survived."""

    event: ClassVar[str] = "frame_rejected"
    host: int
    reason: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ActorKilled(RunEvent):
    """A planned node crash killed the process of the actor that ran ``node`` alone (host
    ``host``, process ``pid``), after its pairs' true state was handed to live hosts."""

    event: ClassVar[str] = "actor_killed"
    host: int
    node: str
    pid: int


@dataclass(frozen=True, kw_only=True, slots=True)
class ActorRejoined(RunEvent):
    """A new process (``pid``; the killed one was ``previous_pid``) took host ``host``'s
    place and rejoined the run; ``node`` restarts empty in it at ``restart_s`` (the
    crash's end, or later if the new process was not ready by then)."""

    event: ClassVar[str] = "actor_rejoined"
    host: int
    node: str
    pid: int
    previous_pid: int
    restart_s: float


def markdown_table() -> str:
    """``docs/events.md``'s table: every kind, its fields and what it records."""
    lines = ["| event | fields | records |", "| --- | --- | --- |"]
    for kind, cls in KINDS.items():
        fields = ", ".join(f"`{f.name}`" for f in dataclasses.fields(cls))
        summary = " ".join((cls.__doc__ or "").split())
        lines.append(f"| `{kind}` | {fields} | {summary} |")
    return "\n".join(lines) + "\n"
