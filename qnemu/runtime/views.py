"""What the live console shows of one host's nodes, from the nodes' own view (and the
world's true faults for link and node states): text rows, so that a Ray actor can answer
for the nodes it hosts and the driver can join the answers (``qnemu run --console --ray``).
"""

from __future__ import annotations

from qnemu.runtime.host import Host
from qnemu.scenario.spec import Scenario


def nodes_text(host: Host) -> str:
    """Each node of ``host``: up or crashed, and its memories in use."""
    crashed = host.faults.crashed if host.faults is not None else set()
    rows = []
    for name, node in host.nodes.items():
        state = "crashed" if name in crashed else "up"
        rows.append(f"{name:>8}  {state:<8} memories {node.memory.occupied}/{node.me.memories}")
    return "\n".join(rows)


def links_text(host: Host, scenario: Scenario) -> str:
    """Every link of ``scenario`` and its state in ``host``'s world (all hosts agree)."""
    world = host.faults
    rows = []
    for link in scenario.links:
        key = frozenset((link.a, link.b))
        state = "up"
        if world is not None and world.links_down[key] > 0:
            state = "down"
        elif world is not None and (link.a in world.crashed or link.b in world.crashed):
            state = "down (node crashed)"
        loss = f", loss {world.loss[key]:g}" if world is not None and key in world.loss else ""
        rows.append(f"{link.a}~{link.b}  {link.length_km:g} km  {state}{loss}")
    return "\n".join(rows)


def tenants_text(host: Host, local_only: bool = False) -> str:
    """Every tenant and its path as its routing node knows it (``local_only``: only the
    tenants routed by a node of ``host``, and the unrouted ones by host 0)."""
    rows = []
    for tenant in host.plan.scenario.tenants:
        router = host.plan.setup_node.get(tenant.name)
        node = host.nodes.get(router) if router is not None else None
        if local_only and (router not in host.nodes if router else host.host_id != 0):
            continue  # another host answers for it
        if node is None or tenant.name not in node.plan.paths:
            rows.append(f"{tenant.name}  {tenant.src}->{tenant.dst}  not admitted")
            continue
        if tenant.name in node.plan.withdrawn:
            where = "NO PATH (unserved until one returns)"
        else:
            where = "-".join(node.plan.paths[tenant.name])
        rows.append(f"{tenant.name}  {tenant.app}  {where}")
    return "\n".join(rows)


def pairs_text(host: Host, names: list[str]) -> str:
    """Memory occupancy of the nodes ``names`` of ``host``, from their own view."""
    rows = []
    for name in names:
        node = host.nodes.get(name)
        if node is None:
            raise KeyError(f"unknown node {name!r} (nodes: {', '.join(host.nodes)})")
        held = sorted(node.memory.qubits(), key=lambda h: h.slot)
        detail = ", ".join(f"{h.slot}:{h.link_pair}({h.tenant})" for h in held) or "empty"
        rows.append(f"{name}  {node.memory.occupied}/{node.me.memories}  {detail}")
    return "\n".join(rows)


def view_text(
    host: Host, kind: str, names: list[str] | None = None, local_only: bool = False
) -> str:
    """The console's ``kind`` view (nodes, links, tenants, pairs) of ``host``; with
    ``local_only`` each host of a multi-host run answers for its own part."""
    if kind == "nodes":
        return nodes_text(host)
    if kind == "links":
        return links_text(host, host.plan.scenario)
    if kind == "tenants":
        return tenants_text(host, local_only)
    if kind == "pairs":
        wanted = list(host.nodes) if names is None else names
        if local_only:
            wanted = [n for n in wanted if n in host.nodes]
        return pairs_text(host, wanted)
    raise KeyError(f"unknown view {kind!r} (views: nodes, links, tenants, pairs)")
