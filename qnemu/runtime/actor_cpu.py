"""Where the node actors' CPU went, per classical message: the emulator's own profile.

Each actor measures its event loop's thread CPU (Linux thread CPU clock) from the moment
the run is armed, and how much of it went to releasing events (node and controller logic)
and to handling frames from other actors (queueing their messages, ground-truth hand-overs
and the operations those unblock). The rest is the loop itself: waking up on time,
sockets, asyncio. An overloaded run's summary thus says whether the emulated network's
logic or the wake-ups ate the cores: on the 2-core test machine a loop that idles between
events pays 25-35 µs of CPU per wake-up (an empty event costs ~35 µs at 5,000 events/s
and ~6 µs at 100,000/s, when the loop hardly idles; ``benchmarks/runtime.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

KINDS = ("events", "frames", "loop")  # what an actor's loop CPU went to


def cpu_parts(report: dict[str, float]) -> dict[str, float]:
    """One actor's loop CPU seconds by :data:`KINDS`, from its report (``loop_s`` in all,
    ``events_s`` and ``frames_s`` of it); ``loop`` is the rest, never below 0 (thread
    clocks tick in steps, so the parts may add up to a hair more than the whole)."""
    rest = report["loop_s"] - report["events_s"] - report["frames_s"]
    return {"events": report["events_s"], "frames": report["frames_s"], "loop": max(0.0, rest)}


def actor_cpu(reports: Sequence[dict[str, float]], messages: int) -> dict[str, Any]:
    """The summary's ``actor_cpu_us_per_message`` (µs of actor loop CPU per released
    message: ``total`` = ``events`` + ``frames`` + ``loop``), ``actor_cpu_s`` (the loops'
    CPU seconds in all) and ``wakes_per_message``; empty without reports or messages."""
    if not reports or messages <= 0:
        return {}
    total = sum(r["loop_s"] for r in reports)
    parts = [cpu_parts(r) for r in reports]
    per_message = 1e6 / messages
    return {
        "actor_cpu_s": round(total, 3),
        "actor_cpu_us_per_message": {
            "total": round(total * per_message, 1),
            **{k: round(sum(p[k] for p in parts) * per_message, 1) for k in KINDS},
        },
        "wakes_per_message": round(sum(r["wakes"] for r in reports) / messages, 3),
    }
