"""Scenarios: YAML in, validated frozen dataclasses out.

A scenario is the *description* of an emulation (nodes, fibers, hardware, classical
plane, control plane, tenants). :mod:`.yaml_text` reads YAML safely, :mod:`.schema`
validates it with pydantic models that forbid unknown keys, :mod:`.problems` turns
validation errors into one line each (``path: problem, got value``, inside a
:class:`~qnemu.errors.ScenarioError`), :mod:`.overrides` applies ``--set`` paths,
:mod:`.resolve` builds the frozen :mod:`.spec` dataclasses, :mod:`.topology` generates
graphs and :mod:`.describe` prints a resolved scenario. Nothing here imports Ray.
"""

from qnemu.control.registry import check_controller_name
from qnemu.scenario.describe import describe
from qnemu.scenario.loading import load_scenario
from qnemu.scenario.overrides import apply_overrides, parse_overrides
from qnemu.scenario.spec import (
    APPS,
    ARCHITECTURES,
    DEFAULT_HARDWARE,
    DEFAULT_SCENARIO_PATH,
    EXAMPLES_DIR,
    MAX_DURATION_S,
    MAX_LENGTH_KM,
    MAX_MEMORIES,
    MAX_NODES,
    MAX_REPORTS,
    MAX_WALL_S,
    MAX_YAML_DEPTH,
    MAX_YAML_VALUES,
    ClassicalSpec,
    ControlSpec,
    LinkSpec,
    NodeSpec,
    RuntimeSpec,
    Scenario,
    TenantSpec,
)
from qnemu.scenario.yaml_text import ScenarioLoader, load_yaml

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
