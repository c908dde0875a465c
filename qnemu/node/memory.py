"""A node's memory slot as the node knows it (classical knowledge only)."""

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
