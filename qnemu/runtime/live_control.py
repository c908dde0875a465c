"""Live control of a Ray run: the console's faults, views and pause reach every actor.

The console (``qnemu run --console --ray``) hands its commands to the driver's heartbeat
loop, which carries them out through :class:`RayLive`. A command takes effect at one
emulated instant for every host: :data:`LEAD_WALL_S` wall seconds after it was typed (the
time the calls to every actor take), stamped in emulated time; a host that gets it late
applies it on arrival. A live node crash on a node with an actor to itself kills the
actor's process, and ``node X restart`` starts a new one (:mod:`qnemu.runtime.crashes`).

``pause`` holds every actor's scheduler at one emulated instant (nothing later is
released; heartbeats to the driver go on); ``resume`` moves the run's t0 on by the
pause's length, so emulated time picks up where it stopped and nothing was late.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from qnemu.records import RunEvent
from qnemu.runtime import ray_backend
from qnemu.runtime.crashes import ProcessCrashes
from qnemu.scenario.spec import FaultSpec

#: Wall seconds between a command and the emulated instant it takes effect everywhere.
LEAD_WALL_S = 0.2


class RayLive:
    """What the console acts on in a Ray run (the driver's side; see the module docstring)."""

    def __init__(
        self,
        crashes: ProcessCrashes,
        emit: Callable[[list[dict[str, Any]]], None],
        retime: Callable[[float], None],
    ) -> None:
        self.crashes = crashes
        self._emit = emit
        self._retime = retime  # tells the driver the run's new t0 after a pause
        self.paused_at_s: float | None = None

    @property
    def dilation(self) -> float:
        return self.crashes.dilation

    def now(self) -> float:
        """The emulated instant a command typed now takes effect at."""
        if self.paused_at_s is not None:
            return self.paused_at_s
        return max(0.0, self.crashes.now_s()) + LEAD_WALL_S / self.dilation

    def emit(self, event: RunEvent) -> None:
        """Record a run event (a ``console`` action) in the results."""
        self._emit([event.to_dict()])

    def inject(self, fault: FaultSpec, origin: str = "console") -> None:
        """Start ``fault`` (at its ``at_s``) on every live host."""
        actors, names = self.crashes.alive()
        ray_backend.call_all(actors, "inject", fault, origin, names=names)
        self.crashes.add_live(fault)

    def end_fault(self, fault: FaultSpec, at_s: float) -> None:
        """End the live ``fault`` at emulated ``at_s`` on every live host."""
        actors, names = self.crashes.alive()
        ray_backend.call_all(actors, "end_fault", fault, at_s, names=names)
        self.crashes.end_live(fault, at_s)

    def view(self, kind: str, names: list[str] | None) -> str:
        """The console's ``kind`` view, joined from every live host's answer."""
        actors, groups = self.crashes.alive()
        if kind == "links":
            actors, groups = actors[:1], groups[:1]
        answers = ray_backend.call_all(actors, "view", kind, names, names=groups)
        down = [g[0] for i, g in enumerate(self.crashes.groups) if i in self.crashes.down]
        rows = [a for a in answers if a]
        if kind == "nodes":
            rows += [f"{name:>8}  crashed  (process killed)" for name in down]
        return "\n".join(rows)

    def pause(self) -> float:
        """Hold every actor at one emulated instant; returns it."""
        at = self.now()
        actors, names = self.crashes.alive()
        ray_backend.call_all(actors, "hold", at, names=names)
        self.paused_at_s = at
        return at

    def resume(self) -> None:
        """Let emulated time flow again from where it was held."""
        if self.paused_at_s is None:
            return
        t0 = time.time() + LEAD_WALL_S - self.paused_at_s * self.dilation
        actors, names = self.crashes.alive()
        ray_backend.call_all(actors, "resume", t0, names=names)
        self.crashes.t0_wall = t0
        self.paused_at_s = None
        self._retime(t0)
