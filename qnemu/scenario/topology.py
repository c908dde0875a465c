"""Topology builders: plain networkx graphs of named nodes and fiber lengths.

Every builder returns an undirected :class:`networkx.Graph` whose nodes are strings
(``n0``, ``n1``, ... for generated graphs) and whose edges carry ``length_km``. Nodes may
carry ``x``/``y`` positions in km (for drawing; geometric generators derive the lengths
from them) and, from a file, ``hardware``/``memories``. The scenario layer turns the graph
into frozen specs; nothing here knows about hardware profiles or Ray.

Builders raise ``ValueError`` with a one-line reason; the scenario layer adds the path.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np

__all__ = [
    "GENERATORS",
    "GENERATOR_PARAMS",
    "MAX_CONNECT_TRIES",
    "MAX_LINKS",
    "MAX_NODES",
    "chain",
    "generate",
    "grid",
    "random_geometric",
    "read_graph_file",
    "ring",
    "star",
    "waxman",
]

#: How many seeds a random generator tries before giving up on a connected graph.
MAX_CONNECT_TRIES = 100
#: Most nodes a topology may have (generated, explicit or read from a file).
MAX_NODES = 10_000
#: Most links a topology may have (a dense random graph or a file).
MAX_LINKS = 200_000


def _named(n: int) -> list[str]:
    return [f"n{i}" for i in range(n)]


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


def _require_size(nodes: int, what: str) -> None:
    """ValueError when ``what`` would have more than :data:`MAX_NODES` nodes."""
    _require(
        nodes <= MAX_NODES, f"{what} has {nodes} nodes, above the bound of {MAX_NODES} (MAX_NODES)"
    )


def chain(n: int, hop_km: float) -> nx.Graph:
    """A line n0 - n1 - ... - n{n-1}, every hop ``hop_km`` long, laid out along x."""
    _require(n >= 2, f"chain needs n >= 2, got {n}")
    _require_size(n, "chain")
    _require(hop_km > 0, f"hop_km must be > 0, got {hop_km}")
    g = nx.Graph()
    for i, name in enumerate(_named(n)):
        g.add_node(name, x=i * hop_km, y=0.0)
    nx.add_path(g, _named(n), length_km=hop_km)
    return g


def ring(n: int, hop_km: float) -> nx.Graph:
    """A cycle of ``n`` nodes, every hop ``hop_km`` long, laid out on a circle."""
    _require(n >= 3, f"ring needs n >= 3, got {n}")
    _require_size(n, "ring")
    _require(hop_km > 0, f"hop_km must be > 0, got {hop_km}")
    radius = n * hop_km / (2 * math.pi)  # circumference = total fiber, for the drawing only
    g = nx.Graph()
    for i, name in enumerate(_named(n)):
        angle = 2 * math.pi * i / n
        g.add_node(name, x=radius * math.cos(angle), y=radius * math.sin(angle))
    nx.add_cycle(g, _named(n), length_km=hop_km)
    return g


def grid(rows: int, cols: int, hop_km: float) -> nx.Graph:
    """A ``rows`` x ``cols`` lattice; node ``n{r*cols + c}`` sits at (c, r) * hop_km."""
    _require(
        rows >= 1 and cols >= 1 and rows * cols >= 2,
        f"grid needs rows, cols >= 1 and at least 2 nodes, got {rows}x{cols}",
    )
    _require(hop_km > 0, f"hop_km must be > 0, got {hop_km}")
    _require_size(rows * cols, f"grid {rows}x{cols}")
    lattice = nx.grid_2d_graph(rows, cols)
    g = nx.Graph()
    for r, c in sorted(lattice.nodes):
        g.add_node(f"n{r * cols + c}", x=c * hop_km, y=r * hop_km)
    for (r1, c1), (r2, c2) in lattice.edges:
        g.add_edge(f"n{r1 * cols + c1}", f"n{r2 * cols + c2}", length_km=hop_km)
    return g


def star(n: int, hop_km: float) -> nx.Graph:
    """A hub ``n0`` with ``n`` leaves ``n1..n{n}``, each ``hop_km`` from the hub."""
    _require(n >= 1, f"star needs n >= 1 leaves, got {n}")
    _require_size(n + 1, "star")
    _require(hop_km > 0, f"hop_km must be > 0, got {hop_km}")
    g = nx.Graph()
    g.add_node("n0", x=0.0, y=0.0)
    for i in range(1, n + 1):
        angle = 2 * math.pi * (i - 1) / n
        g.add_node(f"n{i}", x=hop_km * math.cos(angle), y=hop_km * math.sin(angle))
        g.add_edge("n0", f"n{i}", length_km=hop_km)
    return g


def _attempt_seeds(seed: int) -> list[int]:
    """Independent integer seeds for successive tries, all derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(MAX_CONNECT_TRIES)
    return [int(child.generate_state(1)[0]) for child in children]


