"""Scenarios: YAML in, validated frozen dataclasses out.

A scenario is the *description* of an emulation (nodes, fibres, hardware, classical
plane, control plane, tenants). This module reads it from YAML (``yaml.safe_load``),
validates it with pydantic models that forbid unknown keys, and resolves it into frozen
plain dataclasses. It never imports Ray: only the runtime turns a scenario into actors.

Units: YAML field names carry their unit (``length_km``, ``t2_s``); the dataclasses keep
SI seconds and hertz, and km for lengths and positions (the field names say so).

Every problem in a scenario is reported at once, one line each, as
``path: problem, got value`` inside a :class:`~qnemu.errors.ScenarioError`.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import itertools
import re
import reprlib
import typing
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import networkx as nx
import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
)

from qnemu import topology
from qnemu.errors import ScenarioError, escape_controls
from qnemu.physics.analytic import renewal_link_rate_hz
from qnemu.physics.fiber import propagation_delay_s
from qnemu.physics.hardware import PROFILES, HardwareProfile, pair_t_long_eb, profile_t_long_eb
from qnemu.physics.link import link_model

__all__ = [
    "APPS",
    "ARCHITECTURES",
    "DEFAULT_HARDWARE",
    "DEFAULT_SCENARIO_PATH",
    "EXAMPLES_DIR",
    "MAX_DURATION_S",
    "MAX_LENGTH_KM",
    "MAX_MEMORIES",
    "MAX_NODES",
    "MAX_REPORTS",
    "MAX_WALL_S",
    "MAX_YAML_DEPTH",
    "MAX_YAML_VALUES",
    "ClassicalSpec",
    "ControlSpec",
    "LinkSpec",
    "NodeSpec",
    "RuntimeSpec",
    "Scenario",
    "ScenarioLoader",
    "TenantSpec",
    "apply_overrides",
    "check_controller_name",
    "describe",
    "load_scenario",
    "load_yaml",
    "parse_overrides",
]

EXAMPLES_DIR = Path(__file__).parent / "examples"
#: The scenario ``qnemu run`` uses when given none (shipped as package data).
DEFAULT_SCENARIO_PATH = EXAMPLES_DIR / "default.yaml"

AppName = Literal["qkd", "dqc", "dqs"]
Routing = Literal["qnum", "dijkstra"]
Scheduling = Literal["asynchronous", "synchronous"]
Placement = Literal["auto", "pack", "spread"]
#: Tenant applications known to the scenario schema.
APPS: tuple[str, ...] = typing.get_args(AppName)
#: Built-in control planes; a user controller is given as ``package.module:Class``.
ARCHITECTURES = ("centralized", "distributed", "hierarchical")
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
#: Longest fibre, hop, radius or area side in km (about the Earth's circumference).
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

    ``host`` pins the node to a machine (None: the runtime places it); ``x``/``y`` are a
    position in km, for drawing only.
    """

    id: str
    hardware: str
    memories: int
    host: str | None = None
    x: float | None = None
    y: float | None = None


@dataclass(frozen=True)
class LinkSpec:
    """One fibre between nodes ``a`` and ``b``."""

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
            raise KeyError(
                f"unknown node {node_id!r} (nodes: {_names(n.id for n in self.nodes)})")
        return found

    def profile_of(self, node_id: str) -> HardwareProfile:
        """The resolved hardware profile of node ``node_id``."""
        return self.profiles[self.node(node_id).hardware]

    def shortest_path(self, src: str, dst: str) -> list[str]:
        """Node ids of the shortest path by fibre length (KeyError / ValueError if none)."""
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
                "domains": None if self.control.domains is None else {
                    name: list(members) for name, members in self.control.domains.items()},
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


# --------------------------------------------------------------------------- YAML schema


def _auto(value: Any) -> Any:
    """Map the YAML word ``auto`` to None; other strings are an error, not a parse."""
    if isinstance(value, str):
        if value == "auto":
            return None
        raise ValueError(f"must be a number or 'auto', got {value!r}")
    return value


