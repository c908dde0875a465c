"""The routing decision: the (path, purification rounds) that maximizes a tenant's
utility U = min(R, requested) q(F)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from qnemu.apps.quality import APPS, AppRegistry, utility
from qnemu.planning.prediction import Prediction
from qnemu.scenario import TenantSpec

if TYPE_CHECKING:
    pass

# ------------------------------------------------------------------------------ choice


@dataclass(frozen=True)
class Choice:
    """A routing decision: ``path``, purification ``rounds``, its prediction and utility."""

    tenant: str
    path: tuple[str, ...]
    rounds: int
    prediction: Prediction
    utility: float
    routing: str = "qnum"

    def __str__(self) -> str:
        return (
            f"{self.tenant}: {'-'.join(self.path)} {self.prediction} "
            f"U={self.utility:.4g} ({self.routing})"
        )


def tenant_utility(
    tenant: TenantSpec, prediction: Prediction, registry: AppRegistry = APPS
) -> float:
    """U = min(R, requested rate) q(F): a tenant gains nothing from pairs it did not ask for."""
    rate = min(prediction.rate_hz, tenant.rate_hz)
    return utility(
        tenant.app, rate, min(1.0, max(0.0, prediction.fidelity)), tenant.f_min, registry
    )


def choose(
    tenant: TenantSpec,
    candidates: Iterable[tuple[Sequence[str], Sequence[Prediction]]],
    registry: AppRegistry = APPS,
    routing: str = "qnum",
) -> Choice:
    """The (path, rounds) that maximizes the tenant's utility.

    ``candidates``: (path, predictions by rounds) pairs, best-first by the caller's order.
    Ties go to the earlier path, then to fewer rounds.
    """
    best: Choice | None = None
    for path, predictions in candidates:
        for pred in predictions:
            u = tenant_utility(tenant, pred, registry)
            if best is None or u > best.utility * (1.0 + 1e-12) + 1e-300:
                best = Choice(tenant.name, tuple(path), pred.rounds, pred, u, routing)
    if best is None:
        raise ValueError(f"candidates: no candidate path for tenant {tenant.name!r}")
    return best
