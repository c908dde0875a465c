"""What node logic needs from whatever runs it: a clock, timers, a classical send.

The runtime's hosts (virtual or real time, one process or a Ray actor) satisfy these
protocols; node logic never imports the runtime, so it is unit-tested with a fake host.
"""

from __future__ import annotations

from typing import Any, Protocol

from qnemu.truth.store import GroundTruthStore
from qnemu.wire.messages import Message


class Scheduled(Protocol):
    """A timer the environment has armed; ``cancel()`` makes it a no-op."""

    time_s: float

    def cancel(self) -> None: ...


class Environment(Protocol):
    """What a node needs from the host that runs it (times in emulated seconds)."""

    host_id: int
    store: GroundTruthStore

    def now(self) -> float: ...
    def schedule(self, time_s: float, callback: Any, *args: Any) -> Scheduled: ...
    def send(self, message: Message) -> None: ...
    def emit(self, event: dict[str, Any]) -> None: ...
    def host_of(self, node: str) -> int: ...
    def controller(self, site: str) -> Any: ...
    def local_controllers(self) -> list[Any]: ...
