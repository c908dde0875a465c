"""Routes on what is left of the network: Q-NUM on the plan's links minus those known down.

The routing controller (central, hierarchical root, or a distributed source node) calls
this with the link states *it* knows; it never reads which links are truly down. Only the
plan's links are candidates (a re-route cannot use a link no memory was set aside for:
with recovery on, the plan already sets aside memories on each tenant's ``k_paths``
candidate paths).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

import networkx as nx

from qnemu.planning.allocation import allocate
from qnemu.planning.model import NetworkModel
from qnemu.planning.paths import link_key
from qnemu.scenario.spec import TenantSpec


@dataclass(frozen=True)
class Route:
    """A tenant's new path and purification rounds (``path`` None: no path is left)."""

    path: list[str] | None
    rounds: int = 0


def remaining_routes(
    model: NetworkModel,
    planned: Collection[tuple[str, str]],
    down: Collection[frozenset[str]],
    tenants: Sequence[TenantSpec],
    *,
    sharing: str,
    routing: str,
    k_paths: int,
    max_rounds: int,
    method: str,
) -> dict[str, Route]:
    """Each tenant's best route over ``planned`` links (keys as ``link_key`` gives them)
    that are not ``down``, by the same allocation as the initial plan; tenants whose ends
    are no longer connected get ``Route(None)``."""
    keep = {
        key: params
        for key, params in model.links.items()
        if key in planned and frozenset(key) not in down
    }
    remaining = NetworkModel.from_params(keep, model.nodes)
    out = {t.name: Route(None) for t in tenants}
    reachable = [t for t in tenants if nx.has_path(remaining.graph, t.src, t.dst)]
    if not reachable:
        return out
    allocation = allocate(
        remaining,
        reachable,
        sharing,
        routing,
        k_paths,
        max_rounds=max_rounds,
        method=method,
    )
    for name, share in allocation.tenants.items():
        if len(share.path) >= 2:
            out[name] = Route(list(share.path), share.rounds)
    return out


def planned_keys(links: Collection[tuple[str, str]]) -> set[tuple[str, str]]:
    """The model keys of links given as (a, b) ends."""
    return {link_key(a, b) for a, b in links}
