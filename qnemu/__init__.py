"""qnemu: a quantum network emulator.

Each quantum node runs as a Ray actor holding its quantum memories; nodes exchange
real, timed classical messages; control planes are swappable. The public API:

- :func:`load_scenario` / :class:`Scenario`: validated scenario descriptions;
- :class:`Emulation` / :func:`run`: run one scenario and write its results folder;
- :func:`compare`: the same scenario under several control planes, with statistics;
- :class:`Controller` and its events and instructions: write a control plane;
- :func:`start_telemetry`: serve a run's Prometheus metrics;
- :mod:`qnemu.physics`: the pure physics (states, channels, link model, swap, purification).
"""

import importlib
from typing import Any

from qnemu.errors import EmulationError, QnemuError, ScenarioError

# Where each public name lives: imported on first use, so ``import qnemu`` (and every
# ``qnemu`` command) does not pay for scipy, matplotlib or Ray it does not need.
_HOME = {
    "Controller": "qnemu.control.api",
    "ControllerContext": "qnemu.control.api",
    "DiscardPair": "qnemu.control.api",
    "PairHeralded": "qnemu.control.api",
    "PairReleased": "qnemu.control.api",
    "RequestArrived": "qnemu.control.api",
    "Swap": "qnemu.control.api",
    "Timer": "qnemu.control.api",
    "handles": "qnemu.control.api",
    "Emulation": "qnemu.emulation",
    "run": "qnemu.emulation",
    "compare": "qnemu.experiments.runner",
    "NetworkPlan": "qnemu.planning.plan",
    "DEFAULT_SCENARIO_PATH": "qnemu.scenario",
    "Scenario": "qnemu.scenario",
    "describe": "qnemu.scenario",
    "load_scenario": "qnemu.scenario",
    "start_telemetry": "qnemu.telemetry",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'qnemu' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_SCENARIO_PATH",
    "Controller",
    "ControllerContext",
    "DiscardPair",
    "Emulation",
    "EmulationError",
    "NetworkPlan",
    "PairHeralded",
    "PairReleased",
    "QnemuError",
    "RequestArrived",
    "Scenario",
    "ScenarioError",
    "Swap",
    "Timer",
    "compare",
    "describe",
    "handles",
    "load_scenario",
    "run",
    "start_telemetry",
]
__version__ = "0.1.0"
