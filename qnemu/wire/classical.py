"""The emulated classical network's delay model: per-hop fiber propagation plus
processing, Gaussian jitter never faster than light, and loss."""

from __future__ import annotations

import math
from typing import Any

import networkx as nx
import numpy as np

from qnemu.physics.fiber import propagation_delay_s


class ClassicalNetwork:
    """The emulated classical network: per-hop fiber propagation plus processing, and jitter.

    Classical messages follow the fiber topology along the path of least delay; each hop
    costs propagation (L / (c/n)) plus ``processing_s``. Jitter is Gaussian with standard
    deviation ``jitter_s`` per message, truncated so that a message is never faster than
    its propagation; ``loss`` is the probability a message is lost.
    """

    def __init__(
        self,
        graph: nx.Graph,
        processing_s: float = 1e-5,
        jitter_s: float = 0.0,
        loss: float = 0.0,
    ) -> None:
        self.processing_s = processing_s
        self.jitter_s = jitter_s
        self.loss = loss
        self._graph = graph
        self._whole = graph  # before any link is avoided
        self.avoided: frozenset[frozenset[str]] = frozenset()
        self._routes: dict[str, dict[str, list[str]]] = {}
        # one Dijkstra per source, when that source first sends: a node talks to few
        # others, and all pairs of a 10,000-node network would not fit in memory
        self._delay: dict[str, dict[str, float]] = {}

    def _hop_delay_s(self, u: str, v: str, data: dict[str, Any]) -> float:
        return propagation_delay_s(data["length_km"]) + self.processing_s

    def _row(self, src: str) -> dict[str, float]:
        row = self._delay.get(src)
        if row is None:
            row = self._delay[src] = nx.single_source_dijkstra_path_length(
                self._graph, src, weight=self._hop_delay_s
            )
        return row

    def delay_s(self, src: str, dst: str) -> float:
        """Mean one-way delay between two nodes in emulated seconds (0 to oneself; inf
        when every route is avoided)."""
        return self._row(src).get(dst, math.inf)

    def view(self) -> ClassicalNetwork:
        """A copy with its own routing (one node's view, which it changes as it learns
        links are down); the fiber graph is shared."""
        return ClassicalNetwork(self._whole, self.processing_s, self.jitter_s, self.loss)

    def avoid(self, links: frozenset[frozenset[str]]) -> None:
        """Route around ``links`` (each a pair of node names) from now on."""
        if links == self.avoided:
            return
        self.avoided = links
        cut = [tuple(link) for link in links]
        self._graph = nx.restricted_view(self._whole, [], cut) if cut else self._whole
        self._delay.clear()
        self._routes.clear()

    def route(self, src: str, dst: str) -> list[str] | None:
        """The nodes a message from ``src`` to ``dst`` passes (both ends included), or
        None when no route is left."""
        row = self._routes.get(src)
        if row is None:
            row = self._routes[src] = nx.single_source_dijkstra_path(
                self._graph, src, weight=self._hop_delay_s
            )
        return row.get(dst)

    def sample_delay_s(self, rng: np.random.Generator, src: str, dst: str) -> float | None:
        """A delay drawn for one message, or None when the message is lost."""
        if self.loss > 0.0 and src != dst and rng.random() < self.loss:
            return None  # a node's message to itself never touches the network
        delay = self._row(src).get(dst)
        if delay is None:
            return None  # no route left in this view
        if self.jitter_s > 0.0 and src != dst:
            delay = max(delay - self.processing_s, delay + rng.normal(0.0, self.jitter_s))
        return delay

    def shortest_hop_delay_s(self) -> float:
        """The smallest delay between two distinct nodes: the emulation's finest time scale."""
        return min(
            (
                self._hop_delay_s(u, v, data)
                for u, v, data in self._graph.edges(data=True)
                if u != v
            ),
            default=math.inf,
        )
