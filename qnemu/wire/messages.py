"""Classical messages: one frozen dataclass per kind, msgpack frames, the delay model.

Every message carries the emulated time at which the receiver may act on it
(``deliver_at_s``); the receiver releases it exactly then (see ``runtime.scheduler``).
"""

from __future__ import annotations

import dataclasses
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import msgpack
import networkx as nx
import numpy as np

from qnemu.physics.fiber import propagation_delay_s

MAX_FRAME_BYTES = 1 << 20  # a single frame above 1 MiB is a bug or an attack
_LENGTH = struct.Struct("!I")


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


@dataclass(frozen=True)
class PathReady(Message):
    """A node acknowledges a tenant's path setup (the announcing controller's node resends
    the setup until it hears this, so a lost setup never leaves a path dark)."""

    kind: ClassVar[int] = 11
    tenant: str


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


MESSAGE_TYPES: dict[int, type[Message]] = {
    cls.kind: cls
    for cls in (Herald, SwapOutcome, ModeFree, Discard, PathSetup, Report, SwapInstruction,
                PurifyRequest, PurifyResult, DiscardInstruction, PathReady, OutcomeAck)
}


_FIELDS: dict[type, tuple[str, ...]] = {
    cls: tuple(f.name for f in dataclasses.fields(cls)) for cls in MESSAGE_TYPES.values()
}


def encode(message: Message) -> list[Any]:
    """A message as a msgpack-ready list: its kind code followed by its fields in order."""
    # field by field, not dataclasses.astuple: that deep-copies every value, per message
    return [message.kind, *(getattr(message, name) for name in _FIELDS[type(message)])]


def decode(item: list[Any]) -> Message:
    """The message that :func:`encode` produced; an unknown kind is a ValueError."""
    kind, *fields = item
    cls = MESSAGE_TYPES.get(kind)
    if cls is None:
        raise ValueError(f"message kind: unknown code {kind!r}")
    return cls(*fields)


def frame(payload: Any) -> bytes:
    """One length-prefixed msgpack frame."""
    body = msgpack.packb(payload, use_bin_type=True)
    return _LENGTH.pack(len(body)) + body


class FrameTooLarge(ValueError):
    """A length prefix above the limit: the stream cannot be trusted any more."""


class FrameReader:
    """Splits a byte stream into decoded frames, refusing frames over the size limit."""

    def __init__(self, max_frame_bytes: int = MAX_FRAME_BYTES) -> None:
        self._buffer = bytearray()
        self._max = max_frame_bytes

    def bodies(self, data: bytes) -> Iterator[bytes]:
        """Add received bytes; yield the body of every frame now complete (undecoded)."""
        self._buffer += data
        while len(self._buffer) >= _LENGTH.size:
            (length,) = _LENGTH.unpack_from(self._buffer)
            if length > self._max:
                raise FrameTooLarge(f"frame length: {length} bytes exceeds the {self._max} "
                                    f"limit")
            end = _LENGTH.size + length
            if len(self._buffer) < end:
                return
            body = bytes(self._buffer[_LENGTH.size:end])
            del self._buffer[:end]
            yield body

    def decode(self, body: bytes) -> Any:
        """One frame body as msgpack, with the size limits on its strings and bytes."""
        return msgpack.unpackb(body, raw=False, max_bin_len=self._max, max_str_len=self._max)

    def feed(self, data: bytes) -> Iterator[Any]:
        """Add received bytes; yield every frame now complete, decoded."""
        for body in self.bodies(data):
            yield self.decode(body)


class ClassicalNetwork:
    """The emulated classical network: per-hop fiber propagation plus processing, and jitter.

    Classical messages follow the fiber topology along the path of least delay; each hop
    costs propagation (L / (c/n)) plus ``processing_s``. Jitter is Gaussian with standard
    deviation ``jitter_s`` per message, truncated so that a message is never faster than
    its propagation; ``loss`` is the probability a message is lost.
    """

    def __init__(
        self,
        graph: nx.Graph,
        processing_s: float = 1e-5,
        jitter_s: float = 0.0,
        loss: float = 0.0,
    ) -> None:
        self.processing_s = processing_s
        self.jitter_s = jitter_s
        self.loss = loss
        self._graph = graph
        # one Dijkstra per source, when that source first sends: a node talks to few
        # others, and all pairs of a 10,000-node network would not fit in memory
        self._delay: dict[str, dict[str, float]] = {}

    def _hop_delay_s(self, u: str, v: str, data: dict[str, Any]) -> float:
        return propagation_delay_s(data["length_km"]) + self.processing_s

    def _row(self, src: str) -> dict[str, float]:
        row = self._delay.get(src)
        if row is None:
            row = self._delay[src] = nx.single_source_dijkstra_path_length(
                self._graph, src, weight=self._hop_delay_s)
        return row

    def delay_s(self, src: str, dst: str) -> float:
        """Mean one-way delay between two nodes in emulated seconds (0 to oneself)."""
        return self._row(src)[dst]

    def sample_delay_s(self, rng: np.random.Generator, src: str, dst: str) -> float | None:
        """A delay drawn for one message, or None when the message is lost."""
        if self.loss > 0.0 and src != dst and rng.random() < self.loss:
            return None  # a node's message to itself never touches the network
        delay = self._row(src)[dst]
        if self.jitter_s > 0.0 and src != dst:
            delay = max(delay - self.processing_s, delay + rng.normal(0.0, self.jitter_s))
        return delay

    def shortest_hop_delay_s(self) -> float:
        """The smallest delay between two distinct nodes: the emulation's finest time scale."""
        return min((self._hop_delay_s(u, v, data) for u, v, data in self._graph.edges(data=True)
                    if u != v), default=math.inf)
