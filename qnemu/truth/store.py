"""Ground truth: the true state of every stored pair, owned by exactly one host at a time.

A :class:`PairRecord` holds a pair's 4x4 density matrix and, per qubit, the memory it
sits in, its noise parameters and the emulated time it was last brought up to date.
Decoherence is applied lazily whenever the record is touched. Nodes never read these
states; they only ask the store to *perform* operations on their own qubits.

The :class:`GroundTruthStore` of a host keeps the records it owns. An operation on a
qubit whose record lives on another host first pulls the record over (an internal
hand-over, not a classical message, so it costs no emulated latency); ownership then
stays where the record was last used. Requests for a record that moved on are
forwarded along the trail it left.

A host whose process is about to be killed (a planned node crash) first hands every
record it owns to a host that holds one of its qubits (:meth:`GroundTruthStore.evacuate`)
and tells the other qubit's host where it went (a ``MOVED`` frame): the true state of a
pair between two live nodes does not die with a process that merely owned it.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnemu.physics import apply_correction, decohere, exchange_qubits, fidelity, purify, swap

Qubit = tuple[str, str]  # (node id, the link pair that first put it in memory): unique forever


def _as_qubit(qubit: Sequence[str]) -> Qubit:
    """A qubit id as a hashable tuple (one that crossed the wire arrives as a list)."""
    return (qubit[0], qubit[1])


@dataclass
class PairRecord:
    """One entangled pair's true state and the bookkeeping needed to evolve it."""

    pair_id: str
    qubits: list[Qubit]
    rho: np.ndarray
    updated_at_s: list[float]
    t1_s: list[float]
    t2_s: list[float]
    link_pairs: list[str]
    created_at_s: float
    frozen: list[bool] = field(default_factory=lambda: [False, False])
    broken: bool = False
    uses: dict[str, Any] = field(default_factory=dict)

    def index(self, qubit: Qubit) -> int:
        """Position (0 or 1) of ``qubit`` in this pair's density matrix."""
        return self.qubits.index(_as_qubit(qubit))

    def advance(self, index: int, time_s: float) -> None:
        """Apply the memory's T1/T2 noise to one qubit up to emulated time ``time_s``."""
        dt = time_s - self.updated_at_s[index]
        if self.frozen[index] or dt <= 0.0:
            return
        self.rho = decohere(self.rho, index, dt, self.t1_s[index], self.t2_s[index])
        self.updated_at_s[index] = time_s

    def advance_all(self, time_s: float) -> None:
        """Bring both qubits up to ``time_s``."""
        self.advance(0, time_s)
        self.advance(1, time_s)

    def oriented(self, first: Qubit) -> PairRecord:
        """Reorder in place so that ``first`` is qubit 0; returns self."""
        if self.index(first) == 1:
            self.rho = exchange_qubits(self.rho)
            for name in ("qubits", "updated_at_s", "t1_s", "t2_s", "frozen"):
                values = getattr(self, name)
                values.reverse()
        return self

    def to_wire(self) -> list[Any]:
        """A msgpack-ready form for hand-over between hosts."""
        return [
            self.pair_id,
            [list(q) for q in self.qubits],
            self.rho.tobytes(),
            self.updated_at_s,
            [_finite(x) for x in self.t1_s],
            [_finite(x) for x in self.t2_s],
            self.link_pairs,
            self.created_at_s,
            self.frozen,
            self.broken,
            self.uses,
        ]

    @classmethod
    def from_wire(cls, item: list[Any]) -> PairRecord:
        """The record :meth:`to_wire` encoded."""
        (pair_id, qubits, rho, updated, t1, t2, links, created, frozen, broken, uses) = item
        return cls(
            pair_id,
            [(q[0], q[1]) for q in qubits],
            np.frombuffer(rho, dtype=np.complex128).reshape(4, 4).copy(),
            list(updated),
            [_infinite(x) for x in t1],
            [_infinite(x) for x in t2],
            list(links),
            created,
            list(frozen),
            broken,
            dict(uses),
        )


def _finite(x: float) -> float | None:
    return None if math.isinf(x) else x


def _infinite(x: float | None) -> float:
    return math.inf if x is None else x


def swap_records(
    left: PairRecord,
    left_qubit: Qubit,
    right: PairRecord,
    right_qubit: Qubit,
    time_s: float,
    rng: np.random.Generator,
    gate_error: float,
    measurement_error: float,
) -> tuple[int, PairRecord]:
    """Entanglement swap at the node holding ``left_qubit`` and ``right_qubit`` at ``time_s``.

    Returns the Bell-measurement outcome and the outer pair, uncorrected (the Pauli frame
    is applied at the end node once every outcome has arrived).
    """
    left.advance_all(time_s)
    right.advance_all(time_s)
    far_left = left.qubits[1 - left.index(left_qubit)]
    far_right = right.qubits[1 - right.index(right_qubit)]
    left.oriented(far_left)
    right.oriented(right_qubit)
    outcome, rho = swap(
        left.rho, right.rho, rng, gate_error=gate_error, measurement_error=measurement_error
    )
    merged = PairRecord(
        pair_id=f"{left.pair_id}+{right.pair_id}",
        qubits=[far_left, far_right],
        rho=rho,
        updated_at_s=[time_s, time_s],
        t1_s=[left.t1_s[0], right.t1_s[1]],
        t2_s=[left.t2_s[0], right.t2_s[1]],
        link_pairs=left.link_pairs + right.link_pairs,
        created_at_s=min(left.created_at_s, right.created_at_s),
        frozen=[left.frozen[0], right.frozen[1]],
        broken=left.broken or right.broken,
        uses={**left.uses, **right.uses},
    )
    return outcome, merged


