"""Candidate paths between two nodes: the k shortest simple paths by a link metric,
cached per network (a topology change is a new cache or ``refresh()``)."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import TYPE_CHECKING

import networkx as nx

if TYPE_CHECKING:
    pass

# ----------------------------------------------------------------------- network model


def link_key(u: str, v: str) -> tuple[str, str]:
    """The key of the link u-v in the model's mappings: its ends in sorted order."""
    return (u, v) if u <= v else (v, u)


class PathCache:
    """k-shortest simple paths per (src, dst), computed lazily and kept until the topology
    changes. A change in the node or edge count is noticed; call :meth:`refresh` after any
    other change (an edge swapped for another, a weight changed)."""

    def __init__(self, graph: nx.Graph, weight: str | None = "length_km") -> None:
        self.graph = graph
        self.weight = weight
        self._paths: dict[tuple[str, str], tuple[list[tuple[str, ...]], Iterable | None]] = {}
        self._signature = self._sign(graph)
        self.misses = 0

    @staticmethod
    def _sign(graph: nx.Graph) -> tuple[int, int]:
        return graph.number_of_nodes(), graph.number_of_edges()

    def refresh(self, graph: nx.Graph | None = None) -> None:
        """Forget every cached path (and adopt ``graph`` if given)."""
        if graph is not None:
            self.graph = graph
        self._paths.clear()
        self._signature = self._sign(self.graph)

    def paths(self, src: str, dst: str, k: int) -> list[tuple[str, ...]]:
        """Up to ``k`` loop-free paths from ``src`` to ``dst``, shortest first."""
        if self._sign(self.graph) != self._signature:
            self.refresh()
        found, gen = self._paths.get((src, dst), ([], None))
        if len(found) < k and (gen is not None or not found):
            if gen is None:
                self.misses += 1
                gen = nx.shortest_simple_paths(self.graph, src, dst, weight=self.weight)
            for path in itertools.islice(gen, k - len(found)):
                found.append(tuple(path))
            if len(found) < k:
                gen = None  # exhausted
            self._paths[(src, dst)] = (found, gen)
        return found[:k]


def _check_k(k: int) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k_paths: must be an integer >= 1, got {k!r}")
    return k


def _check_ends(graph: nx.Graph, src: str, dst: str) -> None:
    for name, node in (("src", src), ("dst", dst)):
        if node not in graph:
            nodes = sorted(map(str, graph.nodes))
            shown = ", ".join(nodes[:12]) + (
                f", ... ({len(nodes)} in all)" if len(nodes) > 12 else ""
            )
            raise ValueError(f"{name}: unknown node {node!r} (nodes: {shown})")
    if src == dst:
        raise ValueError(f"dst: same as src, got {dst!r}")
    if not nx.has_path(graph, src, dst):
        raise ValueError(f"dst: {dst!r} is not reachable from {src!r}")


def candidate_paths(
    graph: nx.Graph,
    src: str,
    dst: str,
    k: int,
    weight: str | None = "length_km",
    cache: PathCache | None = None,
) -> list[tuple[str, ...]]:
    """Up to ``k`` candidate paths by ``networkx.shortest_simple_paths`` (Yen), shortest by
    ``weight`` first; ``cache`` (for this graph) keeps them between decisions."""
    _check_k(k)
    if cache is not None and cache.graph is graph and cache.weight == weight:
        try:
            return cache.paths(src, dst, k)
        except (nx.NodeNotFound, nx.NetworkXNoPath):
            pass  # fall through to the precise error below
    _check_ends(graph, src, dst)
    if cache is not None:
        cache.refresh(graph)
        cache.weight = weight
        return cache.paths(src, dst, k)
    gen = nx.shortest_simple_paths(graph, src, dst, weight=weight)
    return [tuple(p) for p in itertools.islice(gen, k)]
