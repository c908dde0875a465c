"""Resolving a validated raw scenario into a :class:`Scenario`, gathering every problem."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
from pydantic import (
    BaseModel,
)

from qnemu.errors import ScenarioError
from qnemu.physics.hardware import PROFILES, HardwareProfile
from qnemu.scenario import topology
from qnemu.scenario.faults import resolve_faults
from qnemu.scenario.groups import check_tenant_ends, member_names, tenant_specs
from qnemu.scenario.problems import _fmt, _validate
from qnemu.scenario.schema import (
    _PROFILE_FIELDS,
    ControlModel,
    HardwareEntry,
    ScenarioModel,
    SliceModel,
    TenantModel,
    TopologyModel,
)
from qnemu.scenario.service import check_service
from qnemu.scenario.spec import (
    GROUP_APPS,
    MAX_REPORTS,
    MAX_WALL_S,
    ClassicalSpec,
    ControlSpec,
    LinkSpec,
    NodeSpec,
    RuntimeSpec,
    Scenario,
    SliceSpec,
    TenantSpec,
    _FrozenMap,
    _names,
)

# ----------------------------------------------------------------------------- resolving


class _Resolver:
    """Turns a raw scenario mapping into a :class:`Scenario`, gathering every problem.

    When the whole model fails validation, each section is validated again on its own so
    that the cross-section checks (unknown nodes, unreachable tenants) still run on the
    parts that are well-formed.
    """

    def __init__(self, raw: dict[str, Any], base_dir: Path) -> None:
        self.raw = raw
        self.base_dir = base_dir
        self.problems: list[str] = []

    def scenario(self) -> Scenario:
        model = _validate(ScenarioModel, self.raw, self.problems)
        if model is not None:
            self._check_run_length(model)
        sections = self._sections(model)
        profiles = self._profiles(sections["hardware"])
        named = {k for k in sections["hardware"] or {} if isinstance(k, str)}
        known = sorted(set(PROFILES) | named)
        graph = self._graph(sections["topology"], sections["seed"], known)
        self._check_tenants(sections["tenants"], graph)
        check_service(
            sections["tenants"], sections.get("slices") or [], sections["duration_s"], self.problems
        )
        self._check_control(sections["control"], graph)
        faults = resolve_faults(
            self.raw.get("faults"), None if model is None else model.faults, graph, self.problems
        )
        if self.problems or model is None or graph is None:
            raise ScenarioError(self.problems or ["scenario: invalid"])
        return dataclasses.replace(_build(model, graph, profiles), faults=faults)

    def _check_run_length(self, model: ScenarioModel) -> None:
        """Bounds that involve two fields: wall time (duration x dilation, in s) and the
        number of reports a node sends its controller."""
        wall_s = model.duration_s * (model.dilation or 1.0)
        if wall_s > MAX_WALL_S:
            self.problems.append(
                f"dilation: duration_s x dilation = {wall_s:.3g} wall seconds, above the bound "
                f"of {MAX_WALL_S:g} s (MAX_WALL_S), got {_fmt(model.dilation)}"
            )
        reports = model.duration_s / model.control.report_interval_s
        if reports > MAX_REPORTS:
            self.problems.append(
                f"control.report_interval_s: duration_s / report_interval_s = {reports:.3g} "
                f"reports per node, above the bound of {MAX_REPORTS:,} (MAX_REPORTS), "
                f"got {_fmt(model.control.report_interval_s)}"
            )

    def _sections(self, model: ScenarioModel | None) -> dict[str, Any]:
        if model is not None:
            return {
                "seed": model.seed,
                "topology": model.topology,
                "hardware": model.hardware,
                "tenants": list(model.tenants),
                "control": model.control,
                "slices": list(model.slices),
                "duration_s": model.duration_s,
            }
        raw = self.raw
        seed = raw.get("seed")
        hardware = raw.get("hardware") or {}
        tenants = raw.get("tenants") or []
        return {
            "seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else 0,
            "topology": _validate(TopologyModel, raw.get("topology"), None),
            "hardware": {k: _validate(HardwareEntry, v, None) for k, v in hardware.items()}
            if isinstance(hardware, dict)
            else None,
            "tenants": [_validate(TenantModel, t, None) for t in tenants]
            if isinstance(tenants, list)
            else [],
            "control": _validate(ControlModel, raw.get("control") or {}, None),
            "slices": _valid_slices(raw.get("slices")),
            "duration_s": raw.get("duration_s")
            if isinstance(raw.get("duration_s"), int | float)
            else None,
        }

    # -- hardware ---------------------------------------------------------------------

    def _profiles(self, hardware: Mapping[str, Any] | None) -> dict[str, HardwareProfile]:
        """Built-in profiles with the scenario's overrides, plus its custom ones."""
        profiles = dict(PROFILES)
        for name, entry in (hardware or {}).items():
            if entry is None or not isinstance(name, str):  # pydantic reported the key
                continue
            profile = self._profile(name, entry)
            if profile is not None:
                profiles[name] = profile
        return profiles

    def _profile(self, name: str, entry: BaseModel) -> HardwareProfile | None:
        path = f"hardware.{name}"
        fields = {k: getattr(entry, k) for k in entry.model_fields_set if k != "base"}
        base = entry.base  # type: ignore[attr-defined]
        if name in PROFILES and base not in (None, name):
            self.problems.append(
                f"{path}.base: overrides of the built-in '{name}' cannot "
                f"change its base, got {base!r}"
            )
            return None
        if name not in PROFILES and base is None:
            missing = [f for f in _PROFILE_FIELDS if f not in fields]
            if missing:
                self.problems.append(
                    f"{path}.base: required for a custom profile unless it sets every field "
                    f"(missing: {', '.join(missing)}; bases: {', '.join(PROFILES)})"
                )
                return None
        if base is not None and base not in PROFILES:
            self.problems.append(
                f"{path}.base: unknown profile {base!r} (valid: {', '.join(PROFILES)})"
            )
            return None
        start = (
            PROFILES[base or name] if (base or name) in PROFILES else next(iter(PROFILES.values()))
        )
        try:
            return start.replace(name=name, **fields)
        except (ValueError, TypeError) as exc:
            self.problems.append(_profile_problem(path, fields, exc))
            return None

    # -- topology ---------------------------------------------------------------------

    def _graph(self, topo: TopologyModel | None, seed: int, known: list[str]) -> nx.Graph | None:
        if topo is None:
            return None
        if topo.hardware not in known:
            self.problems.append(_unknown_profile("topology.hardware", topo.hardware, known))
        explicit = topo.nodes is not None or topo.links is not None
        graph = self._explicit(topo, known) if explicit else self._generated(topo, seed, known)
        return graph

    def _unused(self, topo: TopologyModel, used: Iterable[str], why: str) -> None:
        params = {p for ps in topology.GENERATOR_PARAMS.values() for p in ps}
        for key in sorted((topo.model_fields_set & params) - set(used)):
            self.problems.append(f"topology.{key}: not used {why}, got {_fmt(getattr(topo, key))}")

    def _generated(self, topo: TopologyModel, seed: int, known: list[str]) -> nx.Graph | None:
        name = topo.generator or ("file" if topo.file is not None else None)
        valid = ", ".join(topology.GENERATORS)
        if name is None:
            self.problems.append(
                f"topology.generator: required unless topology.nodes or "
                f"topology.file is given (valid: {valid})"
            )
            return None
        if name not in topology.GENERATORS:
            self.problems.append(f"topology.generator: unknown generator {name!r} (valid: {valid})")
            return None
        needed = topology.GENERATOR_PARAMS[name]
        self._unused(topo, needed, f"by generator {name!r}")
        missing = [p for p in needed if getattr(topo, p) is None]
        for p in missing:
            self.problems.append(f"topology.{p}: required by generator {name!r}")
        if missing:
            return None
        params = {p: getattr(topo, p) for p in needed}
        if name == "file" and topo.file is not None:
            params["file"] = self.base_dir / topo.file
        try:
            raw = topology.generate(name, params, seed)
        except ValueError as exc:
            self.problems.append(f"topology{'.file' if name == 'file' else ''}: {exc}")
            return None
        return self._dress(raw, topo, known)

    def _dress(self, raw: nx.Graph, topo: TopologyModel, known: list[str]) -> nx.Graph:
        """Give generated/file nodes hardware and memories, and links their attenuation."""
        g = nx.Graph()
        for node, data in raw.nodes(data=True):
            hardware = data.get("hardware", topo.hardware)
            memories = data.get("memories", topo.memories)
            where = f"topology.file: node {node!r}"
            if "hardware" in data and hardware not in known:
                self.problems.append(_unknown_profile(f"{where} hardware", hardware, known))
            if not isinstance(memories, int) or isinstance(memories, bool) or memories < 1:
                self.problems.append(
                    f"{where} memories: must be an integer >= 1, got {_fmt(memories)}"
                )
            g.add_node(
                node,
                hardware=hardware,
                memories=memories,
                machine=data.get("machine"),
                x=_float_or_none(data.get("x")),
                y=_float_or_none(data.get("y")),
            )
        for u, v, data in raw.edges(data=True):
            g.add_edge(
                u,
                v,
                length_km=float(data["length_km"]),
                attenuation_db_per_km=float(
                    data.get("attenuation_db_per_km", topo.attenuation_db_per_km)
                ),
            )
        return g

    def _explicit(self, topo: TopologyModel, known: list[str]) -> nx.Graph | None:
        if topo.generator is not None or topo.file is not None:
            self.problems.append("topology: give either a generator/file or nodes/links, not both")
        self._unused(topo, (), "with explicit nodes/links")
        if not topo.nodes:
            self.problems.append("topology.nodes: must list at least one node")
            return None
        g = nx.Graph()
        for i, node in enumerate(topo.nodes):
            path = f"topology.nodes[{i}]"
            if node.id in g:
                self.problems.append(f"{path}.id: duplicate node id {node.id!r}")
                continue
            hardware = node.hardware or topo.hardware
            if node.hardware is not None and hardware not in known:
                self.problems.append(_unknown_profile(f"{path}.hardware", hardware, known))
            g.add_node(
                node.id,
                hardware=hardware,
                memories=node.memories or topo.memories,
                machine=node.machine,
                x=node.x,
                y=node.y,
            )
        self._explicit_links(topo, g)
        return g

    def _explicit_links(self, topo: TopologyModel, g: nx.Graph) -> None:
        first_seen: dict[frozenset[str], int] = {}
        nodes = list(g.nodes)
        for i, link in enumerate(topo.links or []):
            path = f"topology.links[{i}]"
            bad = [e for e in ("a", "b") if getattr(link, e) not in g]
            for end in bad:
                self.problems.append(
                    f"{path}.{end}: unknown node {getattr(link, end)!r} (nodes: {_names(nodes)})"
                )
            key = frozenset((link.a, link.b))
            if link.a == link.b:
                self.problems.append(f"{path}: self-loop on {link.a!r}")
            elif key in first_seen:
                self.problems.append(
                    f"{path}: duplicate link {link.a}-{link.b} "
                    f"(also topology.links[{first_seen[key]}])"
                )
            elif not bad:
                first_seen[key] = i
                attenuation = link.attenuation_db_per_km
                g.add_edge(
                    link.a,
                    link.b,
                    length_km=link.length_km,
                    attenuation_db_per_km=(
                        topo.attenuation_db_per_km if attenuation is None else attenuation
                    ),
                )

    # -- cross checks -----------------------------------------------------------------

    def _check_tenants(self, tenants: list[TenantModel | None], g: nx.Graph | None) -> None:
        names: dict[str, int] = {}
        for i, tenant in enumerate(tenants):
            if tenant is None:
                continue
            path = f"tenants[{i}]"
            if tenant.name in names:
                self.problems.append(
                    f"{path}.name: duplicate tenant {tenant.name!r} "
                    f"(also tenants[{names[tenant.name]}])"
                )
            names.setdefault(tenant.name, i)
            ends = check_tenant_ends(path, tenant, g)
            self.problems.extend(ends)
            if g is not None and not ends and tenant.app not in GROUP_APPS:
                self._check_route(path, tenant, g)
            if tenant.circuit is not None and tenant.app != "dqc":
                self.problems.append(f"{path}.circuit: only a dqc tenant runs circuits")
        for i, name in member_names(tenants, g):
            if "/" in name and name in names:
                self.problems.append(
                    f"tenants[{i}].name: its sub-tenant {name!r} is also tenants[{names[name]}]"
                )

    def _check_route(self, path: str, tenant: TenantModel, g: nx.Graph) -> None:
        ends_ok = True
        for end in ("src", "dst"):
            node = getattr(tenant, end)
            if node not in g:
                ends_ok = False
                self.problems.append(
                    f"{path}.{end}: unknown node {node!r} (nodes: {_names(g.nodes)})"
                )
        if tenant.src == tenant.dst:
            self.problems.append(f"{path}.dst: same as src, got {tenant.dst!r}")
        elif ends_ok and not nx.has_path(g, tenant.src, tenant.dst):
            self.problems.append(f"{path}.dst: {tenant.dst!r} is not reachable from {tenant.src!r}")

    def _check_control(self, control: ControlModel | None, g: nx.Graph | None) -> None:
        if control is None or g is None:
            return
        if control.location is not None and control.location not in g:
            self.problems.append(
                f"control.location: unknown node {control.location!r} (nodes: {_names(g.nodes)})"
            )
        if control.domains is not None:
            self._check_domains(control.domains, g)

    def _check_domains(self, domains: dict[str, list[str]], g: nx.Graph) -> None:
        seen: dict[str, str] = {}
        for name, members in domains.items():
            for node in members:
                if node not in g:
                    self.problems.append(
                        f"control.domains.{name}: unknown node {node!r} (nodes: {_names(g.nodes)})"
                    )
                elif node in seen:
                    self.problems.append(
                        f"control.domains.{name}: node {node!r} is already in domain {seen[node]!r}"
                    )
                else:
                    seen[node] = name
        missing = [n for n in g.nodes if n not in seen]
        if missing:
            self.problems.append(
                f"control.domains: do not cover the nodes {', '.join(map(str, missing))}"
            )


