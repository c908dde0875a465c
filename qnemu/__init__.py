"""qnemu: a quantum network emulator.

Each quantum node runs as a Ray actor holding its quantum memories; nodes exchange
real, timed classical messages; control planes are swappable. The public API:

- :func:`load_scenario` / :class:`Scenario`: validated scenario descriptions;
- :class:`Emulation` / :func:`run`: run one scenario and write its results folder;
- :mod:`qnemu.physics`: the pure physics (states, channels, link model, swap, purification).
"""

from qnemu.emulation import Emulation, run
from qnemu.errors import EmulationError, QnemuError, ScenarioError
from qnemu.nodes.plan import NetworkPlan
from qnemu.scenario import DEFAULT_SCENARIO_PATH, Scenario, describe, load_scenario

__all__ = [
    "DEFAULT_SCENARIO_PATH",
    "Emulation",
    "EmulationError",
    "NetworkPlan",
    "QnemuError",
    "Scenario",
    "ScenarioError",
    "describe",
    "load_scenario",
    "run",
]
__version__ = "0.1.0"
