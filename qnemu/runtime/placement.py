"""Placing nodes on actors: how many share one process, and which ones."""

from __future__ import annotations

import math
import os

from qnemu.errors import ScenarioError


def auto_nodes_per_actor(n_nodes: int, cpus: int | None = None) -> int:
    """Pack nodes so that a machine runs at most about four actor processes per core."""
    max_actors = 4 * (cpus or os.cpu_count() or 1)
    return max(1, math.ceil(n_nodes / max_actors))


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
