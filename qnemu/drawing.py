"""``qnemu topo``: a picture of a scenario's network, its tenants' paths and controllers."""

from __future__ import annotations

import itertools
from pathlib import Path

import networkx as nx

from qnemu.planning.plan import NetworkPlan
from qnemu.scenario import Scenario


def draw_topology(scenario: Scenario, out: str | Path) -> Path:
    """Draw nodes (colored by hardware), fibers (labeled in km), each tenant's path and
    the controllers' locations to a PNG file; returns its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plan = NetworkPlan.build(scenario)
    graph = plan.graph
    if all(spec.x is not None and spec.y is not None for spec in scenario.nodes):
        position = {spec.id: (spec.x, spec.y) for spec in scenario.nodes}
    else:
        position = nx.kamada_kawai_layout(graph, weight="length_km")
    figure, axes = plt.subplots(figsize=(8, 6))
    profiles = sorted({spec.hardware for spec in scenario.nodes})
    palette = plt.get_cmap("tab10")
    colors = [palette(profiles.index(scenario.node(n).hardware)) for n in graph.nodes]
    nx.draw_networkx_edges(graph, position, ax=axes, edge_color="#bbbbbb", width=1.5)
    for i, (tenant, path) in enumerate(sorted(plan.paths.items())):
        nx.draw_networkx_edges(
            graph,
            position,
            edgelist=list(itertools.pairwise(path)),
            ax=axes,
            width=4,
            alpha=0.6,
            edge_color=[palette(i + 3)],
            label=f"{tenant}: {'-'.join(path)}",
        )
    nx.draw_networkx_nodes(graph, position, ax=axes, node_color=colors, node_size=420)
    nx.draw_networkx_labels(graph, position, ax=axes, font_size=8)
    nx.draw_networkx_edge_labels(
        graph,
        position,
        ax=axes,
        font_size=7,
        edge_labels={(u, v): f"{d['length_km']:g} km" for u, v, d in graph.edges(data=True)},
    )
    locations = sorted({site.location for site in plan.sites})
    if plan.controller.placement != "node":
        nx.draw_networkx_nodes(
            graph,
            position,
            nodelist=locations,
            ax=axes,
            node_size=900,
            node_color="none",
            edgecolors="black",
            linewidths=2,
            label=f"{scenario.control.architecture} controller",
        )
    for profile in profiles:
        axes.scatter([], [], color=palette(profiles.index(profile)), label=profile)
    axes.legend(loc="best", fontsize=7)
    axes.set_title(
        f"{scenario.name}: {len(graph)} nodes, {graph.number_of_edges()} links, "
        f"control {scenario.control.architecture}"
    )
    axes.set_axis_off()
    target = Path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(target, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return target
