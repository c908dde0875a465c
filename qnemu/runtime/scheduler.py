"""Event schedulers: one kernel interface, paced by the wall clock or by nothing.

Node logic only calls ``now()`` and ``schedule(t, fn, *args)``. The virtual scheduler
runs events back to back in time order (fast, deterministic tests); the real-time one
releases each event when the dilated wall clock reaches it, the way the emulator runs.
Ties are broken by insertion order.

An exception in an event's callback is never only logged: the virtual scheduler raises
it, the real-time one records it (:attr:`RealTimeScheduler.failure`), stops releasing
events and leaves it to its owner (the actor) to report.
"""

from __future__ import annotations

import asyncio
import ctypes
import heapq
import itertools
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

from qnemu.runtime.clock import Clock

EARLY_WAKE_S = 1.1e-3  # epoll rounds timeouts up to whole ms: wake early, then wait
PR_SET_TIMERSLACK = 29  # prctl option (Linux): how late the kernel may fire this thread's timers


def fine_timer_slack() -> bool:
    """Ask Linux to wake this thread's sleeps on time (timer slack 1 ns instead of 50 µs).

    A sleep then overshoots by ~20 µs instead of ~75 µs (p50, measured here), close enough
    that no release needs the last stretch spun: a spin cost an actor up to a quarter of a
    core on the busy benchmark chain, taken from the other processes. Returns whether it
    took effect (False on other systems, where sleeps keep their default precision).
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        return ctypes.CDLL(None).prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


class ScheduledCall:
    """A scheduled callback; ``cancel()`` makes it a no-op."""

    __slots__ = ("args", "callback", "cancelled", "intended_s", "measured", "time_s")

    def __init__(
        self,
        time_s: float,
        intended_s: float,
        callback: Callable[..., Any],
        args: tuple,
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


class Failure:
    """An exception that stopped a real-time scheduler, with the event it came from."""

    __slots__ = ("error", "event", "traceback")

    def __init__(self, error: BaseException, event: ScheduledCall | None) -> None:
        self.error = error
        self.event = event
        self.traceback = "".join(traceback.format_exception(error))

    def line(self) -> str:
        """``Type: message`` on one line."""
        text = " ".join(str(self.error).split())
        return f"{type(self.error).__name__}: {text}" if text else type(self.error).__name__


class _Kernel:
    """The heap and the bookkeeping both schedulers share."""

    def __init__(self, stop_at_s: float = float("inf")) -> None:
        self._heap: list[tuple[float, int, ScheduledCall]] = []
        self._counter = itertools.count()
        self._now = 0.0
        self.stop_at_s = stop_at_s
        self.lateness_s: list[float] = []  # wall seconds late, for measured events
        self._current: ScheduledCall | None = None  # the event being handled (to blame a failure)

    def now(self) -> float:
        """Emulated time of the event being handled, in seconds."""
        return self._now

    def schedule(
        self, time_s: float, callback: Callable[..., Any], *args: Any, measured: bool = False
    ) -> ScheduledCall:
        """Run ``callback(*args)`` at emulated time ``time_s`` (never before ``now()``)."""
        now = self._now
        at = now if now > time_s else time_s  # max(time_s, now), without the call
        event = ScheduledCall(at, time_s, callback, args, measured)
        heapq.heappush(self._heap, (at, next(self._counter), event))
        if self._rearm:
            self._wake()
        return event

    #: whether :meth:`schedule` calls :meth:`_wake` (the virtual kernel has no timer)
    _rearm = True

    def _wake(self) -> None:
        """Hook for the real-time scheduler to re-arm its timer."""

    def _run_due(self, until_s: float) -> None:
        heap, pop = self._heap, heapq.heappop
        while heap and heap[0][0] <= until_s:
            time_s, _, event = pop(heap)
            if event.cancelled or time_s > self.stop_at_s:
                continue
            self._now = time_s
            self._current = event
            event.callback(*event.args)
        self._current = None

    @property
    def current(self) -> ScheduledCall | None:
        """The event being handled, or the one whose callback raised."""
        return self._current


class VirtualScheduler(_Kernel):
    """Runs events in time order as fast as the CPU allows (no wall clock)."""

    #: controllers charge a deterministic compute model instead of measured wall time
    measures_wall_time = False
    _rearm = False

    def run(self, until_s: float) -> None:
        """Process every event up to emulated time ``until_s``."""
        self._run_due(min(until_s, self.stop_at_s))
        self._now = max(self._now, min(until_s, self.stop_at_s))


class RealTimeScheduler(_Kernel):
    """Releases each event when the dilated wall clock reaches it, on an asyncio loop."""

    #: controllers' compute time is measured on the wall clock
    measures_wall_time = True

    def __init__(self, clock: Clock, loop: asyncio.AbstractEventLoop, stop_at_s: float) -> None:
        super().__init__(stop_at_s)
        self.clock = clock
        self._loop = loop
        self._timer: asyncio.TimerHandle | None = None
        self._armed_for = float("inf")
        self._started = False
        self._hold_s = float("inf")  # a pause: nothing after this emulated time is released
        self.failure: Failure | None = None
        self.wakes = 0  # timer callbacks that released events
        self.release_cpu_s = 0.0  # the loop thread's CPU inside those releases

    def start(self) -> None:
        """Begin releasing events (until then they only queue up); call it on the loop's
        thread (timer slack is a thread's setting)."""
        fine_timer_slack()
        self._started = True
        self._wake()

    def stop(self) -> None:
        """Release nothing more (events already queued are dropped)."""
        self.stop_at_s = -float("inf")
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def hold(self, at_s: float) -> None:
        """Pause: release nothing after emulated ``at_s`` until :meth:`resume`."""
        self._hold_s = at_s

    def resume(self, clock: Clock) -> None:
        """Emulated time flows again on ``clock`` (its t0 moved on by the pause's length)."""
        self.clock = clock
        self._hold_s = float("inf")
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._armed_for = float("inf")
        self._wake()

    def overdue_s(self) -> float:
        """Wall seconds the earliest queued event is past its release (0 when none is).

        A healthy scheduler keeps this near its lateness; a large value means it stalled.
        """
        if not self._started or self.failure is not None or not self._heap:
            return 0.0
        if self._heap[0][0] > min(self.stop_at_s, self._hold_s):
            return 0.0
        return max(0.0, time.time() - self.clock.wall_at(self._heap[0][0]))

    def _wake(self) -> None:
        if not self._started or not self._heap or self.failure is not None:
            return
        first = self._heap[0][0]
        if first > self._hold_s:
            return
        if first >= self._armed_for and self._timer is not None:
            return
        if self._timer is not None:
            self._timer.cancel()
        delay = self.clock.wall_at(first) - time.time() - EARLY_WAKE_S
        self._armed_for = first
        self._timer = self._loop.call_later(max(delay, 0.0), self._fire)

    def _fire(self) -> None:
        """The timer callback: release what is due; an exception is recorded, never lost."""
        try:
            self._release_due()
        except Exception as exc:
            self.failure = Failure(exc, self._current)
            self.stop()

    def _release_due(self) -> None:
        self._timer = None
        self._armed_for = float("inf")
        if not self._heap or self._heap[0][0] > self._hold_s:
            return
        target = self.clock.wall_at(self._heap[0][0])
        if target - time.time() > EARLY_WAKE_S:  # woke for an event that has since gone
            self._wake()
            return
        # nanosleep is precise to tens of microseconds (epoll only to whole milliseconds)
        remaining = target - time.time()
        if remaining > 0:
            time.sleep(remaining)
        horizon = min(self.clock.now(), self._hold_s)
        heap, pop, wall_at = self._heap, heapq.heappop, self.clock.wall_at
        self._rearm = False  # handlers' schedule() calls: the timer is armed once, below
        self.wakes += 1
        cpu_start = time.thread_time()
        try:
            while heap and heap[0][0] <= horizon:
                time_s, _, event = pop(heap)
                if event.cancelled or time_s > self.stop_at_s:
                    continue
                if event.measured:
                    self.lateness_s.append(time.time() - wall_at(event.intended_s))
                self._now = time_s
                self._current = event
                event.callback(*event.args)
        finally:
            self._rearm = True
            self.release_cpu_s += time.thread_time() - cpu_start
        self._current = None
        self._wake()
