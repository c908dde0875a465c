"""Where controllers run: one per node, one at a central location, or one per domain."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import networkx as nx

from qnemu.errors import ScenarioError


@dataclass(frozen=True)
class ControllerSite:
    """One controller instance: its name (a metric label), its node, the nodes it serves."""

    name: str
    location: str
    served: frozenset[str]


def graph_center(graph: nx.Graph) -> str:
    """The node of least eccentricity by fiber length (ties: first by name)."""
    return min(nx.center(graph, weight="length_km"))


def domains_of(
    graph: nx.Graph, domains: Mapping[str, tuple[str, ...]] | None, seed: int
) -> dict[str, tuple[str, ...]]:
    """The scenario's domains, or Louvain communities of the graph (seeded)."""
    if domains is not None:
        return {name: tuple(members) for name, members in domains.items()}
    communities = nx.community.louvain_communities(graph, weight=None, seed=seed)
    ordered = sorted((sorted(c) for c in communities), key=lambda c: c[0])
    return {f"domain-{i}": tuple(members) for i, members in enumerate(ordered)}


def controller_sites(
    graph: nx.Graph,
    placement: str,
    location: str | None,
    domains: Mapping[str, tuple[str, ...]] | None,
    seed: int,
    label: str,
) -> list[ControllerSite]:
    """The controller instances a placement needs for this graph."""
    if placement == "node":
        return [ControllerSite(f"{label}@{n}", n, frozenset([n])) for n in sorted(graph.nodes)]
    if placement == "central":
        where = location or graph_center(graph)
        if where not in graph:
            raise ScenarioError(f"control.location: unknown node {where!r}")
        return [ControllerSite(label, where, frozenset(graph.nodes))]
    if placement == "domain":
        sites = []
        for name, members in domains_of(graph, domains, seed).items():
            sub = graph.subgraph(members)
            if nx.is_connected(sub):
                where = graph_center(sub)
            else:  # a scattered domain: its controller sits at its most central member
                where = min(
                    members,
                    key=lambda n: (
                        sum(
                            nx.single_source_dijkstra_path_length(graph, n, weight="length_km")[m]
                            for m in members
                        ),
                        n,
                    ),
                )
            sites.append(ControllerSite(f"{label}:{name}", where, frozenset(members)))
        return sites
    raise ScenarioError(f"control placement: unknown {placement!r}")
