"""Topology builders: node/edge counts, lengths, determinism, connectivity, file loading."""

from __future__ import annotations

import math

import networkx as nx
import pytest

from qnemu.scenario import topology


def _lengths(g: nx.Graph) -> set[float]:
    return {d["length_km"] for _, _, d in g.edges(data=True)}


def test_chain_counts_and_lengths():
    g = topology.chain(5, 10.0)
    assert list(g.nodes) == ["n0", "n1", "n2", "n3", "n4"]
    assert g.number_of_edges() == 4
    assert g.has_edge("n0", "n1") and g.has_edge("n3", "n4")
    assert _lengths(g) == {10.0}


def test_ring_closes_the_cycle():
    g = topology.ring(6, 3.0)
    assert g.number_of_nodes() == 6
    assert g.number_of_edges() == 6
    assert g.has_edge("n5", "n0")
    assert all(d == 2 for _, d in g.degree)
    assert _lengths(g) == {3.0}


def test_grid_counts_and_naming():
    g = topology.grid(3, 4, 2.0)
    assert g.number_of_nodes() == 12
    assert g.number_of_edges() == 3 * 3 + 2 * 4  # horizontal + vertical
    assert g.has_edge("n0", "n1") and g.has_edge("n0", "n4")
    assert not g.has_edge("n3", "n4")  # row end does not wrap
    assert _lengths(g) == {2.0}
    assert (g.nodes["n5"]["x"], g.nodes["n5"]["y"]) == (2.0, 2.0)


def test_star_hub_and_leaves():
    g = topology.star(4, 7.0)
    assert g.number_of_nodes() == 5
    assert g.degree["n0"] == 4
    assert sorted(g.neighbors("n0")) == ["n1", "n2", "n3", "n4"]
    assert _lengths(g) == {7.0}


def _lengths_match_positions(g: nx.Graph) -> bool:
    return all(
        math.isclose(
            d["length_km"],
            math.dist((g.nodes[u]["x"], g.nodes[u]["y"]), (g.nodes[v]["x"], g.nodes[v]["y"])),
        )
        for u, v, d in g.edges(data=True)
    )


def test_random_geometric_is_connected_within_radius_and_area():
    g = topology.random_geometric(20, radius=40.0, area_km=100.0, seed=3)
    assert g.number_of_nodes() == 20
    assert nx.is_connected(g)
    assert all(0 < length <= 40.0 for length in _lengths(g))
    assert all(0 <= d["x"] <= 100 and 0 <= d["y"] <= 100 for _, d in g.nodes(data=True))
    assert _lengths_match_positions(g)


def test_waxman_is_connected_and_lengths_follow_positions():
    g = topology.waxman(15, alpha=0.5, beta=0.6, area_km=50.0, seed=1)
    assert g.number_of_nodes() == 15
    assert nx.is_connected(g)
    assert _lengths_match_positions(g)


def test_random_generators_are_deterministic_per_seed():
    a = topology.waxman(12, alpha=0.5, beta=0.6, area_km=50.0, seed=9)
    b = topology.waxman(12, alpha=0.5, beta=0.6, area_km=50.0, seed=9)
    c = topology.waxman(12, alpha=0.5, beta=0.6, area_km=50.0, seed=10)
    assert nx.to_dict_of_dicts(a) == nx.to_dict_of_dicts(b)
    assert nx.to_dict_of_dicts(a) != nx.to_dict_of_dicts(c)


def test_random_geometric_too_sparse_raises_clear_error():
    with pytest.raises(ValueError, match="no connected graph in 100 tries"):
        topology.random_geometric(30, radius=1.0, area_km=1000.0, seed=0)


@pytest.mark.parametrize(
    ("call", "text"),
    [
        (lambda: topology.chain(1, 10), "chain needs n >= 2"),
        (lambda: topology.ring(2, 10), "ring needs n >= 3"),
        (lambda: topology.star(2, 0), "hop_km must be > 0"),
        (lambda: topology.waxman(5, alpha=0, beta=0.5, area_km=1, seed=0), "alpha and beta"),
    ],
)
def test_bad_parameters_raise(call, text):
    with pytest.raises(ValueError, match=text):
        call()


def test_generate_dispatches_and_names_unknown_generators():
    assert topology.generate("chain", {"n": 3, "hop_km": 1.0}).number_of_nodes() == 3
    with pytest.raises(ValueError, match=r"unknown generator 'tree' \(valid: chain, ring"):
        topology.generate("tree", {})
    with pytest.raises(ValueError, match="needs hop_km"):
        topology.generate("ring", {"n": 4})


def _write_graphml(path, edges, **node_attrs):
    g = nx.Graph()
    for node, attrs in node_attrs.items():
        g.add_node(node, **attrs)
    for u, v, attrs in edges:
        g.add_edge(u, v, **attrs)
    nx.write_graphml(g, path)


def test_read_graphml_keeps_attributes(tmp_path):
    path = tmp_path / "net.graphml"
    _write_graphml(
        path,
        [
            ("a", "b", {"length_km": 12.5}),
            ("b", "c", {"length_km": 3.0, "attenuation_db_per_km": 0.3}),
        ],
        a={"hardware": "nv_center", "memories": 2},
        b={},
        c={"x": 1.0, "y": 2.0},
    )
    g = topology.read_graph_file(path)
    assert sorted(g.nodes) == ["a", "b", "c"]
    assert g.nodes["a"] == {"hardware": "nv_center", "memories": 2}
    assert g.edges["a", "b"] == {"length_km": 12.5}
    assert g.edges["b", "c"]["attenuation_db_per_km"] == 0.3


def test_read_gml(tmp_path):
    path = tmp_path / "net.gml"
    g = nx.Graph()
    g.add_edge("x", "y", length_km=4.0)
    nx.write_gml(g, path)
    assert topology.read_graph_file(path).edges["x", "y"]["length_km"] == 4.0


def test_read_file_requires_length_on_every_edge(tmp_path):
    path = tmp_path / "net.graphml"
    _write_graphml(path, [("a", "b", {"length_km": 1.0}), ("b", "c", {"weight": 2.0})])
    with pytest.raises(ValueError, match="without a positive numeric length_km: b-c"):
        topology.read_graph_file(path)


def test_read_file_errors_for_missing_and_unsupported_files(tmp_path):
    with pytest.raises(ValueError, match="file not found"):
        topology.read_graph_file(tmp_path / "absent.graphml")
    with pytest.raises(ValueError, match=r"unsupported file type '.txt'"):
        topology.read_graph_file(tmp_path / "net.txt")