def _empty_if_none(empty: Any) -> BeforeValidator:
    """A YAML section left empty (``control:``) means all defaults."""
    return BeforeValidator(lambda v: empty() if v is None else v)


#: ``package.module:Class`` or ``path/to/file.py:Class``.
_CONTROLLER_NAME = re.compile(
    r"^(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|[^\x00-\x1f]+\.py):[A-Za-z_]\w*$")


def check_controller_name(value: str) -> str | None:
    """Why ``value`` cannot name a control plane, or None: a built-in architecture,
    ``package.module:Class`` or ``path/to/file.py:Class``. Checks the spelling only;
    nothing is imported."""
    if value in ARCHITECTURES or _CONTROLLER_NAME.match(value):
        return None
    return (f"unknown architecture {_fmt(value)} "
            f"(valid: {', '.join(ARCHITECTURES)}, or package.module:Class)")


def _check_architecture(value: str) -> str:
    problem = check_controller_name(value)
    if problem:
        raise ValueError(problem)
    return value


Name = Annotated[str, Field(min_length=1)]
Positive = Annotated[float, Field(gt=0)]
NonNegative = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=1)]
Unit = Annotated[float, Field(gt=0, le=1)]
Km = Annotated[float, Field(gt=0, le=MAX_LENGTH_KM)]
Memories = Annotated[int, Field(ge=1, le=MAX_MEMORIES)]
NodeCount = Annotated[int, Field(ge=1, le=MAX_NODES)]


class _Model(BaseModel):
    # allow_inf_nan=False: .inf and .nan are errors, never a run that does not end
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


class NodeModel(_Model):
    id: Name
    hardware: Name | None = None
    memories: Memories | None = None
    host: Name | None = None
    x: float | None = None
    y: float | None = None


class LinkModel(_Model):
    a: Name
    b: Name
    length_km: Km
    attenuation_db_per_km: NonNegative | None = None


class TopologyModel(_Model):
    generator: Name | None = None
    n: NodeCount | None = None
    hop_km: Km | None = None
    rows: NodeCount | None = None
    cols: NodeCount | None = None
    radius: Km | None = None
    area_km: Km | None = None
    alpha: Unit | None = None
    beta: Unit | None = None
    file: Name | None = None
    nodes: Annotated[list[NodeModel], Field(max_length=MAX_NODES)] | None = None
    links: Annotated[list[LinkModel], Field(max_length=topology.MAX_LINKS)] | None = None
    hardware: Name = DEFAULT_HARDWARE
    memories: Memories = DEFAULT_MEMORIES
    attenuation_db_per_km: NonNegative = DEFAULT_ATTENUATION_DB_PER_KM


class ClassicalModel(_Model):
    processing_s: NonNegative = ClassicalSpec.processing_s
    jitter_s: NonNegative = ClassicalSpec.jitter_s
    loss: Annotated[float, Field(ge=0, lt=1)] = ClassicalSpec.loss


class ControlModel(_Model):
    architecture: Annotated[str, AfterValidator(_check_architecture)] = ControlSpec.architecture
    cutoff_s: Annotated[Positive | None, BeforeValidator(_auto)] = None
    location: Name | None = None
    report_interval_s: Positive = ControlSpec.report_interval_s
    routing: Routing = "qnum"
    scheduling: Scheduling = "asynchronous"
    k_paths: Count = ControlSpec.k_paths
    domains: dict[Name, list[Name]] | None = None
    cpu_scale: NonNegative = ControlSpec.cpu_scale
    decision_cost_s: NonNegative = ControlSpec.decision_cost_s
    admission: Literal["utility", "none"] = "utility"
    sharing: Literal["exclusive", "weighted_fair", "first_come"] = "weighted_fair"
    max_purification_rounds: Annotated[int, Field(ge=0, le=2)] = 2
    purification: Literal["dejmps", "bbpssw"] = "dejmps"


class RuntimeModel(_Model):
    nodes_per_actor: Annotated[Count | None, BeforeValidator(_auto)] = None
    placement: Placement = "auto"


