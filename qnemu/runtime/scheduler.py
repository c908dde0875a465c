"""Event schedulers: one kernel interface, paced by the wall clock or by nothing.

Node logic only calls ``now()`` and ``schedule(t, fn, *args)``. The virtual scheduler
runs events back to back in time order (fast, deterministic tests); the real-time one
releases each event when the dilated wall clock reaches it, the way the emulator runs.
Ties are broken by insertion order.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any

from qnemu.clock import Clock

EARLY_WAKE_S = 1.1e-3  # epoll rounds timeouts up to whole ms: wake early, then wait
SPIN_S = 1e-4  # the last stretch before a release is spun, not slept


class Event:
    """A scheduled callback; ``cancel()`` makes it a no-op."""

    __slots__ = ("args", "callback", "cancelled", "intended_s", "measured", "time_s")

    def __init__(
        self, time_s: float, intended_s: float, callback: Callable[..., Any], args: tuple,
        measured: bool,
    ) -> None:
        self.time_s = time_s
        self.intended_s = intended_s
        self.callback = callback
        self.args = args
        self.cancelled = False
        self.measured = measured

    def cancel(self) -> None:
        """Drop the event without running it."""
        self.cancelled = True


class _Kernel:
    """The heap and the bookkeeping both schedulers share."""

    def __init__(self, stop_at_s: float = float("inf")) -> None:
        self._heap: list[tuple[float, int, Event]] = []
        self._counter = itertools.count()
        self._now = 0.0
        self.stop_at_s = stop_at_s
        self.lateness_s: list[float] = []  # wall seconds late, for measured events

    def now(self) -> float:
        """Emulated time of the event being handled, in seconds."""
        return self._now

    def schedule(
        self, time_s: float, callback: Callable[..., Any], *args: Any, measured: bool = False
    ) -> Event:
        """Run ``callback(*args)`` at emulated time ``time_s`` (never before ``now()``)."""
        event = Event(max(time_s, self._now), time_s, callback, args, measured)
        heapq.heappush(self._heap, (event.time_s, next(self._counter), event))
        self._wake()
        return event

    def _wake(self) -> None:
        """Hook for the real-time scheduler to re-arm its timer."""

    def _run_due(self, until_s: float) -> None:
        while self._heap and self._heap[0][0] <= until_s:
            time_s, _, event = heapq.heappop(self._heap)
            if event.cancelled or time_s > self.stop_at_s:
                continue
            self._now = time_s
            event.callback(*event.args)


class VirtualScheduler(_Kernel):
    """Runs events in time order as fast as the CPU allows (no wall clock)."""

    def run(self, until_s: float) -> None:
        """Process every event up to emulated time ``until_s``."""
        self._run_due(min(until_s, self.stop_at_s))
        self._now = max(self._now, min(until_s, self.stop_at_s))


class RealTimeScheduler(_Kernel):
    """Releases each event when the dilated wall clock reaches it, on an asyncio loop."""

    def __init__(self, clock: Clock, loop: asyncio.AbstractEventLoop, stop_at_s: float) -> None:
        super().__init__(stop_at_s)
        self.clock = clock
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = float("inf")
        self._started = False

    def start(self) -> None:
        """Begin releasing events (until then they only queue up)."""
        self._started = True
        self._wake()

    def _wake(self) -> None:
        if not self._started or not self._heap:
            return
        first = self._heap[0][0]
        if first >= self._armed_for and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = self.clock.wall_at(first) - time.time() - EARLY_WAKE_S
        self._armed_for = first
        self._timer = self._loop.call_later(max(delay, 0.0), self._fire)

    def _fire(self) -> None:
        self._timer = None
        self._armed_for = float("inf")
        if not self._heap:
            return
        target = self.clock.wall_at(self._heap[0][0])
        if target - time.time() > EARLY_WAKE_S:  # woke for an event that has since gone
            self._wake()
            return
        # nanosleep is precise to tens of microseconds (epoll only to whole milliseconds):
        # sleep most of the way, then spin the last stretch for an exact release time
        remaining = target - time.time()
        if remaining > SPIN_S:
            time.sleep(remaining - SPIN_S)
        while time.time() < target:
            pass
        horizon = self.clock.now()
        while self._heap and self._heap[0][0] <= horizon:
            time_s, _, event = heapq.heappop(self._heap)
            if event.cancelled or time_s > self.stop_at_s:
                continue
            if event.measured:
                self.lateness_s.append(time.time() - self.clock.wall_at(event.intended_s))
            self._now = time_s
            event.callback(*event.args)
        if self._timer is not None:  # armed by a handler for an event handled just now
            self._timer.cancel()
            self._timer = None
            self._armed_for = float("inf")
        self._wake()
