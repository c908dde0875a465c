"""Classical messages: one frozen dataclass per kind, and their msgpack-ready encoding.

Every message carries the emulated time at which the receiver may act on it
(``deliver_at_s``); the receiver releases it exactly then (see ``runtime.scheduler``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, cast


@dataclass(frozen=True)
class Message:
    """Fields every classical message has: who sends, who receives, when it may be used."""

    kind: ClassVar[int] = 0
    src: str
    dst: str
    sent_at_s: float
    deliver_at_s: float


@dataclass(frozen=True)
class Herald(Message):
    """The midpoint station announces a heralded link pair to one end of the link."""

    kind: ClassVar[int] = 1
    link_pair: str
    neighbor: str
    slot: int
    tenant: str
    created_at_s: float
    owner_host: int


@dataclass(frozen=True)
class SwapOutcome(Message):
    """A repeater's Bell-measurement result, sent to both end nodes of the tenant."""

    kind: ClassVar[int] = 2
    tenant: str
    repeater: str
    left_pair: str
    right_pair: str
    outcome: int
    success: bool


@dataclass(frozen=True)
class OutcomeAck(Message):
    """An end node confirms a swap outcome; the repeater resends unconfirmed outcomes when
    classical messages can be lost."""

    kind: ClassVar[int] = 12
    tenant: str
    left_pair: str
    right_pair: str


@dataclass(frozen=True)
class ModeFree(Message):
    """The far end of a link tells the link's owner that a memory mode is free again."""

    kind: ClassVar[int] = 3
    link: str
    mode: int


@dataclass(frozen=True)
class Discard(Message):
    """One end gave up on a link pair (cutoff or failed swap); the other end frees its half."""

    kind: ClassVar[int] = 4
    link_pair: str
    reason: str


@dataclass(frozen=True)
class PathSetup(Message):
    """The routing controller tells a node (or a controller's node) a tenant's path."""

    kind: ClassVar[int] = 5
    tenant: str
    path: list[str]
    rounds: int
    #: a re-route's number: a setup of a higher epoch replaces the tenant's path; an
    #: empty ``path`` with a higher epoch withdraws it (no path left)
    epoch: int = 0


@dataclass(frozen=True)
class PathReady(Message):
    """A node acknowledges a tenant's path setup (the announcing controller's node resends
    the setup until it hears this, so a lost setup never leaves a path dark)."""

    kind: ClassVar[int] = 11
    tenant: str
    epoch: int = 0


@dataclass(frozen=True)
class Report(Message):
    """A node's batched news for its controller: pairs heralded and released since last.

    ``heralded`` rows: [pair, neighbor, tenant, created_at_s, known_at_s];
    ``released`` rows: [pair, reason].
    """

    kind: ClassVar[int] = 6
    site: str
    heralded: list[list]
    released: list[list]
    occupied: int


@dataclass(frozen=True)
class SwapInstruction(Message):
    """A controller tells a repeater which two link pairs to join for a tenant."""

    kind: ClassVar[int] = 7
    site: str
    tenant: str
    left_pair: str
    right_pair: str
    compute_s: float


@dataclass(frozen=True)
class DiscardInstruction(Message):
    """A controller tells a node to free its half of a link pair."""

    kind: ClassVar[int] = 10
    site: str
    link_pair: str


@dataclass(frozen=True)
class PurifyRequest(Message):
    """The source end measured its halves of two end-to-end pairs (keep, sacrifice) at
    ``src_time_s``; the destination end is to do the same and answer."""

    kind: ClassVar[int] = 8
    tenant: str
    keep: str
    sacrifice: str
    level: int
    src_time_s: float


@dataclass(frozen=True)
class PurifyResult(Message):
    """The destination end's answer: whether the kept pair survived the round."""

    kind: ClassVar[int] = 9
    tenant: str
    keep: str
    sacrifice: str
    level: int
    success: bool


@dataclass(frozen=True)
class BasisAnnounce(Message):
    """A QKD end announces the basis (Z or X) it measured its half of ``pair`` in."""

    kind: ClassVar[int] = 13
    tenant: str
    pair: str
    basis: str