def _valid_slices(raw: Any) -> list[SliceModel]:
    if not isinstance(raw, list):
        return []
    models = [_validate(SliceModel, item, None) for item in raw]
    return [m for m in models if m is not None]


def _control_spec(model: ControlModel) -> ControlSpec:
    values = model.model_dump()
    if values["domains"] is not None:
        values["domains"] = _FrozenMap(
            {name: tuple(members) for name, members in values["domains"].items()}
        )
    return ControlSpec(**values)


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _unknown_profile(path: str, name: str, known: list[str]) -> str:
    return f"{path}: unknown profile {name!r} (valid: {', '.join(known)})"


def _profile_problem(path: str, fields: Mapping[str, Any], exc: Exception) -> str:
    """Place HardwareProfile's own error at the field it names, when it names one."""
    message = str(exc)
    named = [f for f in fields if message.startswith(f)] or [f for f in fields if f in message]
    if not named:
        return f"{path}: {message}"
    field = named[0]
    rest = message[len(field) :].lstrip(" :") if message.startswith(field) else message
    return f"{path}.{field}: {rest}"


def _build(model: ScenarioModel, g: nx.Graph, profiles: Mapping[str, HardwareProfile]) -> Scenario:
    nodes = tuple(NodeSpec(id=n, **d) for n, d in g.nodes(data=True))
    links = tuple(LinkSpec(a=u, b=v, **d) for u, v, d in g.edges(data=True))
    used = {n.hardware: profiles[n.hardware] for n in nodes}
    return Scenario(
        name=model.name,
        seed=model.seed,
        duration_s=model.duration_s,
        dilation=model.dilation,
        nodes=nodes,
        links=links,
        profiles=_FrozenMap(used),
        classical=ClassicalSpec(**model.classical.model_dump()),
        control=_control_spec(model.control),
        tenants=tuple(spec for t in model.tenants for spec in tenant_specs(t, g)),
        runtime=RuntimeSpec(**model.runtime.model_dump()),
        slices=tuple(SliceSpec(**s.model_dump()) for s in model.slices),
    )


def tenant_spec(model: TenantModel) -> TenantSpec:
    """The frozen spec of one validated two-node tenant (tenants added live): as
    :func:`~qnemu.scenario.groups.tenant_specs` builds it (a group app is a ValueError)."""
    if model.app in GROUP_APPS:
        raise ValueError(f"app: a {model.app} tenant has several nodes; give it in the scenario")
    (spec,) = tenant_specs(model, nx.Graph())
    return spec
