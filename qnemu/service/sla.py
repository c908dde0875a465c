"""Counting SLA windows as a run goes, and the service layer's part of the summary.

The driver folds the run's event stream into a :class:`ServiceLedger`: when each tenant
arrived and left (``tenant_added``/``tenant_removed``), and for every tenant with an SLA
its deliveries above f_min (true fidelity: the oracle side, like every delivered figure
of the summary). Windows are laid end to end from the tenant's arrival; a window counts
once the run has reached its end (and the tenant is still there at its end); one with
fewer than ``ceil(rate_hz x window_s)`` good pairs is a violated window, written to
``events.jsonl`` as ``sla_missed`` (so also counted in ``qnemu_events_total``).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from qnemu import records
from qnemu.planning.sla import target_pairs
from qnemu.scenario import TenantSpec
from qnemu.service.estimate import FidelityEstimates


@dataclass
class SlaAccount:
    """One tenant's SLA windows: where they start, what each needs, what came."""

    window_s: float
    target: int
    f_min: float
    predicted: float | None
    start_s: float | None = None  # None until the tenant arrived
    end_s: float = math.inf
    good_s: list[float] = field(default_factory=list)  # delivery times above f_min
    windows: int = 0
    met: int = 0

    def close(self, tenant: str, reached_s: float) -> list[records.SlaMissed]:
        """Count every window that ended by ``reached_s`` (and before the tenant left)."""
        if self.start_s is None:
            return []
        missed: list[records.SlaMissed] = []
        while True:
            begin = self.start_s + self.windows * self.window_s
            end = begin + self.window_s
            if end > min(reached_s, self.end_s) + 1e-12:
                return missed
            pairs = bisect.bisect_left(self.good_s, end) - bisect.bisect_left(self.good_s, begin)
            self.windows += 1
            if pairs >= self.target:
                self.met += 1
            else:
                missed.append(
                    records.SlaMissed(
                        t_s=end, tenant=tenant, start_s=begin, pairs=pairs, target_pairs=self.target
                    )
                )

    def summary(self) -> dict[str, Any]:
        """The ``sla`` block of a tenant in ``summary.json``."""
        return {
            "windows": self.windows,
            "met": self.met,
            "ratio": self.met / self.windows if self.windows else None,
            "predicted_probability": self.predicted,
            "window_s": self.window_s,
            "target_pairs": self.target,
        }


class ServiceLedger:
    """Tenants' arrivals, departures and SLA windows, from the event stream."""

    def __init__(
        self,
        tenants: Iterable[TenantSpec],
        predictions: Mapping[str, float],
        readout: Mapping[str, float] | None = None,
    ) -> None:
        self.added: dict[str, float] = {}
        # the network's fidelity estimates, from what the end nodes measured
        self.estimates = FidelityEstimates(readout or {})
        # faults in force: (kind, target label) -> since (emulated s) and value
        self.faults: dict[tuple[str, str], dict[str, Any]] = {}
        self.removed: dict[str, float] = {}
        self.slices: dict[str, str | None] = {}
        self.slas: dict[str, SlaAccount] = {}
        for tenant in tenants:
            self.track(tenant, predictions.get(tenant.name))

    def track(self, tenant: TenantSpec, predicted: float | None) -> None:
        """Follow a tenant (from the scenario, or admitted live with its prediction)."""
        self.slices[tenant.name] = tenant.slice
        if tenant.sla is None:
            return
        account = SlaAccount(
            tenant.sla.window_s,
            target_pairs(tenant.rate_hz, tenant.sla.window_s),
            tenant.f_min,
            predicted,
        )
        if tenant.at_s <= 0.0 and tenant.until_s is None:
            account.start_s = 0.0  # present from the start (no tenant_added record)
        self.slas[tenant.name] = account

    def observe(self, events: Iterable[Mapping[str, Any]]) -> None:
        """Fold plain records in (any order within a batch)."""
        for plain in events:
            kind = plain.get("event")
            if kind == records.TenantAdded.event:
                self.added[plain["tenant"]] = plain["t_s"]
                account = self.slas.get(plain["tenant"])
                if account is not None and account.start_s is None:
                    account.start_s = plain["t_s"]
            elif kind == records.TenantRemoved.event:
                self.removed[plain["tenant"]] = plain["t_s"]
                if plain["tenant"] in self.slas:
                    self.slas[plain["tenant"]].end_s = plain["t_s"]
            elif kind == records.Fault.event:
                key = (plain["kind"], plain["target"])
                self.faults[key] = {"since_s": plain["t_s"], "value": plain.get("value")}
            elif kind == records.FaultEnded.event:
                self.faults.pop((plain["kind"], plain["target"]), None)
            elif kind == records.Delivered.event:
                self.estimates.observe(plain)
                account = self.slas.get(plain["tenant"])
                if account is not None and plain["fidelity"] >= account.f_min:
                    bisect.insort(account.good_s, plain["t_s"])

    def close_windows(self, reached_s: float) -> list[dict[str, Any]]:
        """Count the windows that ended by ``reached_s``; the violated ones as records."""
        out: list[dict[str, Any]] = []
        for name, account in list(self.slas.items()):  # the API adds
            out.extend(m.to_dict() for m in account.close(name, reached_s))
        return out

    def in_force(self, *targets: str) -> list[dict[str, Any]]:
        """The faults in force on any of ``targets`` (a link ``a~b``, a node, a controller
        site): kind, target, since when (emulated s) and value."""
        return [
            {"kind": kind, "target": target, **state}
            for (kind, target), state in self.faults.items()
            if target in targets
        ]

    def tenant_fields(self, name: str) -> dict[str, Any]:
        """What the service layer adds to a tenant's block of ``summary.json``."""
        fields: dict[str, Any] = {
            "added_at_s": self.added.get(name),
            "removed_at_s": self.removed.get(name),
            "slice": self.slices.get(name),
        }
        if name in self.slas:
            fields["sla"] = self.slas[name].summary()
        return fields


def sla_predicted(plan: Any) -> dict[str, float]:
    """Each SLA tenant's predicted window probability among a plan's decisions."""
    return {d.tenant: d.probability for d in plan.decisions if isinstance(d, records.SlaPredicted)}
