"""Network slices: each slice reserves a share of every node's memories for its tenants.

A scenario's ``slices:`` split every node's memory slots into pools: a slice with
``memory_share`` s gets ``floor(s x memories)`` slots of each node, and the tenants without
a slice share what is left. Each pool is planned as if it were a network of its own
(admission, Q-NUM routing and allocation, memory slots split over the links its tenants
use), so a greedy tenant in one pool cannot take memories, hence link pairs, from another:
isolation by construction. A slice's memory pairs attempt at ``attempt_share`` of a link's
attempt rate (the heralding station's time is divided; the unsliced pool attempts at full
rate). Nothing here imports the plan (the plan imports this).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from qnemu.scenario import Scenario, TenantSpec

#: The pool of tenants without a slice.
SHARED = ""


@dataclass(frozen=True)
class Pool:
    """One slice (or the shared rest, ``name`` :data:`SHARED`): its memory slots per node,
    as ``(first slot, count)``, its attempt share and its tenants."""

    name: str
    slots: dict[str, tuple[int, int]]
    attempt_share: float
    tenants: tuple[TenantSpec, ...]

    def scenario(self, scenario: Scenario) -> Scenario:
        """The scenario this pool is planned as: its memories only, its tenants only."""
        nodes = tuple(
            dataclasses.replace(n, memories=max(1, self.slots[n.id][1])) for n in scenario.nodes
        )
        return dataclasses.replace(scenario, nodes=nodes, tenants=self.tenants, slices=())


def slice_of(tenant: TenantSpec) -> str:
    """The pool a tenant belongs to."""
    return tenant.slice or SHARED


def pools(scenario: Scenario) -> list[Pool]:
    """The slices in the scenario's order, then the shared rest (only with slices)."""
    first = {n.id: 0 for n in scenario.nodes}
    out = []
    for spec in scenario.slices:
        slots = {}
        for node in scenario.nodes:
            count = math.floor(spec.memory_share * node.memories + 1e-9)
            slots[node.id] = (first[node.id], count)
            first[node.id] += count
        tenants = tuple(t for t in scenario.tenants if t.slice == spec.name)
        out.append(Pool(spec.name, slots, spec.attempt_share, tenants))
    rest = {n.id: (first[n.id], n.memories - first[n.id]) for n in scenario.nodes}
    shared = tuple(t for t in scenario.tenants if t.slice is None)
    out.append(Pool(SHARED, rest, 1.0, shared))
    return out


def pool_problems(pool: Pool, used: dict[str, int]) -> list[str]:
    """A pool that has no memory at a node its tenants need (``used``: node -> links)."""
    label = f"slice {pool.name!r}" if pool.name else "tenants without a slice"
    return [
        f"nodes.{node}.memories: {label} gets {pool.slots[node][1]} memory slots there, "
        f"too few for the {links} links its tenants use"
        for node, links in used.items()
        if pool.slots[node][1] < links
    ]