class TenantModel(_Model):
    name: Name
    app: AppName
    src: Name
    dst: Name
    rate_hz: Positive
    f_min: Annotated[float, Field(ge=0.5, le=1)]
    arrivals: Literal["poisson", "constant", "backlog"] = "poisson"


_PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(HardwareProfile) if f.name != "name")


class _HardwareModel(_Model):
    # ``t1_s: .inf`` means no energy relaxation; HardwareProfile checks every other field
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=True)


def _hardware_entry_model() -> type[BaseModel]:
    """Schema of one ``hardware:`` entry: ``base`` plus any HardwareProfile field."""
    hints = typing.get_type_hints(HardwareProfile)
    fields: dict[str, Any] = {name: (hints[name] | None, None) for name in _PROFILE_FIELDS}
    return create_model("HardwareEntry", __base__=_HardwareModel, base=(Name | None, None),
                        **fields)



HardwareEntry = _hardware_entry_model()


class ScenarioModel(_Model):
    name: Name = "scenario"
    seed: Annotated[int, Field(ge=0)] = 0
    duration_s: Annotated[float, Field(gt=0, le=MAX_DURATION_S)]
    dilation: Annotated[Annotated[float, Field(ge=1)] | None, BeforeValidator(_auto)] = None
    topology: TopologyModel
    hardware: Annotated[dict[Name, HardwareEntry], _empty_if_none(dict)] = {}  # type: ignore[valid-type]
    classical: Annotated[ClassicalModel, _empty_if_none(dict)] = ClassicalModel()
    control: Annotated[ControlModel, _empty_if_none(dict)] = ControlModel()
    runtime: Annotated[RuntimeModel, _empty_if_none(dict)] = RuntimeModel()
    tenants: Annotated[list[TenantModel], _empty_if_none(list)] = []


# ---------------------------------------------------------------- pydantic errors -> lines


def _loc_path(loc: Iterable[Any], max_parts: int = 8, max_key: int = 40) -> str:
    """``topology.links[2].length_km`` from pydantic's ``loc`` (or a YAML path).

    Keys are escaped to one line and cut to ``max_key`` characters; a path of more than
    ``max_parts`` parts keeps its first and last ones around ``...``.
    """
    parts = list(loc)
    if len(parts) > max_parts:
        parts = [*parts[: max_parts - 2], "...", *parts[-2:]]
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        text = escape_controls(str(part))
        text = text if len(text) <= max_key else text[: max_key - 3] + "..."
        out += f".{text}" if out and part != "..." else text
    return out


#: Short reprs that never build the whole value (a YAML alias bomb has billions of items).
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 3, 5, 5, 4
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 50, 50, 40
_FMT_CHARS = 60


