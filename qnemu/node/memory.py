"""A node's memory slots as the node knows them (classical knowledge only)."""

from __future__ import annotations

from dataclasses import dataclass

from qnemu.node.environment import Scheduled


@dataclass
class HeldQubit:
    """A memory slot holding one half of a heralded link pair, as the node knows it."""

    slot: int
    link_pair: str
    neighbor: str
    tenant: str
    created_at_s: float
    known_at_s: float
    cutoff: Scheduled | None = None
    busy: bool = False
    complete: bool = False  # an end node knows the whole end-to-end pair it belongs to


class Memory:
    """The slots of one node that hold a heralded qubit, by slot number.

    Owned by :class:`~qnemu.node.node.Node` and shared with its end-node side. Slots are
    kept in the order they were filled: the node walks them in that order, so runs
    reproduce.
    """

    def __init__(self) -> None:
        self._held: dict[int, HeldQubit] = {}

    def hold(self, held: HeldQubit) -> None:
        """A herald filled ``held.slot``."""
        self._held[held.slot] = held

    def release(self, held: HeldQubit) -> None:
        """Empty the slot ``held`` occupies (no-op if it is already empty)."""
        self._held.pop(held.slot, None)

    def at(self, slot: int) -> HeldQubit | None:
        """What slot ``slot`` holds, if anything."""
        return self._held.get(slot)

    def holding(self, link_pair: str) -> HeldQubit | None:
        """The slot holding this node's half of ``link_pair``, if any."""
        return next((h for h in self._held.values() if h.link_pair == link_pair), None)

    def qubits(self) -> list[HeldQubit]:
        """Every held qubit, oldest slot filling first (a copy: callers may release)."""
        return list(self._held.values())

    @property
    def occupied(self) -> int:
        """How many slots hold a qubit."""
        return len(self._held)
