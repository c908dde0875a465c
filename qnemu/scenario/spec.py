"""Scenario spec: the validated, frozen description of an emulation.

Plain dataclasses (SI seconds and hertz; km for lengths and positions, as the field
names say) and the bounds validation enforces. Nothing here imports Ray.
"""

from __future__ import annotations

import dataclasses
import functools
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

AppName = Literal["qkd", "dqc", "dqs"]
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
    only the tenant's weight in Q-NUM).
    """

    name: str
    app: str
    src: str
    dst: str
    rate_hz: float
    f_min: float
    arrivals: str = "poisson"


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
                "domains": None
                if self.control.domains is None
                else {name: list(members) for name, members in self.control.domains.items()},
            },
            "runtime": {
                **dataclasses.asdict(self.runtime),
                "nodes_per_actor": _auto_out(self.runtime.nodes_per_actor),
            },
            "tenants": [dataclasses.asdict(t) for t in self.tenants],
        }


def _auto_out(value: Any) -> Any:
    return "auto" if value is None else value


def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _names(names: Iterable[str], limit: int = 12) -> str:
    names = list(names)
    shown = ", ".join(names[:limit])
    return f"{shown}, ... ({len(names)} in all)" if len(names) > limit else shown