def _fmt(value: Any) -> str:
    """A value as the user wrote it in YAML, kept short (at most 60 characters)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        text = escape_controls(_SHORT.repr(value))
    except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
        text = f"<a {type(value).__name__} too long to print>"
    return text if len(text) <= _FMT_CHARS else text[: _FMT_CHARS - 3] + "..."


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``list[M]``, ``dict[str, M]``, ``M | None``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel], loc: Iterable[Any]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is not None and isinstance(part, str) and part in model.model_fields:
            model = _model_in(model.model_fields[part].annotation)
        # list indices and dict keys leave the model as it is
    return model


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "finite_number": "a finite number",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
#: The named bound behind a field's upper limit, quoted in its error.
_BOUND_NAMES = {
    "length_km": "MAX_LENGTH_KM", "hop_km": "MAX_LENGTH_KM", "radius": "MAX_LENGTH_KM",
    "area_km": "MAX_LENGTH_KM", "memories": "MAX_MEMORIES", "n": "MAX_NODES",
    "rows": "MAX_NODES", "cols": "MAX_NODES", "duration_s": "MAX_DURATION_S",
    "nodes": "MAX_NODES", "links": "MAX_LINKS",
}
_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


def _problem(error: Mapping[str, Any], root: type[BaseModel], prefix: tuple = ()) -> str:
    loc = (*prefix, *error["loc"])
    path, kind, got = _loc_path(loc) or "scenario", error["type"], _fmt(error.get("input"))
    if kind == "missing":
        return f"{path}: required"
    if loc and loc[-1] == "[key]":  # YAML read `true:` or `1:` as a bool or a number
        where = _loc_path([*loc[:-2], _fmt(error.get("input"))])
        return f"{where}: a key must be a string, got {got} (quote it: '{got}')"
    if kind == "extra_forbidden":
        parent = _model_at(root, error["loc"][:-1])
        valid = f" (valid: {', '.join(parent.model_fields)})" if parent else ""
        return f"{path}: unknown key{valid}"
    named = _BOUND_NAMES.get(str(loc[-1])) if loc else None
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        bound = error["ctx"][key]
        bound = f"{bound:g}" if isinstance(bound, float) else bound
        name = f" ({named})" if named and sign.startswith("<") else ""
        return f"{path}: must be {sign} {bound}{name}, got {got}"
    if kind == "too_long":
        name = f" ({named})" if named else ""
        return (f"{path}: at most {error['ctx']['max_length']} items{name}, "
                f"got {error['ctx'].get('actual_length', 'more')}")
    if kind in _TYPE_WORDS:
        return f"{path}: must be {_TYPE_WORDS[kind]}, got {got}"
    if kind == "literal_error":
        return f"{path}: must be {error['ctx']['expected']}, got {got}"
    if kind == "string_too_short":
        return f"{path}: must not be empty"
    if kind == "value_error":
        return f"{path}: {error['ctx']['error']}"
    message = error["msg"]
    return f"{path}: {message[:1].lower()}{message[1:]}, got {got}"


def _validate(
    model: type[BaseModel], data: Any, problems: list[str] | None, prefix: tuple = ()
) -> Any:
    """``model`` validated from ``data``, or None with each problem appended as a line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        if problems is not None:
            problems.extend(_problem(e, model, prefix) for e in exc.errors())
        return None


# ------------------------------------------------------------------------------- loading


