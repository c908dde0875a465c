"""Placing nodes on actors and actors on Ray nodes: how many nodes share one process,
which ones, and which machine runs each (pure: no Ray calls here)."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

from qnemu.errors import EmulationError, ScenarioError

ACTORS_PER_CPU_UNPACKED = 4  # one node per actor while this many actors per core suffice


def auto_nodes_per_actor(n_nodes: int, cpus: int | None = None) -> int:
    """Nodes per actor when the scenario leaves it to the runtime.

    One node per actor while that makes at most four actor processes per core; beyond, one
    actor per core. Once nodes must share processes, fewer processes serve the same events
    with less CPU: on a 2-core machine the busy 20-node chain used ~125 µs of actor CPU per
    message in 2 actors against ~180 µs in 7 (switching and transport between processes),
    and a 200-node chain started in 1.0 s with 0.37 GB in 2 actors against 4.6 s and 1.5 GB
    in 8, with a lower p99 lateness.
    """
    cores = cpus or os.cpu_count() or 1
    if n_nodes <= ACTORS_PER_CPU_UNPACKED * cores:
        return 1
    return math.ceil(n_nodes / cores)


def group_nodes(
    node_ids: list[str], per_actor: int, machines: dict[str, str | None] | None = None
) -> list[list[str]]:
    """Consecutive nodes share an actor, so neighbors on a chain are co-located.

    With ``machines`` (node -> its ``machine`` label or None), a pack also ends where the label
    changes, so that one actor (one process, on one machine) never mixes machines.
    """
    if per_actor < 1:
        raise ScenarioError(f"runtime.nodes_per_actor: must be >= 1, got {per_actor}")
    machines = machines or {}
    groups: list[list[str]] = []
    for node in node_ids:
        if (
            groups
            and len(groups[-1]) < per_actor
            and machines.get(groups[-1][0]) == machines.get(node)
        ):
            groups[-1].append(node)
        else:
            groups.append([node])
    return groups


@dataclass(frozen=True)
class RayNode:
    """One alive Ray node as placement sees it."""

    node_id: str
    ip: str
    resources: frozenset[str]  # custom resource names (``ray start --resources``)
    labels: frozenset[str] = frozenset()  # values of ``ray start --labels``
    is_driver: bool = False

    def answers_to(self, label: str) -> bool:
        """Whether a scenario ``machine`` label names this node (IP, node id, resource, label)."""
        return label in (self.ip, self.node_id) or label in self.resources or label in self.labels


def resolve_placement(placement: str, nodes: list[RayNode]) -> str:
    """``auto`` becomes ``spread`` on a cluster of several Ray nodes, ``pack`` on one."""
    if placement == "auto":
        return "spread" if len(nodes) > 1 else "pack"
    return placement


def plan_placement(
    groups: list[list[str]], machines: dict[str, str | None], placement: str, nodes: list[RayNode]
) -> list[str]:
    """The Ray node id hosting each group (pure: no Ray calls).

    A group is one actor, so it is never split. A group whose nodes carry a ``machine``
    label goes to the Ray node answering to that label (every label in a group must be
    the same; a label no Ray node answers to is an :class:`EmulationError`). The other
    groups follow ``placement``: ``pack`` puts them on the driver's Ray node, ``spread``
    cuts them into contiguous blocks, one per Ray node (neighbors on a chain stay
    together, so few messages cross machines).
    """
    if not nodes:
        raise EmulationError("ray: the cluster has no alive node")
    mode = resolve_placement(placement, nodes)
    if mode not in ("pack", "spread"):
        raise EmulationError(f"runtime.placement: must be auto, pack or spread, got {mode!r}")
    targets: list[str | None] = []
    for group in groups:
        labels = {label for node in group if (label := machines.get(node)) is not None}
        if len(labels) > 1:
            raise EmulationError(
                f"topology.nodes: {', '.join(group)} share one actor but name "
                f"different machines {sorted(labels)}"
            )
        if not labels:
            targets.append(None)
            continue
        label = labels.pop()
        match = [n for n in nodes if n.answers_to(label)]
        if not match:
            known = ", ".join(
                sorted({n.ip for n in nodes} | {r for n in nodes for r in n.resources})
            )
            raise EmulationError(
                f"topology.nodes[{group[0]}].machine: no Ray node answers to "
                f"{label!r} (known IPs and custom resources: {known})"
            )
        targets.append(match[0].node_id)
    free = [i for i, target in enumerate(targets) if target is None]
    for rank, i in enumerate(free):
        if mode == "pack":
            targets[i] = nodes[0].node_id
        else:
            targets[i] = nodes[rank * len(nodes) // len(free)].node_id
    return [t for t in targets if t is not None]
