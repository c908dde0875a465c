"""Admission control: admit a tenant only if the network's total utility does not fall.

The network is allocated with and without the candidate (``allocation.allocate``, same
sharing model and routing). The candidate is rejected, with every reason in one string,
when (a) it would itself get no utility, (b) the total utility (sum of U over tenants, with
their shares) would decrease, or (c) with ``protect_floors`` (default), an admitted tenant
served at or above its f_min would be pushed below it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qnemu.apps.quality import APPS, AppRegistry
from qnemu.planning.allocation import Allocation, allocate, check_sharing
from qnemu.planning.model import NetworkModel
from qnemu.planning.prediction import MAX_ROUNDS
from qnemu.planning.routing import check_routing
from qnemu.scenario import TenantSpec

#: Relative tolerance below which a change in total utility counts as "no change".
UTILITY_TOLERANCE = 1e-9


@dataclass(frozen=True)
class AdmissionDecision:
    """Outcome for one candidate: ``admitted``, the ``reason`` and utilities before/after
    (totals and per tenant); ``allocation`` is what is in force after the decision."""

    tenant: str
    admitted: bool
    reason: str
    utility_before: float
    utility_after: float
    per_tenant_before: Mapping[str, float]
    per_tenant_after: Mapping[str, float]
    allocation: Allocation

    def __str__(self) -> str:
        verdict = "admitted" if self.admitted else "rejected"
        return (
            f"{self.tenant} {verdict}: {self.reason} "
            f"(U {self.utility_before:.4g} -> {self.utility_after:.4g})"
        )


def _reasons(
    candidate: TenantSpec, before: Allocation, after: Allocation, protect_floors: bool
) -> list[str]:
    reasons = []
    b, a = before.total_utility, after.total_utility
    if a < b - UTILITY_TOLERANCE * max(1.0, abs(b)):
        reasons.append(f"total utility would fall from {b:.4g} to {a:.4g}")
    if protect_floors:
        for name, old in before.tenants.items():
            new = after.tenants[name]
            floor = old.tenant.f_min
            if old.utility > 0.0 and old.prediction.fidelity >= floor > new.prediction.fidelity:
                reasons.append(
                    f"would push {name} ({old.tenant.app}) below its f_min {floor:g}: "
                    f"F {old.prediction.fidelity:.4f} -> {new.prediction.fidelity:.4f}"
                )
    return reasons


def decide(
    model: NetworkModel,
    admitted: Sequence[TenantSpec],
    candidate: TenantSpec,
    sharing: str = "weighted_fair",
    routing: str = "qnum",
    k: int = 4,
    protect_floors: bool = True,
    weights: Mapping[str, float] | None = None,
    max_rounds: int = MAX_ROUNDS,
    registry: AppRegistry = APPS,
) -> AdmissionDecision:
    """Admit ``candidate`` next to the ``admitted`` tenants, or say why not."""
    if any(t.name == candidate.name for t in admitted):
        raise ValueError(f"tenant.name: {candidate.name!r} is already admitted")

    def alloc(ts: Sequence[TenantSpec]) -> Allocation:
        return allocate(model, ts, sharing, routing, k, weights, max_rounds, registry=registry)

    before = alloc(admitted)
    after = alloc([*admitted, candidate])
    reasons = _reasons(candidate, before, after, protect_floors)
    ok = not reasons
    reason = (
        "; ".join(reasons)
        if reasons
        else f"total utility {before.total_utility:.4g} -> {after.total_utility:.4g}"
    )
    return AdmissionDecision(
        candidate.name,
        ok,
        reason,
        before.total_utility,
        after.total_utility,
        before.utilities(),
        after.utilities(),
        after if ok else before,
    )


@dataclass
class AdmissionControl:
    """Admission state of one controller: the admitted tenants in order, rejections with
    their reasons, and every decision taken."""

    model: NetworkModel
    sharing: str = "weighted_fair"
    routing: str = "qnum"
    k: int = 4
    protect_floors: bool = True
    max_rounds: int = MAX_ROUNDS
    admitted: list[TenantSpec] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)
    decisions: list[AdmissionDecision] = field(default_factory=list)

    def __post_init__(self) -> None:
        check_sharing(self.sharing)
        check_routing(self.routing)

    def request(self, tenant: TenantSpec) -> AdmissionDecision:
        """Decide on ``tenant``; an admitted one joins :attr:`admitted`."""
        d = decide(
            self.model,
            self.admitted,
            tenant,
            self.sharing,
            self.routing,
            self.k,
            self.protect_floors,
            max_rounds=self.max_rounds,
        )
        self.decisions.append(d)
        if d.admitted:
            self.admitted.append(tenant)
            self.rejected.pop(tenant.name, None)
        else:
            self.rejected[tenant.name] = d.reason
        return d

    def release(self, name: str) -> None:
        """Remove admitted tenant ``name`` (ValueError naming the admitted ones if unknown)."""
        for i, t in enumerate(self.admitted):
            if t.name == name:
                del self.admitted[i]
                return
        raise ValueError(
            f"tenant: {name!r} is not admitted "
            f"(admitted: {', '.join(t.name for t in self.admitted)})"
        )

    def allocation(self) -> Allocation:
        """The current allocation of the admitted tenants."""
        return allocate(
            self.model,
            self.admitted,
            self.sharing,
            self.routing,
            self.k,
            max_rounds=self.max_rounds,
        )
