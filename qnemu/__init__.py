"""qnemu: a quantum network emulator.

Each quantum node runs as a Ray actor holding its quantum memories; nodes exchange
real, timed classical messages; control planes are swappable.
"""

from qnemu.errors import EmulationError, QnemuError, ScenarioError

__all__ = ["EmulationError", "QnemuError", "ScenarioError"]
__version__ = "0.1.0"
