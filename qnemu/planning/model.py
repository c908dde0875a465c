"""The network as Q-NUM sees it (:class:`NetworkModel`) and the predicted (R, F) of a
path in it; built from explicit parameters, a scenario, or a plan."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import networkx as nx

from qnemu.physics.fiber import propagation_delay_s
from qnemu.physics.link import link_model
from qnemu.physics.operations import swap_success_probability
from qnemu.planning.cutoff import cutoff_s
from qnemu.planning.paths import PathCache, link_key
from qnemu.planning.prediction import (
    NO_DELIVERY,
    LinkParams,
    NodeParams,
    Prediction,
    _check_rounds,
    predict,
)
from qnemu.scenario import Scenario


@dataclass(frozen=True)
class NetworkModel:
    """The network as Q-NUM sees it: a frozen graph, LinkParams per edge, NodeParams per
    node, and a path cache. A topology change is a new model (or ``paths.refresh()``)."""

    graph: nx.Graph
    links: Mapping[tuple[str, str], LinkParams]
    nodes: Mapping[str, NodeParams]
    paths: PathCache = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "paths", PathCache(self.graph))

    @classmethod
    def from_params(
        cls, links: Mapping[tuple[str, str], LinkParams], nodes: Mapping[str, NodeParams]
    ) -> NetworkModel:
        """A model from explicit parameters; every link end must be a node."""
        g = nx.Graph()
        g.add_nodes_from(nodes)
        keyed: dict[tuple[str, str], LinkParams] = {}
        for (u, v), lp in links.items():
            for end in (u, v):
                if end not in nodes:
                    raise ValueError(f"links: {u}-{v} names unknown node {end!r}")
            g.add_edge(
                u,
                v,
                length_km=lp.length_km,
                hops=1.0,
                neg_log_eta=-math.log(lp.transmissivity) if lp.transmissivity > 0 else math.inf,
            )
            keyed[link_key(u, v)] = lp
        return cls(nx.freeze(g), keyed, dict(nodes))

    @classmethod
    def from_scenario(cls, scenario: Scenario) -> NetworkModel:
        """Link models for every fiber of the scenario (one slot pair each), node memories."""
        links = {}
        cache: dict[tuple, float] = {}  # T_longEB per (profiles, fidelity): a root find
        node_cutoff = dict.fromkeys((node.id for node in scenario.nodes), math.inf)
        for spec in scenario.links:
            m = link_model(
                scenario.profile_of(spec.a),
                scenario.profile_of(spec.b),
                spec.length_km,
                spec.attenuation_db_per_km,
            )
            links[(spec.a, spec.b)] = LinkParams(
                p_attempt=m.p_attempt,
                period_s=m.period_s,
                fidelity=m.initial_fidelity,
                delay_s=propagation_delay_s(spec.length_km),
                length_km=spec.length_km,
                transmissivity=m.fiber_transmissivity,
            )
            cutoff = cutoff_s(scenario, spec.a, spec.b, m, cache=cache)
            for end in (spec.a, spec.b):
                node_cutoff[end] = min(node_cutoff[end], cutoff)
        nodes = {}
        for node in scenario.nodes:
            prof = scenario.profile_of(node.id)
            swap_p = swap_success_probability(
                prof.swap_success, prof.timing_jitter_s, prof.wavepacket_s
            )
            nodes[node.id] = NodeParams(prof.t2_s, swap_p, node.memories, node_cutoff[node.id])
        return cls.from_params(links, nodes)

    def link(self, u: str, v: str) -> LinkParams:
        """The parameters of link u-v; ValueError if there is no such link."""
        try:
            return self.links[link_key(u, v)]
        except KeyError:
            raise ValueError(f"path: no link {u}-{v}") from None

    def path_inputs(
        self, path: Sequence[str], shares: Mapping[tuple[str, str], float] | None = None
    ) -> tuple[list[LinkParams], list[NodeParams]]:
        """(links, nodes) along ``path``; ``shares`` scales each link's rate (sorted keys)."""
        if len(path) < 2:
            raise ValueError(f"path: must have at least two nodes, got {list(path)!r}")
        links = []
        for u, v in itertools.pairwise(path):
            lp = self.link(u, v)
            if shares is not None:
                lp = lp.scaled(shares.get(link_key(u, v), 1.0))
            links.append(lp)
        try:
            nodes = [self.nodes[n] for n in path]
        except KeyError as exc:
            raise ValueError(f"path: unknown node {exc.args[0]!r}") from None
        return links, nodes


class HasModel(Protocol):
    """Anything that knows its network model (a :class:`~qnemu.planning.plan.NetworkPlan`)."""

    def network_model(self) -> NetworkModel: ...


def as_model(network: NetworkModel | HasModel | Scenario) -> NetworkModel:
    """A NetworkModel from a model (itself), a network plan or a Scenario."""
    if isinstance(network, NetworkModel):
        return network
    if isinstance(network, Scenario):
        return NetworkModel.from_scenario(network)
    if callable(getattr(network, "network_model", None)):
        return network.network_model()
    raise TypeError(
        f"network: expected NetworkModel, NetworkPlan or Scenario, got {type(network).__name__}"
    )


def predict_path(
    network: NetworkModel | HasModel | Scenario,
    path: Sequence[str],
    purification_rounds: int = 0,
    method: str = "dejmps",
    shares: Mapping[tuple[str, str], float] | None = None,
) -> Prediction:
    """Predicted (R, F) on ``path`` of a network (build a NetworkModel once when calling
    this repeatedly: a plan or scenario is converted on every call)."""
    model = as_model(network)
    if shares is not None and any(s == 0.0 for s in shares.values()):
        keys = {link_key(u, v) for u, v in itertools.pairwise(path)}
        if any(shares.get(key, 1.0) == 0.0 for key in keys):
            return replace(NO_DELIVERY, rounds=_check_rounds(purification_rounds))
    links, nodes = model.path_inputs(path, shares)
    return predict(links, nodes, purification_rounds, method)