def _from_positions(g: nx.Graph, pos: Mapping[Any, Any], scale_km: float) -> nx.Graph:
    """Rename nodes to n<i>, scale positions to km and set each edge's length from them."""
    out = nx.Graph()
    for node in sorted(g.nodes):
        x, y = (float(v) * scale_km for v in pos[node])
        out.add_node(f"n{node}", x=x, y=y)
    for u, v in g.edges:
        a, b = out.nodes[f"n{u}"], out.nodes[f"n{v}"]
        out.add_edge(f"n{u}", f"n{v}", length_km=math.hypot(a["x"] - b["x"], a["y"] - b["y"]))
    return out


def _connected(build: Callable[[int], nx.Graph], seed: int, what: str) -> nx.Graph:
    for attempt_seed in _attempt_seeds(seed):
        g = build(attempt_seed)
        # A zero-length edge (coincident points) is not a fiber: treat like a failed draw.
        lengths_ok = all(d["length_km"] > 0 for _, _, d in g.edges(data=True))
        if nx.is_connected(g) and lengths_ok:
            return g
    raise ValueError(
        f"{what} gave no connected graph in {MAX_CONNECT_TRIES} tries "
        f"from seed {seed}; make it denser"
    )


def random_geometric(n: int, radius: float, area_km: float, seed: int) -> nx.Graph:
    """``n`` nodes uniform in an ``area_km`` square, linked when closer than ``radius`` km.

    Retries with seeds spawned from ``seed`` until the graph is connected.
    """
    _require(n >= 2, f"random_geometric needs n >= 2, got {n}")
    _require(
        radius > 0 and area_km > 0, f"radius and area_km must be > 0, got {radius} and {area_km}"
    )
    _require_size(n, "random_geometric")
    expected = n * (n - 1) / 2 * min(1.0, math.pi * (radius / area_km) ** 2)
    _require(
        expected <= MAX_LINKS,
        f"random_geometric would have about {expected:.3g} links, "
        f"above the bound of {MAX_LINKS} (MAX_LINKS)",
    )

    def build(s: int) -> nx.Graph:
        g = nx.random_geometric_graph(n, radius / area_km, seed=s)
        return _from_positions(g, nx.get_node_attributes(g, "pos"), area_km)

    return _connected(build, seed, f"random_geometric(n={n}, radius={radius}, area_km={area_km})")


def waxman(n: int, alpha: float, beta: float, area_km: float, seed: int) -> nx.Graph:
    """Waxman graph in an ``area_km`` square: P(edge) = beta * exp(-d / (alpha * L)).

    ``L`` is the largest distance between two nodes (networkx's convention). Retries with
    seeds spawned from ``seed`` until the graph is connected.
    """
    _require(n >= 2, f"waxman needs n >= 2, got {n}")
    _require_size(n, "waxman")
    _require(
        0 < alpha <= 1 and 0 < beta <= 1,
        f"alpha and beta must be in (0, 1], got {alpha} and {beta}",
    )
    _require(area_km > 0, f"area_km must be > 0, got {area_km}")

    def build(s: int) -> nx.Graph:
        g = nx.waxman_graph(n, beta=beta, alpha=alpha, seed=s)
        return _from_positions(g, nx.get_node_attributes(g, "pos"), area_km)

    return _connected(build, seed, f"waxman(n={n}, alpha={alpha}, beta={beta})")


_READERS: dict[str, Callable[[str], nx.Graph]] = {
    ".graphml": nx.read_graphml,
    ".gml": nx.read_gml,
}


