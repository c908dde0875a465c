"""Where the node actors' CPU went, per classical message: the emulator's own profile.

Each actor measures its event loop's thread CPU (Linux thread CPU clock) from the moment
the run is armed, and how much of it went to releasing events (node and controller logic)
and to handling frames from other actors (queueing their messages, ground-truth hand-overs
and the operations those unblock). The rest is the loop itself: waking up on time,
sockets, asyncio. An overloaded run's summary thus says whether the emulated network's
logic or the wake-ups ate the cores: on the 2-core test machine a loop that idles between
events pays ~25-30 µs of CPU per wake-up (a trivial event costs ~28 µs at 5,000 events/s
and ~5 µs at 100,000/s, when the loop never idles; ``benchmarks/runtime.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def actor_cpu(reports: Sequence[dict[str, float]], messages: int) -> dict[str, Any]:
    """The summary's ``actor_cpu_us_per_message`` (µs of actor loop CPU per released
    message: ``total`` = ``events`` + ``frames`` + ``loop``), ``actor_cpu_s`` (the loops'
    CPU seconds in all) and ``wakes_per_message``; empty without reports or messages."""
    if not reports or messages <= 0:
        return {}
    total = sum(r["loop_s"] for r in reports)
    events = sum(r["events_s"] for r in reports)
    frames = sum(r["frames_s"] for r in reports)
    per_message = 1e6 / messages
    return {
        "actor_cpu_s": round(total, 3),
        "actor_cpu_us_per_message": {
            "total": round(total * per_message, 1),
            "events": round(events * per_message, 1),
            "frames": round(frames * per_message, 1),
            "loop": round(max(0.0, total - events - frames) * per_message, 1),
        },
        "wakes_per_message": round(sum(r["wakes"] for r in reports) / messages, 3),
    }
