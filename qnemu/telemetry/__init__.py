"""Live telemetry: the metric catalog, the collector, the ``/metrics`` endpoint.

Start it before a run and pass it to the emulation::

    with start_telemetry(port=9300, linger_s=5) as sink:
        print("metrics at", sink.url)
        Emulation(scenario, telemetry=sink).run()   # closes the sink at the end

``in_process=True`` keeps the collector in this process (virtual-time runs, no Ray);
otherwise it is a Ray actor on the driver's node, and Ray is started here when it is not
running yet (and shut down with the sink). A port in use, a bad host or a bad linger is a
:class:`TelemetryError` (a :class:`~qnemu.errors.QnemuError`) raised before the run starts.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from qnemu.telemetry.endpoints import DEFAULT_HOST, DEFAULT_PORT

if TYPE_CHECKING:
    from qnemu.telemetry.actor import RayTelemetry
    from qnemu.telemetry.catalog import CATALOG, MetricSpec
    from qnemu.telemetry.collector import Collector, InProcessTelemetry, TelemetryError
    from qnemu.telemetry.recorder import MetricsRecorder, RunInfo

# Where each name lives: imported on first use, so that the command line (which imports
# ``qnemu.telemetry.cli``) does not pay for prometheus_client, numpy or scipy.
_HOME = {
    "RayTelemetry": "qnemu.telemetry.actor",
    "CATALOG": "qnemu.telemetry.catalog",
    "MetricSpec": "qnemu.telemetry.catalog",
    "Collector": "qnemu.telemetry.collector",
    "InProcessTelemetry": "qnemu.telemetry.collector",
    "TelemetryError": "qnemu.telemetry.collector",
    "MetricsRecorder": "qnemu.telemetry.recorder",
    "RunInfo": "qnemu.telemetry.recorder",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'qnemu.telemetry' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


__all__ = [
    "CATALOG",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "Collector",
    "InProcessTelemetry",
    "MetricSpec",
    "MetricsRecorder",
    "RayTelemetry",
    "RunInfo",
    "TelemetryError",
    "start_telemetry",
]


def start_telemetry(
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    linger_s: float = 0.0,
    in_process: bool = False,
    address: str | None = None,
    say: Callable[[str], None] | None = None,
    run: str | None = None,
) -> InProcessTelemetry | RayTelemetry:
    """Start a collector serving ``/metrics`` on ``host:port`` and return its sink.

    ``port=0`` picks a free port (read it from ``sink.port``; ``sink.url`` is the whole
    address). ``linger_s``: wall seconds the endpoint keeps serving after the run ends.
    ``address``: the Ray cluster to join when Ray is not running yet (as ``Emulation``'s).
    ``say`` receives one-line notices (the linger). ``run``: the ``run`` label of the
    first run (default: the name of its results folder). Until a run starts,
    ``qnemu_emulator_phase{phase="starting"}`` is 1.
    """
    if in_process:
        from qnemu.telemetry.collector import InProcessTelemetry

        return InProcessTelemetry(host, port, linger_s, say, run)
    from qnemu.telemetry.actor import RayTelemetry

    return RayTelemetry(host, port, linger_s, address, say, run)
