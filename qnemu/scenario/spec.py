"""Scenario spec: the validated, frozen description of an emulation.

Plain dataclasses (SI seconds and hertz; km for lengths and positions, as the field
names say) and the bounds validation enforces. Nothing here imports Ray.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx

from qnemu.control import registry
from qnemu.examples import EXAMPLES_DIR
from qnemu.physics.hardware import PROFILES, HardwareProfile
from qnemu.scenario import topology

#: The scenario ``qnemu run`` uses when given none (shipped as package data).
DEFAULT_SCENARIO_PATH = EXAMPLES_DIR / "default.yaml"

AppName = Literal["qkd", "dqc", "dqs", "teleport", "ghz", "sensing", "qfl"]
#: Apps of a tenant that spans several nodes: ``parties`` (GHZ, sensing) or a server and
#: its clients (QFL); each is planned as Bell-pair sub-tenants (:class:`GroupSpec`).
GROUP_APPS: tuple[str, ...] = ("ghz", "sensing", "qfl")
#: Most parties of one GHZ state (its density matrix is 2^6 x 2^6).
MAX_PARTIES = 6
#: How a QFL server aggregates: waits for every client, or takes each update on arrival.
Aggregation = Literal["sync", "async"]
Scheduling = Literal["asynchronous", "synchronous"]
Placement = Literal["auto", "pack", "spread"]
#: Tenant applications known to the scenario schema.
APPS: tuple[str, ...] = typing.get_args(AppName)
#: Built-in control planes; a user controller is given as ``package.module:Class``.
ARCHITECTURES = registry.ARCHITECTURES
#: Hardware of generated nodes when the scenario names none.
DEFAULT_HARDWARE = "trapped_ion"
DEFAULT_MEMORIES = 4
DEFAULT_ATTENUATION_DB_PER_KM = 0.2

# Upper bounds (README, "Bounds"): beyond them a run would not finish or not fit in
# memory, so validation rejects the scenario and names the bound.
#: Nodes in one topology (generated, explicit or from a file).
MAX_NODES = topology.MAX_NODES
#: Memory slots of one node.
MAX_MEMORIES = 1_000
#: Emulated seconds of one run (``duration_s``).
MAX_DURATION_S = 3_600.0
#: Wall seconds of one real-time run, ``duration_s * dilation`` (one day).
MAX_WALL_S = 86_400.0
#: Longest fiber, hop, radius or area side in km (about the Earth's circumference).
MAX_LENGTH_KM = 40_000.0
#: Most reports a node sends its controller in one run (``duration_s / report_interval_s``).
MAX_REPORTS = 1_000_000
#: Values in one YAML document once its aliases are expanded (alias bombs).
MAX_YAML_VALUES = 1_000_000
#: Nesting levels of one YAML document (a scenario needs about six).
MAX_YAML_DEPTH = 64


# --------------------------------------------------------------------------- dataclasses


class _FrozenMap(Mapping[str, Any]):
    """A read-only mapping that, unlike ``MappingProxyType``, pickles (for Ray)."""

    __slots__ = ("_data",)

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = dict(data)

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(tuple(sorted(self._data.items())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._data!r})"


@dataclass(frozen=True)
class NodeSpec:
    """One quantum node: its name, hardware profile name and memory slots.

    ``machine`` pins the node to a machine (None: the runtime places it); ``x``/``y`` are a
    position in km, for drawing only.
    """

    id: str
    hardware: str
    memories: int
    machine: str | None = None
    x: float | None = None
    y: float | None = None


@dataclass(frozen=True)
class LinkSpec:
    """One fiber between nodes ``a`` and ``b``."""

    a: str
    b: str
    length_km: float
    attenuation_db_per_km: float = DEFAULT_ATTENUATION_DB_PER_KM


@dataclass(frozen=True)
class TenantSpec:
    """A tenant asking for ``src``-``dst`` pairs at ``rate_hz`` with fidelity >= ``f_min``.

    ``rate_hz`` is a demand: requests arrive at ``src`` at that rate (``arrivals``:
    ``poisson`` or evenly spaced, ``constant``) and each delivered pair serves one;
    ``backlog``: a request is always waiting (capacity measurements; ``rate_hz`` is then
    only the tenant's weight in Q-NUM). ``circuit`` (``dqc`` only): ``{"gates": K}`` runs
    the remote gates as circuits of K sequential gates (docs/apps.md).
    """

    name: str
    app: str
    src: str
    dst: str
    rate_hz: float
    f_min: float
    arrivals: str = "poisson"
    circuit: Mapping[str, int] | None = None
    #: emulated time the tenant arrives (its path is set up then) and leaves (None: never)
    at_s: float = 0.0
    until_s: float | None = None
    #: the slice whose reserved memories (and attempts) serve it (None: the shared rest)
    slice: str | None = None
    #: a probabilistic service-level agreement (None: best effort)
    sla: SlaSpec | None = None
    #: the multi-node tenant this Bell-pair sub-tenant serves (None: an ordinary tenant)
    group: GroupSpec | None = None


@dataclass(frozen=True)
class GroupSpec:
    """A tenant of several nodes, planned as one Bell-pair sub-tenant per member.

    ``ghz`` / ``sensing``: ``members`` are the parties; sub-tenant ``NAME/party`` runs
    from ``center`` (the hub) to the party (none for a party that is the hub itself).
    ``qfl``: ``members`` are the clients; sub-tenant ``NAME/client`` runs from the client
    to ``center`` (the server); a round needs ``pairs_per_round`` pairs from each client,
    aggregated ``sync`` or ``async`` (an update at most ``staleness`` versions old is
    accepted). docs/apps.md describes the protocols.
    """

    name: str
    app: str
    center: str
    members: tuple[str, ...]
    pairs_per_round: int = 1
    aggregation: str = "sync"
    staleness: int | None = None

    def member_tenant(self, member: str) -> str:
        """The sub-tenant's name for one member: ``NAME/member``."""
        return f"{self.name}/{member}"

    def to_dict(self) -> dict[str, Any]:
        """The tenant fields that describe the group in YAML."""
        if self.app == "qfl":
            out: dict[str, Any] = {
                "server": self.center,
                "clients": list(self.members),
                "pairs_per_round": self.pairs_per_round,
                "aggregation": self.aggregation,
            }
            return out if self.staleness is None else {**out, "staleness": self.staleness}
        return {"parties": list(self.members), "hub": self.center}


@dataclass(frozen=True)
class SlaSpec:
    """A quantum SLA: in each window of ``window_s`` the tenant receives at least
    ``rate_hz x window_s`` pairs above its ``f_min`` with probability >= ``probability``."""

    probability: float
    window_s: float


#: Fault kinds, each with the target it takes (see README, "Faults").
FAULT_KINDS = {
    "link_down": "link",
    "classical_loss": "link",
    "node_crash": "node",
    "memory_t2": "node",
    "controller_down": "controller",
}


@dataclass(frozen=True)
class FaultSpec:
    """A fault at emulated time ``at_s`` on ``target`` (a link's two ends, a node, or a
    controller site), lasting ``for_s`` (None: to the end of the run). ``value``: the
    loss probability (``classical_loss``) or the degraded T2 in s (``memory_t2``)."""

    kind: str
    target: tuple[str, ...]
    at_s: float
    for_s: float | None = None
    value: float | None = None

    @property
    def until_s(self) -> float:
        """When the fault ends (inf: never)."""
        return math.inf if self.for_s is None else self.at_s + self.for_s

    @property
    def label(self) -> str:
        """The target as one name: ``a~b`` for a link (as ``links`` names it), else itself."""
        return "~".join(self.target)

    def to_dict(self) -> dict[str, Any]:
        """The YAML form :func:`load_scenario` reads back."""
        where = FAULT_KINDS[self.kind]
        out: dict[str, Any] = {
            "at_s": self.at_s,
            where: list(self.target) if where == "link" else self.target[0],
        }
        duration = {"link_down": "down_for_s", "controller_down": "down_for_s"}
        duration["node_crash"] = "crash_for_s"
        if self.kind == "classical_loss":
            out["classical_loss"] = self.value
        elif self.kind == "memory_t2":
            out["t2_s"] = self.value
        key = duration.get(self.kind, "for_s")
        if self.for_s is not None:
            out[key] = self.for_s
        return out


@dataclass(frozen=True)
class SliceSpec:
    """A network slice: ``memory_share`` of every node's memory slots reserved for its
    tenants; its memory pairs attempt at ``attempt_share`` of a link's attempt rate (the
    heralding station's time, divided)."""

    name: str
    memory_share: float
    attempt_share: float = 1.0


@dataclass(frozen=True)
class ClassicalSpec:
    """The classical plane: per-hop processing time, jitter (both s) and loss probability."""

    processing_s: float = 1e-5
    jitter_s: float = 0.0
    loss: float = 0.0


@dataclass(frozen=True)
class ControlSpec:
    """The control plane. ``cutoff_s`` None: chosen automatically from the hardware."""

    architecture: str = "distributed"
    cutoff_s: float | None = None
    location: str | None = None
    report_interval_s: float = 1e-3
    routing: str = "qnum"
    scheduling: str = "asynchronous"
    k_paths: int = 4
    #: domain name -> its nodes (hierarchical control); None: graph communities
    domains: Mapping[str, tuple[str, ...]] | None = None
    #: multiplies controllers' compute time (emulate slower/faster hardware)
    cpu_scale: float = 1.0
    #: virtual time's deterministic compute model: seconds charged per controller event
    #: handled (real time measures instead); default calibrated on a 2-core laptop
    decision_cost_s: float = 1e-5
    #: "utility": reject a tenant whose admission lowers total utility; "none": admit all
    admission: str = "utility"
    #: how a bottleneck link's attempts are shared among tenants
    sharing: str = "weighted_fair"
    #: most rounds of end-to-end purification Q-NUM may choose (0: never purify)
    max_purification_rounds: int = 2
    purification: str = "dejmps"
    #: fault detection and recovery (heartbeats, re-routing): "auto" (on when the
    #: scenario lists faults), "on" or "off"
    recovery: str = "auto"
    #: how often a node tells each fiber neighbor it is alive (None: derived, see
    #: ``node.liveness``); a neighbor silent for ``heartbeat_misses`` of them is down
    heartbeat_s: float | None = None
    heartbeat_misses: int = 3


@dataclass(frozen=True)
class RuntimeSpec:
    """Placement of nodes on actors. ``nodes_per_actor`` None: chosen by the runtime."""

    nodes_per_actor: int | None = None
    placement: str = "auto"


@dataclass(frozen=True)
class Scenario:
    """A validated, resolved scenario. ``dilation`` None: chosen by the runtime.

    ``profiles`` holds every hardware profile a node uses, with the scenario's
    overrides applied.
    """

    name: str
    seed: int
    duration_s: float
    dilation: float | None
    nodes: tuple[NodeSpec, ...]
    links: tuple[LinkSpec, ...]
    profiles: Mapping[str, HardwareProfile]
    classical: ClassicalSpec
    control: ControlSpec
    tenants: tuple[TenantSpec, ...]
    runtime: RuntimeSpec
    slices: tuple[SliceSpec, ...] = ()
    #: faults injected on the emulated timeline (``qnemu.faults``)
    faults: tuple[FaultSpec, ...] = ()

    @property
    def recovery(self) -> bool:
        """Whether nodes watch their links and controllers re-route (``control.recovery``)."""
        if self.control.recovery == "auto":
            return bool(self.faults)
        return self.control.recovery == "on"

    def graph(self) -> nx.Graph:
        """A fresh networkx graph: node attrs from :class:`NodeSpec`, edge attrs from links."""
        g = nx.Graph()
        for node in self.nodes:
            g.add_node(node.id, **{k: v for k, v in dataclasses.asdict(node).items() if k != "id"})
        for link in self.links:
            g.add_edge(
                link.a,
                link.b,
                length_km=link.length_km,
                attenuation_db_per_km=link.attenuation_db_per_km,
            )
        return g

    @functools.cached_property
    def _node_index(self) -> dict[str, NodeSpec]:
        """Node id -> its spec, built once (``node`` is called inside loops over links)."""
        return {node.id: node for node in self.nodes}

    def node(self, node_id: str) -> NodeSpec:
        """The node named ``node_id``; KeyError naming the valid ones otherwise."""
        found = self._node_index.get(node_id)
        if found is None:
            raise KeyError(f"unknown node {node_id!r} (nodes: {_names(n.id for n in self.nodes)})")
        return found

    def profile_of(self, node_id: str) -> HardwareProfile:
        """The resolved hardware profile of node ``node_id``."""
        return self.profiles[self.node(node_id).hardware]

    def shortest_path(self, src: str, dst: str) -> list[str]:
        """Node ids of the shortest path by fiber length (KeyError / ValueError if none)."""
        self.node(src)
        self.node(dst)
        try:
            return nx.shortest_path(self.graph(), src, dst, weight="length_km")
        except nx.NetworkXNoPath:
            raise ValueError(f"{dst!r} is not reachable from {src!r}") from None

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as plain data that :func:`load_scenario` accepts back.

        Nodes and links are listed explicitly; every used profile that is not an
        unmodified built-in is written out with all its fields.
        """
        hardware = {
            name: {k: v for k, v in dataclasses.asdict(p).items() if k != "name"}
            for name, p in self.profiles.items()
            if PROFILES.get(name) != p
        }
        return {
            "name": self.name,
            "seed": self.seed,
            "duration_s": self.duration_s,
            "dilation": _auto_out(self.dilation),
            "topology": {
                "nodes": [_drop_none(dataclasses.asdict(n)) for n in self.nodes],
                "links": [dataclasses.asdict(link) for link in self.links],
            },
            "hardware": hardware,
            "classical": dataclasses.asdict(self.classical),
            "control": {
                **dataclasses.asdict(self.control),
                "cutoff_s": _auto_out(self.control.cutoff_s),
                "heartbeat_s": _auto_out(self.control.heartbeat_s),
                "domains": None
                if self.control.domains is None
                else {name: list(members) for name, members in self.control.domains.items()},
            },
            "runtime": {
                **dataclasses.asdict(self.runtime),
                "nodes_per_actor": _auto_out(self.runtime.nodes_per_actor),
            },
            "tenants": _tenants_out(self.tenants),
            **({"slices": [dataclasses.asdict(s) for s in self.slices]} if self.slices else {}),
            **({"faults": [f.to_dict() for f in self.faults]} if self.faults else {}),
        }


#: Tenant fields written out only when set (scenarios without them read back unchanged).
_TENANT_OPTIONAL = {"at_s": 0.0, "until_s": None, "slice": None, "sla": None, "group": None}


def _tenant_out(tenant: TenantSpec) -> dict[str, Any]:
    out = dataclasses.asdict(tenant)
    return {k: v for k, v in out.items() if k not in _TENANT_OPTIONAL or v != _TENANT_OPTIONAL[k]}


def _tenants_out(tenants: Iterable[TenantSpec]) -> list[dict[str, Any]]:
    """The YAML tenants: each group once (where its first sub-tenant is), as written."""
    out: list[dict[str, Any]] = []
    groups: set[str] = set()
    for tenant in tenants:
        if tenant.group is None:
            out.append(_tenant_out(tenant))
        elif tenant.group.name not in groups:
            groups.add(tenant.group.name)
            member = _tenant_out(tenant)
            del member["src"], member["dst"], member["group"]
            out.append({**member, "name": tenant.group.name, **tenant.group.to_dict()})
    return out


def _auto_out(value: Any) -> Any:
    return "auto" if value is None else value


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _names(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return f"{shown}, ... ({len(names)} in all)" if len(names) > limit else shown