def use_qubit(record: PairRecord, qubit: Qubit, time_s: float, corrections: list[int]) -> None:
    """The end node applies its Pauli corrections and hands its qubit to the tenant.

    The qubit is frozen at ``time_s``: the application consumes (measures) it then.
    """
    index = record.index(qubit)
    record.advance(index, time_s)
    if corrections:
        other = record.qubits[1 - index]
        record.oriented(other)  # corrections act on qubit 1
        for outcome in corrections:
            record.rho = apply_correction(record.rho, outcome)
        index = 1
    record.frozen[index] = True


def correct_qubit(record: PairRecord, qubit: Qubit, time_s: float, corrections: list[int]) -> None:
    """Apply an end node's Pauli corrections to its qubit at ``time_s`` (no freezing)."""
    index = record.index(qubit)
    record.advance(index, time_s)
    if corrections:
        record.oriented(record.qubits[1 - index])  # corrections act on qubit 1
        for outcome in corrections:
            record.rho = apply_correction(record.rho, outcome)


def purify_records(
    keep: PairRecord,
    sacrifice: PairRecord,
    src: str,
    src_time_s: float,
    dst_time_s: float,
    rng: np.random.Generator,
    method: str,
) -> bool:
    """One round of end-to-end purification; ``keep`` holds the result, returns success.

    The source end acted at ``src_time_s``, the destination at ``dst_time_s``: each pair's
    qubits are brought up to their own end's time first (local operations at different
    ends commute), and the kept source qubit decoheres on from ``src_time_s`` afterwards.
    """
    for record in (keep, sacrifice):
        at_src = next(q for q in record.qubits if q[0] == src)
        record.oriented(at_src)
        record.advance(0, src_time_s)
        record.advance(1, dst_time_s)
    success, rho = purify(rng, keep.rho, sacrifice.rho, method=method)
    keep.rho = rho
    keep.broken = keep.broken or sacrifice.broken or not success
    keep.link_pairs = keep.link_pairs + sacrifice.link_pairs
    keep.created_at_s = min(keep.created_at_s, sacrifice.created_at_s)
    return success


def true_fidelity(record: PairRecord) -> float:
    """Oracle: the pair's fidelity to Φ+ as it stands (telemetry only, never for nodes)."""
    return fidelity(record.rho)


