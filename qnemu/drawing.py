"""``qnemu topo``: a picture of a scenario's network, its tenants' paths and controllers.

Nodes are colored by hardware profile and named beside their marker; each tenant's path
is a thick colored line; a controller's node is ringed (so the ring never crosses a name);
a hierarchical control plane's domains are shaded regions. The legend sits outside the
graph, on the right. Link lengths are labeled only when asked (``--lengths``): on a big
network they hide the graph.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import networkx as nx

from qnemu.planning.plan import NetworkPlan
from qnemu.scenario import Scenario

__all__ = ["draw_topology"]

_NODE_SIZE = 420  # points^2
_RING_SIZE = 1000  # points^2: a ring of radius ~16 points around a controller's node
_LABEL_OFFSET = 20  # points below a node's center: clear of its ring
_DOMAIN_SIZE = 4000  # points^2 of the shade around each node of a domain


def draw_topology(scenario: Scenario, out: str | Path, lengths: bool = False) -> Path:
    """Draw the network, each tenant's path and the controllers (and, for a hierarchical
    control plane, its domains) to a PNG file; ``lengths`` labels links in km. Returns
    the file's path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan = NetworkPlan.build(scenario)
    graph = plan.graph
    position = _layout(scenario, graph)
    figure, axes = plt.subplots(figsize=(9, 6))
    if plan.controller.placement == "domain":
        _draw_domains(axes, plan, position)
    nx.draw_networkx_edges(graph, position, ax=axes, edge_color="#bbbbbb", width=1.5)
    _draw_paths(axes, plan, position)
    _draw_nodes(axes, scenario, plan, position)
    if lengths:
        nx.draw_networkx_edge_labels(
            graph,
            position,
            ax=axes,
            font_size=7,
            edge_labels={(u, v): f"{d['length_km']:g} km" for u, v, d in graph.edges(data=True)},
        )
    legend = axes.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    for handle in legend.legend_handles:  # markers at legend size, not at drawing size
        set_sizes = getattr(handle, "set_sizes", None)
        if set_sizes is not None:
            set_sizes([80])
    axes.set_title(
        f"{scenario.name}: {len(graph)} nodes, {graph.number_of_edges()} links, "
        f"control {scenario.control.architecture}"
    )
    axes.set_axis_off()
    axes.margins(0.12)  # room for the names under the bottom row and the domain shades
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return target


def _layout(scenario: Scenario, graph: nx.Graph) -> dict[str, Any]:
    """The scenario's own coordinates when every node has them, else a spring-like layout
    weighted by fiber length."""
    if all(spec.x is not None and spec.y is not None for spec in scenario.nodes):
        return {spec.id: (spec.x, spec.y) for spec in scenario.nodes}
    return dict(nx.kamada_kawai_layout(graph, weight="length_km"))


def _draw_domains(axes: Any, plan: NetworkPlan, position: dict[str, Any]) -> None:
    """Each domain as a shaded region: a soft disc around each of its nodes."""
    shades = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]
    for i, site in enumerate(sorted(plan.sites, key=lambda s: s.name)):
        nodes = sorted(site.served)
        axes.scatter(
            [position[n][0] for n in nodes],
            [position[n][1] for n in nodes],
            s=_DOMAIN_SIZE,
            color=shades[i % len(shades)],
            alpha=0.15,
            linewidths=0,
            zorder=0,
            label=f"domain {site.name.rpartition(':')[2]} (controller at {site.location})",
        )


def _draw_paths(axes: Any, plan: NetworkPlan, position: dict[str, Any]) -> None:
    palette = _palette()
    for i, (tenant, path) in enumerate(sorted(plan.paths.items())):
        nx.draw_networkx_edges(
            plan.graph,
            position,
            edgelist=list(itertools.pairwise(path)),
            ax=axes,
            width=4,
            alpha=0.6,
            edge_color=[palette(i + 3)],
            label=f"{tenant}: {'-'.join(path)}",
        )


def _draw_nodes(axes: Any, scenario: Scenario, plan: NetworkPlan, position: dict[str, Any]) -> None:
    """Nodes colored by hardware, names under them, rings around controllers' nodes."""
    palette = _palette()
    graph = plan.graph
    profiles = sorted({spec.hardware for spec in scenario.nodes})
    colors = [palette(profiles.index(scenario.node(n).hardware)) for n in graph.nodes]
    nx.draw_networkx_nodes(graph, position, ax=axes, node_color=colors, node_size=_NODE_SIZE)
    for node in graph.nodes:
        axes.annotate(
            node,
            position[node],
            xytext=(0, -_LABEL_OFFSET),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
        )
    if plan.controller.placement != "node":
        nx.draw_networkx_nodes(
            graph,
            position,
            nodelist=sorted({site.location for site in plan.sites}),
            ax=axes,
            node_size=_RING_SIZE,
            node_color="none",
            edgecolors="black",
            linewidths=2,
            label=f"{scenario.control.architecture} controller",
        )
    for profile in profiles:
        axes.scatter([], [], color=palette(profiles.index(profile)), label=profile)


def _palette() -> Any:
    import matplotlib.pyplot as plt

    return plt.get_cmap("tab10")
