"""The YAML schema: pydantic models that forbid unknown keys, and the controller-name check."""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
)

from qnemu.control import registry
from qnemu.physics.hardware import HardwareProfile
from qnemu.scenario import topology
from qnemu.scenario.spec import (
    DEFAULT_ATTENUATION_DB_PER_KM,
    DEFAULT_HARDWARE,
    DEFAULT_MEMORIES,
    MAX_DURATION_S,
    MAX_LENGTH_KM,
    MAX_MEMORIES,
    MAX_NODES,
    MAX_PARTIES,
    Aggregation,
    AppName,
    ClassicalSpec,
    ControlSpec,
    Placement,
    Scheduling,
)

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


def _check_architecture(value: str) -> str:
    problem = registry.check_controller_name(value)
    if problem:
        raise ValueError(problem)
    return value


def _check_routing(value: str) -> str:
    problem = registry.check_routing(value)
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
    machine: Name | None = None
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
    routing: Annotated[str, AfterValidator(_check_routing)] = "qnum"
    scheduling: Scheduling = "asynchronous"
    k_paths: Count = ControlSpec.k_paths
    domains: dict[Name, list[Name]] | None = None
    cpu_scale: NonNegative = ControlSpec.cpu_scale
    decision_cost_s: NonNegative = ControlSpec.decision_cost_s
    admission: Literal["utility", "none"] = "utility"
    sharing: Literal["exclusive", "weighted_fair", "first_come"] = "weighted_fair"
    max_purification_rounds: Annotated[int, Field(ge=0, le=2)] = 2
    purification: Literal["dejmps", "bbpssw"] = "dejmps"
    recovery: Literal["auto", "on", "off"] = "auto"
    heartbeat_s: Annotated[Positive | None, BeforeValidator(_auto)] = None
    heartbeat_misses: Annotated[int, Field(ge=1, le=100)] = 3


class FaultModel(_Model):
    """One fault: ``at_s`` and exactly one target (``link``, ``node`` or ``controller``)
    with what happens to it (checked in ``resolve``)."""

    at_s: Annotated[float, Field(ge=0, le=MAX_DURATION_S)]
    link: Annotated[list[Name], Field(min_length=2, max_length=2)] | None = None
    node: Name | None = None
    controller: Name | None = None
    down_for_s: Positive | None = None
    crash_for_s: Positive | None = None
    for_s: Positive | None = None
    classical_loss: Annotated[float, Field(ge=0, le=1)] | None = None
    t2_s: Positive | None = None


class RuntimeModel(_Model):
    nodes_per_actor: Annotated[Count | None, BeforeValidator(_auto)] = None
    placement: Placement = "auto"


class CircuitModel(_Model):
    gates: Annotated[int, Field(ge=1, le=10_000)]


class SlaModel(_Model):
    probability: Annotated[float, Field(gt=0, lt=1)]
    window_s: Annotated[float, Field(gt=0, le=MAX_DURATION_S)]


class SliceModel(_Model):
    name: Name
    memory_share: Annotated[float, Field(gt=0, le=1)]
    attempt_share: Annotated[float, Field(gt=0, le=1)] = 1.0


class TenantModel(_Model):
    name: Name
    app: AppName
    # an ordinary tenant names src and dst; a ghz/sensing tenant its parties (and hub), a
    # qfl tenant its server and clients (resolve checks which)
    src: Name | None = None
    dst: Name | None = None
    rate_hz: Positive
    f_min: Annotated[float, Field(ge=0.5, le=1)]
    arrivals: Literal["poisson", "constant", "backlog"] = "poisson"
    at_s: Annotated[float, Field(ge=0, le=MAX_DURATION_S)] = 0.0
    until_s: Annotated[float, Field(gt=0, le=MAX_DURATION_S)] | None = None
    slice: Name | None = None
    sla: SlaModel | None = None
    circuit: CircuitModel | None = None
    parties: Annotated[list[Name], Field(min_length=2, max_length=MAX_PARTIES)] | None = None
    hub: Name | None = None
    server: Name | None = None
    clients: Annotated[list[Name], Field(min_length=1, max_length=MAX_NODES)] | None = None
    pairs_per_round: Annotated[int, Field(ge=1, le=10_000)] | None = None
    aggregation: Aggregation | None = None
    staleness: Annotated[int, Field(ge=0, le=10_000)] | None = None


_PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(HardwareProfile) if f.name != "name")


class _HardwareModel(_Model):
    # ``t1_s: .inf`` means no energy relaxation; HardwareProfile checks every other field
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=True)


def _hardware_entry_model() -> type[BaseModel]:
    """Schema of one ``hardware:`` entry: ``base`` plus any HardwareProfile field."""
    hints = typing.get_type_hints(HardwareProfile)
    fields: dict[str, Any] = {name: (hints[name] | None, None) for name in _PROFILE_FIELDS}
    return create_model(
        "HardwareEntry", __base__=_HardwareModel, base=(Name | None, None), **fields
    )


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
    slices: Annotated[list[SliceModel], _empty_if_none(list)] = []
    faults: Annotated[list[FaultModel], _empty_if_none(list)] = []
