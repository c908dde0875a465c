"""Dilated emulated time: t_emu = (wall - t0) / dilation.

Wall time is ``time.time()`` so that processes on one machine (and, with synchronized
clocks, on a cluster) agree on t0 without exchanging anything but the number.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Clock:
    """Maps wall-clock seconds to emulated seconds and back."""

    t0_wall: float
    dilation: float = 1.0

    def __post_init__(self) -> None:
        if not self.dilation >= 1.0:
            raise ValueError(f"dilation: must be >= 1, got {self.dilation}")

    def now(self) -> float:
        """The current emulated time in seconds (negative before t0)."""
        return (time.time() - self.t0_wall) / self.dilation

    def wall_at(self, t_emulated_s: float) -> float:
        """The wall-clock time (``time.time()`` scale) at which emulated time is reached."""
        return self.t0_wall + t_emulated_s * self.dilation
