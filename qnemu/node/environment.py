"""What node logic needs from whatever runs it: a clock, timers, a classical send.

The runtime's hosts (virtual or real time, one process or a Ray actor) satisfy these
protocols; node logic never imports the runtime, so it is unit-tested with a fake host.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from qnemu.control.api import ControllerEvent
from qnemu.control.sites import ControllerSite
from qnemu.records import RunEvent
from qnemu.truth.store import GroundTruthStore
from qnemu.wire.messages import Message


class Scheduled(Protocol):
    """A timer the environment has armed; ``cancel()`` makes it a no-op."""

    time_s: float

    def cancel(self) -> None: ...


class ControllerPort(Protocol):
    """A controller instance as a node on the same host sees it: where it runs, and
    a way to hand it events at once (no classical message in between)."""

    @property
    def site(self) -> ControllerSite: ...

    def dispatch(self, events: Sequence[ControllerEvent]) -> None: ...


class Environment(Protocol):
    """What a node needs from the host that runs it (times in emulated seconds)."""

    host_id: int
    store: GroundTruthStore

    def now(self) -> float: ...
    def schedule(self, time_s: float, callback: Callable[..., Any], *args: Any) -> Scheduled: ...
    def send(self, message: Message) -> None: ...
    def emit(self, event: RunEvent) -> None: ...
    def host_of(self, node: str) -> int: ...
    def controller(self, site: str) -> ControllerPort: ...
    def local_controllers(self) -> Sequence[ControllerPort]: ...
