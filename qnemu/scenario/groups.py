"""Tenants of several nodes (``ghz``/``sensing`` parties, a ``qfl`` server and clients):
their checks, and their expansion into ordinary Bell-pair sub-tenants.

A group tenant is planned, admitted, routed and served exactly like ordinary tenants: one
sub-tenant ``NAME/member`` per member, from the hub to each party (GHZ) or from each
client to the server (QFL). The applications join the sub-tenants' pairs again
(:mod:`qnemu.node.app_runner`, :mod:`qnemu.apps.ghz`, :mod:`qnemu.apps.qfl`).
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx

from qnemu.scenario.schema import TenantModel
from qnemu.scenario.spec import GROUP_APPS, GroupSpec, SlaSpec, TenantSpec, _names

#: Tenant fields that only a group tenant has, by app.
GROUP_FIELDS = {
    "ghz": ("parties", "hub"),
    "sensing": ("parties", "hub"),
    "qfl": ("server", "clients", "pairs_per_round", "aggregation", "staleness"),
}
_ALL_GROUP_FIELDS = ("parties", "hub", "server", "clients", "pairs_per_round", "aggregation")


def check_tenant_ends(path: str, tenant: TenantModel, g: nx.Graph | None) -> list[str]:
    """Problems with which nodes ``tenant`` names (src/dst, parties/hub or server/clients),
    each one line naming its field; the route itself is checked for ordinary tenants by
    the caller (empty: fine)."""
    given = [f for f in (*_ALL_GROUP_FIELDS, "staleness") if getattr(tenant, f) is not None]
    if tenant.app not in GROUP_APPS:
        problems = [f"{path}.{f}: only a ghz, sensing or qfl tenant has it" for f in given]
        problems += [
            f"{path}.{end}: required" for end in ("src", "dst") if getattr(tenant, end) is None
        ]
        return problems
    allowed = GROUP_FIELDS[tenant.app]
    problems = [
        f"{path}.{f}: not a field of a {tenant.app} tenant" for f in given if f not in allowed
    ]
    members_field = "clients" if tenant.app == "qfl" else "parties"
    for end in ("src", "dst"):
        if getattr(tenant, end) is not None:
            problems.append(
                f"{path}.{end}: a {tenant.app} tenant lists {members_field}, not src/dst "
                "(they exclude each other)"
            )
    if tenant.app == "qfl":
        problems += _check_qfl(path, tenant, g)
    else:
        problems += _check_parties(path, tenant, g)
    return problems


def _check_parties(path: str, tenant: TenantModel, g: nx.Graph | None) -> list[str]:
    if tenant.parties is None:
        return [f"{path}.parties: required by a {tenant.app} tenant (2 to 6 nodes)"]
    problems = _check_members(f"{path}.parties", tenant.parties, g)
    if tenant.hub is not None and g is not None and tenant.hub not in g:
        problems.append(f"{path}.hub: unknown node {tenant.hub!r} (nodes: {_names(g.nodes)})")
    if problems or g is None:
        return problems
    hub = tenant.hub or default_hub(tenant.parties, g)
    return _check_reachable(f"{path}.parties", hub, tenant.parties, g)


def _check_qfl(path: str, tenant: TenantModel, g: nx.Graph | None) -> list[str]:
    problems = []
    if tenant.server is None:
        problems.append(f"{path}.server: required by a qfl tenant")
    if tenant.clients is None:
        problems.append(f"{path}.clients: required by a qfl tenant (at least one node)")
    if tenant.staleness is not None and tenant.aggregation != "async":
        problems.append(f"{path}.staleness: only with aggregation: async")
    if tenant.server is None or tenant.clients is None:
        return problems
    problems += _check_members(f"{path}.clients", tenant.clients, g)
    if tenant.server in tenant.clients:
        problems.append(f"{path}.clients: lists the server {tenant.server!r}")
    if g is not None and tenant.server not in g:
        problems.append(f"{path}.server: unknown node {tenant.server!r} (nodes: {_names(g.nodes)})")
    if problems or g is None:
        return problems
    return _check_reachable(f"{path}.clients", tenant.server, tenant.clients, g)


def _check_members(path: str, members: Sequence[str], g: nx.Graph | None) -> list[str]:
    problems = []
    repeated = sorted({m for m in members if members.count(m) > 1})
    if repeated:
        problems.append(f"{path}: repeats {', '.join(map(repr, repeated))}")
    if g is not None:
        problems += [
            f"{path}: unknown node {m!r} (nodes: {_names(g.nodes)})" for m in members if m not in g
        ]
    return problems


def _check_reachable(path: str, center: str, members: Sequence[str], g: nx.Graph) -> list[str]:
    return [
        f"{path}: {m!r} is not reachable from {center!r}"
        for m in members
        if m != center and not nx.has_path(g, center, m)
    ]


def default_hub(parties: Sequence[str], g: nx.Graph) -> str:
    """The node with the least total fiber length (km) to the parties; ties go to a
    party, then to the earlier node (deterministic)."""
    candidates = list(parties) + [n for n in g.nodes if n not in parties]
    best, best_km = candidates[0], float("inf")
    for node in candidates:
        reach = nx.single_source_dijkstra_path_length(g, node, weight="length_km")
        if all(p in reach for p in parties):
            km = sum(reach[p] for p in parties)
            if km < best_km - 1e-12:
                best, best_km = node, km
    return best


def group_spec(model: TenantModel, g: nx.Graph) -> GroupSpec | None:
    """The group a validated tenant describes (None: an ordinary tenant)."""
    if model.app not in GROUP_APPS:
        return None
    if model.app == "qfl":
        assert model.server is not None and model.clients is not None  # checked
        return GroupSpec(
            name=model.name,
            app="qfl",
            center=model.server,
            members=tuple(model.clients),
            pairs_per_round=model.pairs_per_round or 1,
            aggregation=model.aggregation or "sync",
            staleness=model.staleness,
        )
    assert model.parties is not None  # checked
    hub = model.hub or default_hub(model.parties, g)
    return GroupSpec(name=model.name, app=model.app, center=hub, members=tuple(model.parties))


def tenant_specs(model: TenantModel, g: nx.Graph) -> list[TenantSpec]:
    """The frozen specs of one validated tenant: itself, or its group's sub-tenants."""
    group = group_spec(model, g)
    values = model.model_dump(exclude={*_ALL_GROUP_FIELDS, "staleness"})
    if values.get("sla") is not None:
        values["sla"] = SlaSpec(**values["sla"])
    if group is None:
        return [TenantSpec(**values)]
    specs = []
    for member in group.members:
        if member == group.center:
            continue  # the hub's own GHZ qubit is local: no pair to plan
        src, dst = (member, group.center) if group.app == "qfl" else (group.center, member)
        name = group.member_tenant(member)
        specs.append(TenantSpec(**{**values, "name": name, "src": src, "dst": dst, "group": group}))
    return specs


def member_names(
    tenants: Sequence[TenantModel | None], g: nx.Graph | None
) -> list[tuple[int, str]]:
    """(tenant index, name) of every tenant and sub-tenant the scenario will plan."""
    out = []
    for i, tenant in enumerate(tenants):
        if tenant is None:
            continue
        if tenant.app == "qfl" and tenant.clients:
            out += [(i, f"{tenant.name}/{c}") for c in tenant.clients]
        elif tenant.app in ("ghz", "sensing") and tenant.parties:
            out += [(i, f"{tenant.name}/{p}") for p in tenant.parties]
        else:
            out.append((i, tenant.name))
    return out


__all__ = [
    "GROUP_FIELDS",
    "check_tenant_ends",
    "default_hub",
    "group_spec",
    "member_names",
    "tenant_specs",
]
