"""What each fault did, from the event stream: ``summary.json``'s ``faults`` block, and the
recovery times telemetry exports.

For each ``fault`` record (see ``qnemu.records``): ``detected_s`` is the emulated time
from the fault to the first node that detected it (a ``detected`` record, link down, on
the faulty link or a link of the crashed node; null if none did, as for faults nodes do
not watch: classical loss, memory degradation, a controller outage); ``recovered_s``
the time from the fault to the first delivery, to *every* tenant whose path crossed the
target then, of a pair whose first link pair was made after the fault (null if one of
them never got one); ``pairs_lost`` the pair halves dropped during the fault because of
faults (``discard`` reasons ``link_down``, ``crash``, ``reroute`` and their ``partner_``
forms, between ``at_s`` and ``until_s``; overlapping faults share them);
``delivered_during`` the pairs delivered to any tenant while the fault was in force (what
the network still delivered meanwhile, e.g. during a controller outage).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, ClassVar

from qnemu import records

#: Discard reasons that count as pairs lost to a fault.
LOST_REASONS = frozenset(
    ("link_down", "crash", "reroute", "partner_link_down", "partner_crash", "partner_reroute")
)


@dataclass
class FaultRow:
    """One fault as the summary reports it (times relative to ``at_s``, emulated s)."""

    kind: str
    target: str
    at_s: float
    until_s: float | None
    tenants: list[str]
    origin: str
    detected_s: float | None = None
    recovered_s: float | None = None
    pairs_lost: int = 0
    delivered_during: int = 0
    waiting: dict[str, None] = field(default_factory=dict)  # tenants not yet served again
    latest: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "target": self.target,
            "at_s": self.at_s,
            "until_s": self.until_s,
            "detected_s": self.detected_s,
            "recovered_s": self.recovered_s,
            "pairs_lost": self.pairs_lost,
            "delivered_during": self.delivered_during,
            "tenants": self.tenants,
            "origin": self.origin,
        }

    def covers(self, t_s: float) -> bool:
        return self.at_s <= t_s <= (math.inf if self.until_s is None else self.until_s)

    def detects(self, event: records.Detected) -> bool:
        if event.up or self.detected_s is not None or event.t_s < self.at_s:
            return False
        ends = event.link.split("~")
        if self.kind == "link_down":
            return event.link == self.target
        if self.kind == "node_crash":
            return self.target in ends and event.node != self.target
        return False


class FaultTally:
    """Folds events into one :class:`FaultRow` per fault."""

    def __init__(self) -> None:
        self.rows: list[FaultRow] = []
        # detections seen so far: records reach the driver host by host, so a neighbour's
        # detection can arrive before the fault record of the host that owns the fault
        self._detections: list[records.Detected] = []

    #: The kinds :meth:`add` reads (others need not be parsed for it).
    READS: ClassVar[frozenset[type[records.RunEvent]]] = frozenset(
        {records.Fault, records.Detected, records.Discard, records.Delivered}
    )

    def add(self, event: records.RunEvent) -> list[tuple[str, float]]:
        """Take one event; returns (kind, recovery time) of each fault it completed."""
        match event:
            case records.Fault():
                row = FaultRow(
                    event.kind,
                    event.target,
                    event.t_s,
                    event.until_s,
                    list(event.tenants),
                    event.origin,
                    waiting=dict.fromkeys(event.tenants),
                )
                self.rows.append(row)
                for detected in sorted(self._detections, key=lambda d: d.t_s):
                    if row.detects(detected):
                        row.detected_s = detected.t_s - row.at_s
            case records.Detected():
                if not event.up:
                    self._detections.append(event)
                for row in self.rows:
                    if row.detects(event):
                        row.detected_s = event.t_s - row.at_s
            case records.Discard() if event.reason in LOST_REASONS:
                for row in self.rows:
                    if row.covers(event.t_s):
                        row.pairs_lost += 1
            case records.Delivered():
                return self._delivered(event)
        return []

    def _delivered(self, event: records.Delivered) -> list[tuple[str, float]]:
        done = []
        made = event.t_s - event.latency_s
        for row in self.rows:
            if row.covers(event.t_s) and event.t_s < (row.until_s or math.inf):
                row.delivered_during += 1
            if event.tenant in row.waiting and made >= row.at_s:
                del row.waiting[event.tenant]
                row.latest = max(row.latest, event.t_s)
                if not row.waiting:
                    row.recovered_s = row.latest - row.at_s
                    done.append((row.kind, row.recovered_s))
        return done

    def summary(self) -> list[dict[str, Any]]:
        """The ``faults`` block of ``summary.json``, in the order the faults began."""
        return [row.to_dict() for row in sorted(self.rows, key=lambda r: r.at_s)]
