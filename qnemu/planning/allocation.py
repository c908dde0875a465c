"""Allocation: which path, purification depth, memory modes and share of each link every
tenant gets.

Steps, in tenant (admission) order, all deterministic:

1. Route each tenant on the unloaded network (``routing.route``).
2. Split each link among the tenants crossing it under a sharing model:
   ``exclusive`` (the first tenant holds the link, later ones get nothing),
   ``weighted_fair`` (shares proportional to weights, default each tenant's requested
   rate), ``first_come`` (in order, each takes the fraction it needs to meet its requested
   rate, need = min(1, rate_hz / R_unloaded); what is left goes to the first tenant).
   A share s of a link is a time-division share of its attempts: the tenant sees the link's
   rate times s, so it waits longer and its pairs decohere more (Q-NUM predicts both).
3. With its path fixed, each tenant takes the purification depth that maximizes its utility
   under its shares among the depths whose memory it can still reserve: per pipeline one
   mode per side at interior nodes (2) and rounds + 1 at each end (end-to-end purification
   keeps the pairs waiting there).

Attempt quota of a tenant on a link: share * slot pairs / attempt period (attempts per s).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from qnemu.apps.quality import APPS, AppRegistry
from qnemu.planning.choice import Choice, tenant_utility
from qnemu.planning.model import NetworkModel
from qnemu.planning.paths import link_key
from qnemu.planning.prediction import MAX_ROUNDS, NO_DELIVERY, Prediction, predict_rounds
from qnemu.planning.routing import route
from qnemu.scenario import TenantSpec

#: Sharing models for a link crossed by several tenants.
SHARING_MODELS = ("exclusive", "weighted_fair", "first_come")

LinkKey = tuple[str, str]


def check_sharing(name: str) -> str:
    """``name`` if it is a sharing model; ValueError listing the valid ones otherwise."""
    if name not in SHARING_MODELS:
        raise ValueError(
            f"sharing: unknown sharing model {name!r} (valid: {', '.join(SHARING_MODELS)})"
        )
    return name


@dataclass(frozen=True)
class TenantAllocation:
    """One tenant's allocation and its predicted delivery under it; ``note`` says why a
    tenant gets nothing (utility 0)."""

    tenant: TenantSpec
    path: tuple[str, ...]
    rounds: int
    shares: Mapping[LinkKey, float]
    memory: Mapping[str, int]
    attempt_quota_hz: Mapping[LinkKey, float]
    prediction: Prediction
    utility: float
    note: str = ""

    def __str__(self) -> str:
        return (
            f"{self.tenant.name}: {'-'.join(self.path)} {self.prediction} "
            f"U={self.utility:.4g}" + (f" ({self.note})" if self.note else "")
        )


@dataclass(frozen=True)
class Allocation:
    """Every tenant's allocation under one sharing model."""

    sharing: str
    tenants: Mapping[str, TenantAllocation] = field(default_factory=dict)

    @property
    def total_utility(self) -> float:
        """Sum of the tenants' utilities."""
        return sum(t.utility for t in self.tenants.values())

    def utilities(self) -> dict[str, float]:
        """Utility per tenant name."""
        return {name: t.utility for name, t in self.tenants.items()}


def memory_demand(path: Sequence[str], rounds: int) -> dict[str, int]:
    """Memory modes one pipeline of a tenant holds per node (ends: rounds + 1, else 2)."""
    demand = {node: 2 for node in path[1:-1]}
    demand[path[0]] = demand[path[-1]] = rounds + 1
    return demand


def link_shares(
    users: Mapping[LinkKey, Sequence[str]],
    sharing: str,
    needs: Mapping[str, float],
    weights: Mapping[str, float],
) -> dict[tuple[str, LinkKey], float]:
    """Share of each (tenant, link) under ``sharing``; ``users`` lists a link's tenants in
    admission order, ``needs`` the fraction each needs, ``weights`` the fair-share weights."""
    check_sharing(sharing)
    shares: dict[tuple[str, LinkKey], float] = {}
    for link, names in users.items():
        if sharing == "exclusive":
            for i, name in enumerate(names):
                shares[name, link] = 1.0 if i == 0 else 0.0
        elif sharing == "weighted_fair":
            total = sum(weights[n] for n in names)
            for name in names:
                shares[name, link] = weights[name] / total
        else:
            left = 1.0
            for name in names:
                shares[name, link] = min(needs[name], left)
                left -= shares[name, link]
            shares[names[0], link] += left
    return shares