def load_scenario(
    source: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Load, validate and resolve a scenario.

    ``source`` is a YAML file path, YAML text (a string with a newline) or an already
    parsed mapping. ``overrides`` maps dotted paths (``topology.hop_km``,
    ``hardware.trapped_ion.t2_s``, ``tenants.0.rate_hz``) to values set on the raw
    scenario before validation. A ``topology.file`` path is relative to the scenario
    file (to the working directory for text or a mapping). Raises :class:`ScenarioError`
    listing every problem.
    """
    raw, base_dir, default_name = _read_source(source)
    if overrides:
        raw = apply_overrides(raw, overrides)
    if default_name and "name" not in raw:
        raw["name"] = default_name
    return _Resolver(raw, base_dir).scenario()


def _read_source(source: str | Path | Mapping[str, Any]) -> tuple[dict, Path, str | None]:
    if isinstance(source, Mapping):
        _check_size(dict(source), "scenario")
        return copy.deepcopy(dict(source)), Path.cwd(), None
    if isinstance(source, str) and "\n" in source:
        return _parse_yaml(source, "scenario"), Path.cwd(), None
    path = Path(source)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "scenario file not found"
        raise ScenarioError(f"{path}: {reason}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    return _parse_yaml(text, _short_path(path)), path.parent, path.stem


def _short_path(path: Path, limit: int = 80) -> str:
    """``path`` for an error line: its tail when longer than ``limit`` characters, so that
    the problem after it still fits the line."""
    text = str(path)
    return text if len(text) <= limit else "..." + text[-(limit - 3):]


def _parse_yaml(text: str, where: str) -> dict:
    data = load_yaml(text, where)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ScenarioError(f"{where}: the top level must be a mapping of keys, got {kind}")
    return data


#: YAML 1.2 floats: ``1e-6``, ``2E3``, ``.5``, ``-1.5e+3``, ``.inf`` (YAML 1.1, which
#: PyYAML follows, wants a dot and a signed exponent, so reads ``1e-6`` as a string).
_FLOAT = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+
    |[-+]?[0-9][0-9_]*\.[0-9_]*
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)
_FLOAT_TAG = "tag:yaml.org,2002:float"


class ScenarioLoader(yaml.SafeLoader):
    """Safe YAML loading for scenarios, overrides and sweeps.

    Differs from ``yaml.SafeLoader`` in two ways: numbers written the way people write
    them (``1e-6``, ``2E3``, ``.5``) are floats, and a document nested deeper than
    :data:`MAX_YAML_DEPTH` levels is a YAML error naming the path where it happened.
    Expanded size (alias bombs) is checked on the loaded data by :func:`load_yaml`.
    """

    yaml_implicit_resolvers: typing.ClassVar[dict] = {
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[Any] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose as usual, keeping the path of keys and indices to refuse deep nesting."""
        if isinstance(index, yaml.ScalarNode):
            part: Any = index.value
        elif isinstance(index, int) and not isinstance(index, bool):
            part = index
        else:
            part = "<key>" if parent is not None else None
        if part is not None:
            self._path.append(part)
        try:
            if len(self._path) > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None,
                    f"{_loc_path(self._path)}: nested deeper than {MAX_YAML_DEPTH} levels "
                    f"(MAX_YAML_DEPTH)",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            if part is not None:
                self._path.pop()


ScenarioLoader.yaml_implicit_resolvers = {  # floats first, as in yaml.SafeLoader
    first: [(_FLOAT_TAG, _FLOAT), *resolvers] if first in "-+0123456789." else resolvers
    for first, resolvers in ScenarioLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, where: str) -> Any:
    """``text`` read with :class:`ScenarioLoader`; ScenarioError naming ``where`` when it is
    not YAML, is nested too deep, or expands (through aliases) to too many values."""
    try:
        data = yaml.load(text, Loader=ScenarioLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{where}: invalid YAML{at}: {reason}") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ScenarioError(f"{where}: invalid YAML: {exc}") from None
    _check_size(data, where)
    return data


def _check_size(data: Any, where: str) -> None:
    """ScenarioError when ``data`` is nested too deep or has too many values once shared
    parts (YAML aliases) are counted every time they appear; names the biggest key."""
    sizes: dict[int, int] = {}
    parts = data.items() if isinstance(data, dict) else [(None, data)]
    total = 1
    biggest: tuple[int, Any] = (0, None)
    for key, value in parts:
        size = _expanded_size(value, sizes, [key] if key is not None else [])
        total += size
        biggest = max(biggest, (size, key), key=lambda pair: pair[0])
    if total > MAX_YAML_VALUES:
        at = f"{_loc_path([biggest[1]])}: " if biggest[1] is not None else ""
        raise ScenarioError(
            f"{where}: {at}expands to {_count(biggest[0])} values through aliases, above the bound "
            f"of {MAX_YAML_VALUES:,} (MAX_YAML_VALUES)"
        )


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about {n:.2e}"


def _expanded_size(value: Any, sizes: dict[int, int], path: list[Any]) -> int:
    """Values in ``value`` with shared containers counted each time (memoised by id)."""
    if not isinstance(value, (dict, list, tuple)):
        return 1
    known = sizes.get(id(value))
    if known is not None:
        return known
    if len(path) > MAX_YAML_DEPTH:
        raise ScenarioError(
            f"{_loc_path(path)}: nested deeper than {MAX_YAML_DEPTH} levels (MAX_YAML_DEPTH)"
        )
    keyed = isinstance(value, dict)  # a key is one value more
    items = value.items() if keyed else enumerate(value)
    size = 1 + sum(keyed + _expanded_size(child, sizes, [*path, key]) for key, child in items)
    sizes[id(value)] = size
    return size


# ----------------------------------------------------------------------------- overrides

_SECTIONS = ("topology", "hardware", "classical", "control", "runtime")


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["topology.hop_km=20", "control.cutoff_s=auto"]`` -> a dict for ``overrides``.

    Each value is read as YAML (``20`` is a number, ``auto`` a string, ``[1, 2]`` a list).
    """
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        path, sep, text = item.partition("=")
        if not sep or not path.strip():
            problems.append(f"{item}: an override must look like path.to.key=value")
            continue
        try:
            out[path.strip()] = load_yaml(text, path.strip())
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return out


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``raw`` with each dotted-path override set.

    Missing optional sections (``control``, ``hardware.<built-in>``, ...) are created;
    any other missing parent is a :class:`ScenarioError` naming it.
    """
    out = copy.deepcopy(dict(raw))
    problems = []
    for path, value in overrides.items():
        problem = _set_path(out, path, value)
        if problem:
            problems.append(problem)
    if problems:
        raise ScenarioError(problems)
    return out


def _creatable(keys: list[str]) -> bool:
    if len(keys) == 1:
        return keys[0] in _SECTIONS
    return len(keys) == 2 and keys[0] == "hardware" and keys[1] in PROFILES


def _set_path(root: dict, path: str, value: Any) -> str | None:
    keys = path.split(".")
    if not all(keys):
        return f"{path}: not a dotted path"
    node: Any = root
    for depth, key in enumerate(keys):
        here = ".".join(keys[: depth + 1])
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                return f"{path}: cannot override, '{here}' does not exist ({len(node)} items)"
            index: Any = int(key)
        elif isinstance(node, dict):
            index = key
            if not last and node.get(key) is None:
                if not _creatable(keys[: depth + 1]):
                    return f"{path}: cannot override, '{here}' does not exist"
                node[key] = {}
        else:
            return f"{path}: cannot override, '{'.'.join(keys[:depth])}' is not a mapping"
        if last:
            node[index] = value
        else:
            node = node[index]
    return None


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
        self._check_control(sections["control"], graph)
        if self.problems or model is None or graph is None:
            raise ScenarioError(self.problems or ["scenario: invalid"])
        return _build(model, graph, profiles)

    def _check_run_length(self, model: ScenarioModel) -> None:
        """Bounds that involve two fields: wall time (duration x dilation, in s) and the
        number of reports a node sends its controller."""
        wall_s = model.duration_s * (model.dilation or 1.0)
        if wall_s > MAX_WALL_S:
            self.problems.append(
                f"dilation: duration_s x dilation = {wall_s:.3g} wall seconds, above the bound "
                f"of {MAX_WALL_S:g} s (MAX_WALL_S), got {_fmt(model.dilation)}")
        reports = model.duration_s / model.control.report_interval_s
        if reports > MAX_REPORTS:
            self.problems.append(
                f"control.report_interval_s: duration_s / report_interval_s = {reports:.3g} "
                f"reports per node, above the bound of {MAX_REPORTS:,} (MAX_REPORTS), "
                f"got {_fmt(model.control.report_interval_s)}")

    def _sections(self, model: ScenarioModel | None) -> dict[str, Any]:
        if model is not None:
            return {
                "seed": model.seed,
                "topology": model.topology,
                "hardware": model.hardware,
                "tenants": list(model.tenants),
                "control": model.control,
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
        if name == "file":
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
                host=data.get("host"),
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
                host=node.host,
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
            if g is not None:
                self._check_route(path, tenant, g)

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
                    self.problems.append(f"control.domains.{name}: unknown node {node!r} "
                                         f"(nodes: {_names(g.nodes)})")
                elif node in seen:
                    self.problems.append(f"control.domains.{name}: node {node!r} is already "
                                         f"in domain {seen[node]!r}")
                else:
                    seen[node] = name
        missing = [n for n in g.nodes if n not in seen]
        if missing:
            self.problems.append(f"control.domains: do not cover the nodes "
                                 f"{', '.join(map(str, missing))}")


def _control_spec(model: ControlModel) -> ControlSpec:
    values = model.model_dump()
    if values["domains"] is not None:
        values["domains"] = _FrozenMap(
            {name: tuple(members) for name, members in values["domains"].items()})
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
        tenants=tuple(TenantSpec(**t.model_dump()) for t in model.tenants),
        runtime=RuntimeSpec(**model.runtime.model_dump()),
    )


# ------------------------------------------------------------------------------ describe


def describe(scenario: Scenario) -> str:
    """Human-readable summary for ``qnemu validate``: nodes, links with their physics,
    profiles with derived T_longEB, and tenants with their shortest path."""
    s = scenario
    dilation = "auto" if s.dilation is None else f"{s.dilation:g}"
    lines = [
        f"Scenario {s.name!r}: seed {s.seed}, {s.duration_s:g} s emulated, dilation {dilation}",
        "",
        f"Nodes ({len(s.nodes)}):",
    ]
    width = max(len(n.id) for n in s.nodes)
    lines += [f"  {n.id:<{width}}  {n.hardware:<28} memories {n.memories}" for n in s.nodes]
    lines += ["", f"Links ({len(s.links)}):"]
    lines += [_describe_link(s, link) for link in s.links]
    lines += ["", "Profiles:"]
    lines += [_describe_profile(p) for p in s.profiles.values()]
    lines += ["", f"Tenants ({len(s.tenants)}):"]
    lines += [_describe_tenant(s, t) for t in s.tenants]
    c = s.control
    cutoff = "auto" if c.cutoff_s is None else f"{c.cutoff_s * 1e3:g} ms"
    lines += [
        "",
        f"Control: {c.architecture}, routing {c.routing}, scheduling {c.scheduling}, "
        f"cutoff {cutoff}" + (f", at {c.location}" if c.location else ""),
    ]
    return "\n".join(lines)


def _seconds(value: float) -> str:
    """A duration with a readable unit: 90.3 ms, 49 µs, 1.17 s, inf s."""
    if value == 0:
        return "0 s"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(value) >= scale or unit == "ns":
            return f"{value / scale:.3g} {unit}"
    return f"{value:g} s"  # pragma: no cover - the loop always returns


def _describe_link(s: Scenario, link: LinkSpec) -> str:
    m = link_model(
        s.profile_of(link.a), s.profile_of(link.b), link.length_km, link.attenuation_db_per_km
    )
    # a memory pair renews after its herald round trip (pair used at once): the most it makes
    hold = 2.0 * m.herald_delay_s + s.classical.processing_s
    rate = renewal_link_rate_hz(m.p_attempt, m.period_s, hold)
    both = pair_t_long_eb(m.initial_state(), s.profile_of(link.a), s.profile_of(link.b))
    return (
        f"  {link.a}-{link.b}: {link.length_km:g} km, η {m.fiber_transmissivity:.3g}, "
        f"one-way delay {_seconds(propagation_delay_s(link.length_km))}, "
        f"p/attempt {m.p_attempt:.3g}, up to {rate:.3g} pairs/s per memory pair, "
        f"F0 {m.initial_fidelity:.3f}, T_longEB (both halves stored) {_seconds(both)}"
    )


def _describe_profile(p: HardwareProfile) -> str:
    return (
        f"  {p.name}: T1 {_seconds(p.t1_s)}, T2 {_seconds(p.t2_s)}, "
        f"T_longEB (one half stored) {_seconds(profile_t_long_eb(p))}, "
        f"source fidelity {p.source_fidelity:g}, "
        f"modes {p.modes}, attempt rate {p.attempt_rate_hz:g} Hz"
    )


def _describe_tenant(s: Scenario, t: TenantSpec) -> str:
    path = s.shortest_path(t.src, t.dst)
    g = s.graph()
    km = sum(g.edges[u, v]["length_km"] for u, v in itertools.pairwise(path))
    hops = len(path) - 1
    return (
        f"  {t.name} ({t.app}): {t.src} -> {t.dst}, {t.rate_hz:g} Hz, F_min {t.f_min:g}, "
        f"shortest path {'-'.join(path)} ({hops} hop{'s' * (hops != 1)}, {km:g} km)"
    )
