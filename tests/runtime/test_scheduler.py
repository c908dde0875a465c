"""Schedulers: time order, ties by insertion, cancellation, the stop horizon, real pacing."""

import asyncio
import time

from qnemu.runtime.clock import Clock
from qnemu.runtime.scheduler import RealTimeScheduler, VirtualScheduler


def test_virtual_scheduler_runs_in_time_order_with_ties_in_insertion_order():
    scheduler = VirtualScheduler()
    seen = []
    for t, tag in ((2.0, "c"), (1.0, "a"), (1.0, "b"), (0.5, "first")):
        scheduler.schedule(t, lambda tag=tag: seen.append((scheduler.now(), tag)))
    scheduler.run(10.0)
    assert seen == [(0.5, "first"), (1.0, "a"), (1.0, "b"), (2.0, "c")]


def test_cancelled_and_late_events_do_not_run():
    scheduler = VirtualScheduler(stop_at_s=1.0)
    seen = []
    event = scheduler.schedule(0.5, seen.append, "cancelled")
    scheduler.schedule(1.5, seen.append, "after stop")
    scheduler.schedule(0.7, seen.append, "kept")
    event.cancel()
    scheduler.run(5.0)
    assert seen == ["kept"]


def test_an_event_is_never_scheduled_in_the_past():
    scheduler = VirtualScheduler()
    times = []
    scheduler.schedule(1.0, lambda: scheduler.schedule(0.2, lambda: times.append(scheduler.now())))
    scheduler.run(2.0)
    assert times == [1.0]


def test_real_time_scheduler_releases_on_the_dilated_clock():
    async def main():
        loop = asyncio.get_running_loop()
        clock = Clock(time.time() + 0.02, dilation=10.0)
        scheduler = RealTimeScheduler(clock, loop, stop_at_s=1.0)
        released = []
        for t in (0.001, 0.002, 0.004):
            scheduler.schedule(t, lambda t=t: released.append((t, time.time())), measured=True)
        scheduler.start()
        await asyncio.sleep(0.12)
        return clock, released, scheduler.lateness_s

    clock, released, lateness = asyncio.run(main())
    assert [t for t, _ in released] == [0.001, 0.002, 0.004]
    for t, wall in released:
        assert wall >= clock.wall_at(t)  # never early
    assert len(lateness) == 3 and min(lateness) >= 0.0


def test_the_real_time_scheduler_asks_linux_for_a_fine_timer_slack():
    """Sleeps replace the old spin only because the thread's timer slack is 1 ns (Linux)."""
    import ctypes
    import sys
    import threading

    from qnemu.runtime.scheduler import PR_SET_TIMERSLACK, fine_timer_slack

    seen: list[tuple[bool, int]] = []

    def on_a_loop_thread() -> None:  # slack is per thread: leave the test's own alone
        took = fine_timer_slack()
        slack = ctypes.CDLL(None).prctl(PR_SET_TIMERSLACK + 1, 0, 0, 0, 0)  # PR_GET_TIMERSLACK
        seen.append((took, slack))

    worker = threading.Thread(target=on_a_loop_thread)
    worker.start()
    worker.join()
    if sys.platform.startswith("linux"):
        assert seen == [(True, 1)]
    else:
        assert seen[0][0] is False