def _paths_links(path: Sequence[str]) -> list[LinkKey]:
    return [link_key(u, v) for u, v in itertools.pairwise(path)]


def _fits(demand: Mapping[str, int], used: Mapping[str, int], model: NetworkModel) -> str:
    for node, modes in demand.items():
        cap = model.nodes[node].memories
        if cap is not None and used.get(node, 0) + modes > cap:
            return (
                f"memory: node {node} has {cap} modes, {used.get(node, 0)} reserved, needs {modes}"
            )
    return ""


def _settle(
    model: NetworkModel,
    choice: Choice,
    tenant: TenantSpec,
    shares: dict[LinkKey, float],
    used: dict[str, int],
    max_rounds: int,
    method: str,
    registry: AppRegistry,
) -> TenantAllocation:
    """Pick the best depth under ``shares`` that fits the memory left; reserve it."""
    path = choice.path
    starved = [f"{a}~{b}" for (a, b), s in shares.items() if s == 0.0]
    if starved:
        preds = [Prediction(0.0, 0.0, k) for k in range(max_rounds + 1)]
    else:
        links, nodes = model.path_inputs(path, shares)
        preds = predict_rounds(links, nodes, max_rounds, method)
    best: tuple[float, Prediction] | None = None
    why = ""
    for pred in preds:
        why = _fits(memory_demand(path, pred.rounds), used, model)
        if why:
            continue
        u = tenant_utility(tenant, pred, registry)
        if best is None or u > best[0] * (1.0 + 1e-12) + 1e-300:
            best = (u, pred)
    quota = {
        key: s * model.links[key].modes / model.links[key].period_s for key, s in shares.items()
    }
    if best is None:
        return TenantAllocation(tenant, path, 0, shares, {}, quota, NO_DELIVERY, 0.0, why)
    u, pred = best
    demand = memory_demand(path, pred.rounds)
    for node, modes in demand.items():
        used[node] = used.get(node, 0) + modes
    if starved:
        note = f"no share of link {', '.join(starved)}"
    elif u > 0.0:
        note = ""
    elif pred.fidelity < tenant.f_min:
        note = f"predicted F {pred.fidelity:.4f} < f_min {tenant.f_min:g}"
    else:
        note = f"quality 0 at predicted F {pred.fidelity:.4f}"
    return TenantAllocation(tenant, path, pred.rounds, shares, demand, quota, pred, u, note)


def allocate(
    model: NetworkModel,
    tenants: Sequence[TenantSpec],
    sharing: str = "weighted_fair",
    routing: str = "qnum",
    k: int = 4,
    weights: Mapping[str, float] | None = None,
    max_rounds: int = MAX_ROUNDS,
    method: str = "dejmps",
    registry: AppRegistry = APPS,
) -> Allocation:
    """Allocate ``tenants`` (in admission order) on ``model``; see the module notes."""
    check_sharing(sharing)
    names = [t.name for t in tenants]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ValueError(f"tenants: duplicate tenant name {dup!r}")
    choices = {
        t.name: route(model, t, routing, k, max_rounds, method, registry=registry) for t in tenants
    }
    users: dict[LinkKey, list[str]] = {}
    for t in tenants:
        for key in _paths_links(choices[t.name].path):
            users.setdefault(key, []).append(t.name)
    needs = {t.name: _need(t, choices[t.name]) for t in tenants}
    w = {t.name: float(t.rate_hz) for t in tenants} if weights is None else dict(weights)
    missing = [n for n in names if not (w.get(n, 0.0) > 0.0)]
    if missing:
        raise ValueError(f"weights: need a weight > 0 for every tenant, missing {missing}")
    shares = link_shares(users, sharing, needs, w)
    used: dict[str, int] = {}
    out = {}
    for t in tenants:
        mine = {key: shares[t.name, key] for key in _paths_links(choices[t.name].path)}
        out[t.name] = _settle(model, choices[t.name], t, mine, used, max_rounds, method, registry)
    return Allocation(sharing, out)


def _need(tenant: TenantSpec, choice: Choice) -> float:
    """Fraction of its path's links a tenant needs to meet its requested rate."""
    rate = choice.prediction.rate_hz
    return 1.0 if rate <= 0.0 else min(1.0, tenant.rate_hz / rate)
