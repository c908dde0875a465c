"""Routing: Q-NUM (non-additive, utility-maximizing) or the additive Dijkstra baseline.

Both return a :class:`~qnemu.planning.choice.Choice`, so a controller switches by
``control.routing`` alone. ``qnum`` scores the k shortest simple paths (cached per model)
by predicted (R, F) under 0..2 purification rounds and keeps the best utility.
``dijkstra`` (alias ``additive``) takes the single path of least additive cost (fiber
length, -ln(eta) or hops) and only then picks the purification depth on it by the same
utility, so a comparison isolates the path metric.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import networkx as nx

from qnemu.apps.quality import APPS, AppRegistry
from qnemu.control import registry
from qnemu.planning.choice import Choice, choose
from qnemu.planning.model import NetworkModel
from qnemu.planning.paths import _check_ends, _check_k, candidate_paths
from qnemu.planning.prediction import (
    MAX_ROUNDS,
    Prediction,
    _check_method,
    _check_rounds,
    predict_rounds,
)
from qnemu.scenario import TenantSpec

#: Routing names accepted by :func:`route` (``control.routing``).
ROUTINGS = registry.ROUTINGS
#: Edge costs the additive baseline can minimize.
ADDITIVE_COSTS = ("length_km", "neg_log_eta", "hops")


def check_routing(name: str) -> str:
    """``name`` if it is a routing known here; ValueError listing the valid ones otherwise."""
    problem = registry.check_routing(name)
    if problem:
        raise ValueError(f"control.routing: {problem}")
    return name


def _candidates(
    model: NetworkModel,
    paths: list[tuple[str, ...]],
    max_rounds: int,
    method: str,
    shares: Mapping[tuple[str, str], float] | None,
) -> Iterator[tuple[tuple[str, ...], list[Prediction]]]:
    for path in paths:
        links, nodes = model.path_inputs(path, shares)
        yield path, predict_rounds(links, nodes, max_rounds, method)


def qnum_route(
    model: NetworkModel,
    tenant: TenantSpec,
    k: int = 4,
    max_rounds: int = MAX_ROUNDS,
    method: str = "dejmps",
    registry: AppRegistry = APPS,
) -> Choice:
    """Best (path, rounds) over the ``k`` shortest simple paths by fiber length."""
    paths = candidate_paths(
        model.graph, tenant.src, tenant.dst, _check_k(k), "length_km", model.paths
    )
    return choose(tenant, _candidates(model, paths, max_rounds, method, None), registry, "qnum")


def additive_path(model: NetworkModel, src: str, dst: str, cost: str = "length_km") -> tuple:
    """The path of least additive ``cost`` (Dijkstra)."""
    if cost not in ADDITIVE_COSTS:
        valid = ", ".join(ADDITIVE_COSTS)
        raise ValueError(f"additive_cost: unknown cost {cost!r} (valid: {valid})")
    _check_ends(model.graph, src, dst)
    return tuple(nx.dijkstra_path(model.graph, src, dst, weight=cost))


def additive_route(
    model: NetworkModel,
    tenant: TenantSpec,
    cost: str = "length_km",
    max_rounds: int = MAX_ROUNDS,
    method: str = "dejmps",
    registry: AppRegistry = APPS,
) -> Choice:
    """The Dijkstra path by ``cost``, with the purification depth that suits the tenant."""
    path = additive_path(model, tenant.src, tenant.dst, cost)
    return depth_on_path(model, tenant, path, max_rounds, method, registry, "dijkstra")


def depth_on_path(
    model: NetworkModel,
    tenant: TenantSpec,
    path: tuple[str, ...],
    max_rounds: int = MAX_ROUNDS,
    method: str = "dejmps",
    registry: AppRegistry = APPS,
    routing: str = "given",
) -> Choice:
    """On a path already chosen (the Dijkstra one, a live tenant's), the purification
    depth (0..``max_rounds``) whose predicted (R, F) gives the tenant the most utility."""
    return choose(
        tenant, _candidates(model, [tuple(path)], max_rounds, method, None), registry, routing
    )


def route(
    model: NetworkModel,
    tenant: TenantSpec,
    routing: str = "qnum",
    k: int = 4,
    max_rounds: int = MAX_ROUNDS,
    method: str = "dejmps",
    additive_cost: str = "length_km",
    registry: AppRegistry = APPS,
) -> Choice:
    """One routing decision for ``tenant`` under ``routing`` (see :data:`ROUTINGS`)."""
    check_routing(routing)
    _check_rounds(max_rounds)
    _check_method(method)
    if routing == "qnum":
        return qnum_route(model, tenant, k, max_rounds, method, registry)
    return additive_route(model, tenant, additive_cost, max_rounds, method, registry)