class GroundTruthStore:
    """The records one host owns, with hand-over of records between hosts.

    ``send(host, frame)`` delivers an internal frame to another host's store (over the
    same sockets as classical messages, but released at once, untimed).
    """

    ACQUIRE = -1
    TRANSFER = -2
    MOVED = -3

    def __init__(self, host_id: int, send: Callable[[int, list[Any]], None]) -> None:
        self.host_id = host_id
        self._send = send
        self._records: dict[str, PairRecord] = {}
        self._by_qubit: dict[Qubit, str] = {}
        self._trail: dict[Qubit, int] = {}  # where a qubit's record went (or comes from)
        self._requested: set[Qubit] = set()
        self._waiting_peers: dict[Qubit, list[int]] = {}
        self._pending: deque[tuple[list[Qubit], Callable[..., None]]] = deque()
        self.handovers = 0

    def __len__(self) -> int:
        return len(self._records)

    def add(self, record: PairRecord) -> None:
        """Take ownership of a record (new, merged or handed over)."""
        self._records[record.pair_id] = record
        for qubit in record.qubits:
            self._by_qubit[_as_qubit(qubit)] = record.pair_id
            self._trail.pop(_as_qubit(qubit), None)

    def place(self, record: PairRecord, host_id: int) -> None:
        """Hand a new record to ``host_id`` at once (this host if it is ours)."""
        if host_id == self.host_id:
            self.add(record)
            return
        for qubit in record.qubits:
            self._trail[_as_qubit(qubit)] = host_id
        self.handovers += 1
        self._send(host_id, [self.TRANSFER, record.to_wire()])

    def remove(self, record: PairRecord) -> None:
        """Forget a record (consumed or merged into another one)."""
        self._records.pop(record.pair_id, None)
        for qubit in record.qubits:
            if self._by_qubit.get(_as_qubit(qubit)) == record.pair_id:
                del self._by_qubit[_as_qubit(qubit)]

    def forget_qubit(self, qubit: Qubit) -> None:
        """A qubit was measured or reset: nothing will ask for it again."""
        self._by_qubit.pop(qubit, None)
        self._trail.pop(qubit, None)

    def expect(self, qubit: Qubit, host_id: int) -> None:
        """Note that ``qubit``'s record lives on ``host_id`` (or is on its way here)."""
        if qubit in self._by_qubit:
            return
        if host_id != self.host_id:
            self._trail[qubit] = host_id
        else:
            self._requested.add(qubit)  # placed here by its creator: wait for it to arrive

    def record_of(self, qubit: Qubit) -> PairRecord | None:
        """The local record holding ``qubit``, if this host owns it."""
        pair_id = self._by_qubit.get(qubit)
        return None if pair_id is None else self._records[pair_id]

    def operate(self, qubits: list[Qubit], operation: Callable[..., None]) -> None:
        """Run ``operation(*records)`` once the records of ``qubits`` are all local.

        Runs at once when they are; otherwise pulls the missing ones over and runs when
        they arrive. Operations run in the order they were asked for.
        """
        if not self._pending and self._try(qubits, operation):
            return
        self._pending.append((qubits, operation))
        self._request_missing(qubits)

    def _try(self, qubits: list[Qubit], operation: Callable[..., None]) -> bool:
        records = [self.record_of(q) for q in qubits]
        if any(r is None for r in records):
            return False
        operation(*records)
        return True

    def _request_missing(self, qubits: list[Qubit]) -> None:
        for qubit in qubits:
            if qubit in self._by_qubit or qubit in self._requested:
                continue
            owner = self._trail.get(qubit)
            if owner is None:
                raise RuntimeError(f"ground truth: no record and no trail for qubit {qubit}")
            self._requested.add(qubit)
            self._send(owner, [self.ACQUIRE, qubit[0], qubit[1], self.host_id])

    def handle(self, frame: list[Any]) -> None:
        """Process an internal frame from another host's store."""
        if frame[0] == self.ACQUIRE:
            self._on_acquire((frame[1], frame[2]), int(frame[3]))
        elif frame[0] == self.TRANSFER:
            self._on_transfer(PairRecord.from_wire(frame[1]))
        elif frame[0] == self.MOVED:
            self._on_moved((frame[1], frame[2]), int(frame[3]))
        else:
            raise ValueError(f"ground-truth frame: unknown code {frame[0]!r}")

    def _on_acquire(self, qubit: Qubit, requester: int) -> None:
        record = self.record_of(qubit)
        if record is not None:
            self.remove(record)
            for q in record.qubits:
                self._trail[_as_qubit(q)] = requester
            self.handovers += 1
            self._send(requester, [self.TRANSFER, record.to_wire()])
        elif qubit in self._requested:
            self._waiting_peers.setdefault(qubit, []).append(requester)
        elif qubit in self._trail:
            self._send(self._trail[qubit], [self.ACQUIRE, qubit[0], qubit[1], requester])
        else:
            raise RuntimeError(f"ground truth: acquire for unknown qubit {qubit}")

    def _on_moved(self, qubit: Qubit, owner: int) -> None:
        """``qubit``'s record now lives on ``owner`` (its old owner is going away)."""
        if qubit not in self._by_qubit and (qubit in self._trail or qubit in self._requested):
            self._trail[qubit] = owner

    def evacuate(self, host_of: Callable[[str], int], gone: set[str]) -> tuple[int, int]:
        """Hand every record this host owns to a host that holds one of its qubits at a
        node not in ``gone`` (crashed), and tell the host of the other qubit; records
        held only by gone nodes are dropped. Returns (records handed over, dropped)."""
        moved = dropped = 0
        for qubit, owner in list(self._trail.items()):  # records that left earlier: their
            home = host_of(qubit[0])  # qubit's host may still ask here, which ends now
            if qubit[0] not in gone and home not in (owner, self.host_id):
                self._send(home, [self.MOVED, qubit[0], qubit[1], owner])
        for record in list(self._records.values()):
            self.remove(record)
            live = [q for q in record.qubits if q[0] not in gone]
            homes = [host_of(q[0]) for q in live]
            away = [h for h in homes if h != self.host_id]
            if not away:
                dropped += 1
                continue
            target = away[0]
            for qubit in record.qubits:
                self._trail[_as_qubit(qubit)] = target
            self.handovers += 1
            self._send(target, [self.TRANSFER, record.to_wire()])
            for qubit, home in zip(live, homes, strict=True):
                if home not in (target, self.host_id):
                    self._send(home, [self.MOVED, qubit[0], qubit[1], target])
            moved += 1
        return moved, dropped

    def _on_transfer(self, record: PairRecord) -> None:
        self.add(record)
        for qubit in record.qubits:
            self._requested.discard(_as_qubit(qubit))
        self._run_pending()
        for qubit in list(self._waiting_peers):
            if qubit not in self._requested:
                for peer in self._waiting_peers.pop(qubit):
                    self._on_acquire(qubit, peer)

    def _run_pending(self) -> None:
        still: deque[tuple[list[Qubit], Callable[..., None]]] = deque()
        while self._pending:
            qubits, operation = self._pending.popleft()
            if not self._try(qubits, operation):
                still.append((qubits, operation))
        self._pending = still
        for qubits, _ in self._pending:
            self._request_missing(qubits)