@dataclass(frozen=True)
class TeleportBits(Message):
    """The source's Bell-measurement outcome (0..3: two bits) for the qubit it teleported
    through ``pair``; the destination corrects its half once this arrives."""

    kind: ClassVar[int] = 14
    tenant: str
    pair: str
    outcome: int


@dataclass(frozen=True)
class CatBit(Message):
    """A remote CNOT's classical bit: ``step`` 1 (cat-entangler, source to destination:
    the Z outcome m1) or 2 (disentangler, destination to source: the X outcome m2)."""

    kind: ClassVar[int] = 15
    tenant: str
    pair: str
    step: int
    bit: int
    gate: int


@dataclass(frozen=True)
class FusionBits(Message):
    """The GHZ hub's fusion outcome for the party at the other end of ``pair``: ``bit``
    (X correction for a Z outcome, Z correction for the first party's X outcome, as
    ``correction`` says); the party corrects its half once this arrives."""

    kind: ClassVar[int] = 16
    tenant: str
    pair: str
    bit: int
    correction: str


@dataclass(frozen=True)
class Heartbeat(Message):
    """A node's periodic sign of life to a fiber neighbor, sent over the link itself (a
    neighbor that misses several declares the link down: see ``node.liveness``)."""

    kind: ClassVar[int] = 40


@dataclass(frozen=True)
class LinkState(Message):
    """``origin`` detected link ``link`` go down or come back (``up``) at ``detected_s``;
    ``seq`` orders the changes ``origin`` saw. ``flood``: link-state flooding (pass it on
    to every neighbor), else a notice to the controller that routes."""

    kind: ClassVar[int] = 41
    link: str
    up: bool
    origin: str
    seq: int
    detected_s: float
    flood: bool


@dataclass(frozen=True)
class TenantJoin(Message):
    """A tenant added live (northbound API): its spec travels with its path, so that a
    node learns it from this message alone. ``spec`` holds the scenario tenant's fields."""

    kind: ClassVar[int] = 30
    tenant: str
    path: list[str]
    rounds: int
    spec: dict[str, Any]


@dataclass(frozen=True)
class TenantLeave(Message):
    """A tenant left: the nodes on its path stop serving it and free its memories."""

    kind: ClassVar[int] = 31
    tenant: str


@dataclass(frozen=True)
class TenantLeft(Message):
    """Acknowledges a :class:`TenantLeave` (sent only when messages can be lost, so that
    the announcer stops resending it; a join is acknowledged by :class:`PathReady`)."""

    kind: ClassVar[int] = 32
    tenant: str


MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.kind: cls
    for cls in (
        Herald,
        SwapOutcome,
        ModeFree,
        Discard,
        PathSetup,
        Report,
        SwapInstruction,
        PurifyRequest,
        PurifyResult,
        DiscardInstruction,
        PathReady,
        OutcomeAck,
        TenantJoin,
        TenantLeave,
        TenantLeft,
        BasisAnnounce,
        TeleportBits,
        CatBit,
        FusionBits,
        Heartbeat,
        LinkState,
    )
}


_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in MESSAGE_TYPES.values()
}


def _encoder(names: tuple[str, ...]) -> Callable[[Message], list[Any]]:
    """``encode`` for one type: one list display of its fields, generated the way
    ``dataclasses`` generates ``__init__`` (field names are identifiers)."""
    body = "".join(f", message.{name}" for name in names)
    namespace: dict[str, Any] = {}
    exec(f"def encode(message):\n    return [message.kind{body}]\n", namespace)
    return cast(Callable[[Message], list[Any]], namespace["encode"])


# field by field, not dataclasses.astuple: that deep-copies every value, per message
_ENCODERS = {cls: _encoder(names) for cls, names in _FIELDS.items()}


def encode(message: Message) -> list[Any]:
    """A message as a msgpack-ready list: its kind code followed by its fields in order."""
    return _ENCODERS[type(message)](message)


def decode(item: list[Any]) -> Message:
    """The message that :func:`encode` produced; an unknown kind is a ValueError."""
    kind, *fields = item
    cls = MESSAGE_TYPES.get(kind)
    if cls is None:
        raise ValueError(f"message kind: unknown code {kind!r}")
    return cls(*fields)