def read_graph_file(path: str | Path) -> nx.Graph:
    """Read a GraphML or GML file; every edge needs a positive ``length_km``.

    Node ids become strings; node attributes ``hardware``, ``memories``, ``machine``, ``x``,
    ``y`` are kept when present (others are dropped), edge attribute
    ``attenuation_db_per_km`` is kept when present.
    """
    path = Path(path)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(f"unsupported file type '{path.suffix}' (valid: {', '.join(_READERS)})")
    _require(path.is_file(), f"file not found: {path}")
    try:
        raw = reader(str(path))
    except Exception as exc:  # networkx raises many types for a malformed file
        raise ValueError(f"cannot read {path}: {exc}") from exc
    return _normalise_file_graph(nx.Graph(raw), path)


_NODE_ATTRS = ("hardware", "memories", "machine", "x", "y")


def _normalise_file_graph(raw: nx.Graph, path: Path) -> nx.Graph:
    g = nx.Graph()
    for node, data in raw.nodes(data=True):
        g.add_node(str(node), **{k: data[k] for k in _NODE_ATTRS if k in data})
    missing = []
    for u, v, data in raw.edges(data=True):
        length = data.get("length_km")
        if not isinstance(length, (int, float)) or isinstance(length, bool) or length <= 0:
            missing.append(f"{u}-{v}")
            continue
        attrs = {"length_km": float(length)}
        if "attenuation_db_per_km" in data:
            attrs["attenuation_db_per_km"] = float(data["attenuation_db_per_km"])
        g.add_edge(str(u), str(v), **attrs)
    _require(
        not missing,
        f"{path.name}: edges without a positive numeric length_km: {', '.join(missing)}",
    )
    _require(g.number_of_nodes() >= 1, f"{path.name}: the graph has no nodes")
    _require_size(g.number_of_nodes(), path.name)
    _require(
        g.number_of_edges() <= MAX_LINKS,
        f"{path.name} has {g.number_of_edges()} links, above the bound of {MAX_LINKS} (MAX_LINKS)",
    )
    return g


def explicit_topology(graph: nx.Graph) -> dict[str, Any]:
    """A networkx graph as the scenario's explicit ``topology`` section (``nodes`` and
    ``links``): node attributes ``hardware``, ``memories``, ``machine``, ``x``, ``y`` and edge
    attributes ``length_km``, ``attenuation_db_per_km`` are kept, others dropped, ids made
    strings; validation then checks them like any YAML topology."""
    nodes = [
        {"id": str(node), **{k: data[k] for k in _NODE_ATTRS if k in data}}
        for node, data in graph.nodes(data=True)
    ]
    links = [
        {
            "a": str(u),
            "b": str(v),
            **{k: data[k] for k in ("length_km", "attenuation_db_per_km") if k in data},
        }
        for u, v, data in graph.edges(data=True)
    ]
    return {"nodes": nodes, "links": links}


#: Each generator's YAML parameters (all required), besides the common hardware/memories.
GENERATOR_PARAMS: dict[str, tuple[str, ...]] = {
    "chain": ("n", "hop_km"),
    "ring": ("n", "hop_km"),
    "grid": ("rows", "cols", "hop_km"),
    "star": ("n", "hop_km"),
    "random_geometric": ("n", "radius", "area_km"),
    "waxman": ("n", "alpha", "beta", "area_km"),
    "file": ("file",),
}

GENERATORS: dict[str, Callable[..., nx.Graph]] = {
    "chain": chain,
    "ring": ring,
    "grid": grid,
    "star": star,
    "random_geometric": random_geometric,
    "waxman": waxman,
    "file": read_graph_file,
}

_SEEDED = frozenset({"random_geometric", "waxman"})


def generate(name: str, params: Mapping[str, Any], seed: int = 0) -> nx.Graph:
    """Build the graph of generator ``name`` from its YAML parameters.

    Raises ``ValueError`` for an unknown generator, a missing parameter or a graph that
    cannot be built.
    """
    if name not in GENERATORS:
        raise ValueError(f"unknown generator '{name}' (valid: {', '.join(GENERATORS)})")
    missing = [p for p in GENERATOR_PARAMS[name] if params.get(p) is None]
    _require(not missing, f"generator '{name}' needs {', '.join(missing)}")
    kwargs = {p: params[p] for p in GENERATOR_PARAMS[name]}
    if name in _SEEDED:
        kwargs["seed"] = seed
    if name == "file":
        return read_graph_file(kwargs["file"])
    return GENERATORS[name](**kwargs)
