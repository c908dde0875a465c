"""Kills what an embedded Ray left behind once its driver is gone, even by SIGKILL.

Ray starts its daemons (GCS, raylet) bound to the driver's life, but the raylet's own
children (``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``) may outlive a driver killed
while Ray starts. :func:`start` marks every process the embedded Ray will start with an
environment variable and starts this module as a small watcher in a session of its own
(so a terminal's Ctrl-C does not reach it): while a pipe from the driver stays open it
notes every marked process and their children (Ray's agents retitle themselves over their
environment, so the mark may no longer show there), and when the pipe closes (the driver
exited, however) it ends them all.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

MARK_VARIABLE = "QNEMU_RAY_SESSION"
GRACE_S = 2.0  # between SIGTERM and SIGKILL
SETTLE_S = 3.0  # SIGKILL again, this long at least, what is still (or newly) marked
QUIET_S = 2.0  # ... and on until nothing was marked for this long
LIMIT_S = 30.0  # ... but no longer than this (a process the kernel cannot kill)
WATCH_FIRST_S, WATCH_LAST_S = 0.2, 5.0  # between looks for children while the driver lives
WATCH_CLOSELY_S = 10.0  # looks every WATCH_FIRST_S this long (while Ray starts its agents)


def _scan(
    mark: str, known: dict[int, int], checked: set[tuple[int, int]] | None = None
) -> dict[int, int]:
    """Add to ``known`` (pid -> start time) every marked process and every child of a known
    one, and return those of ``known`` still running. Children count because Ray's agents
    retitle themselves over their own environment, which then no longer shows the mark.
    ``checked``: processes whose environment was read already (not read again)."""
    needle = f"{MARK_VARIABLE}={mark}".encode() + b"\0"
    running: dict[int, tuple[int, int]] = {}  # pid -> (parent pid, start time)
    me = os.getpid()
    for name in os.listdir("/proc") if os.path.isdir("/proc") else []:
        if not name.isdigit() or int(name) == me:
            continue
        pid = int(name)
        try:
            with open(f"/proc/{name}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            running[pid] = (int(fields[1]), int(fields[19]))
            if pid in known or (checked is not None and (pid, running[pid][1]) in checked):
                continue
            if _ours(pid, needle, known):
                known[pid] = running[pid][1]
            elif checked is not None:
                checked.add((pid, running[pid][1]))
        except (OSError, IndexError, ValueError):  # gone, or not ours to read
            running.pop(pid, None)
    alive = {pid: start for pid, start in known.items() if running.get(pid, (0, -1))[1] == start}
    grown = True
    while grown:  # children of the known, then theirs
        grown = False
        for pid, (parent, start) in running.items():
            if pid not in alive and parent in alive:
                alive[pid] = known[pid] = start
                grown = True
    return alive


def _ours(pid: int, needle: bytes, known: dict[int, int]) -> bool:
    """Marked, or naming a known process as its raylet (what is left of an agent's
    environment after it retitled itself may still say so)."""
    with open(f"/proc/{pid}/environ", "rb") as file:
        environ = file.read()
    return needle in environ or any(
        f"RAY_RAYLET_PID={known_pid}".encode() + b"\0" in environ for known_pid in known
    )


def kill_marked(
    mark: str,
    grace_s: float = GRACE_S,
    settle_s: float = SETTLE_S,
    quiet_s: float = QUIET_S,
    limit_s: float = LIMIT_S,
    known: dict[int, int] | None = None,
    checked: set[tuple[int, int]] | None = None,
) -> list[int]:
    """SIGTERM every marked process (and the children seen of one, ``known``), SIGKILL
    those still there after ``grace_s``, then keep killing whatever is still (or newly)
    marked for at least ``settle_s`` and until nothing was for ``quiet_s`` (at most
    ``limit_s``): a raylet that was starting its agents may have forked one after the
    first look, and a loaded machine may take seconds to start it. ``checked``: as for
    :func:`_scan`, shared by every look."""
    known = {} if known is None else known
    checked = set() if checked is None else checked
    targets = list(_scan(mark, known, checked))
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and _scan(mark, known, checked):
        time.sleep(0.1)
    started = last_seen = time.monotonic()
    while True:
        left = _scan(mark, known, checked)
        now = time.monotonic()
        if left:
            last_seen = now
        targets += [pid for pid in left if pid not in targets]
        for pid in left:
            _signal(pid, signal.SIGKILL)
        settled = now - started >= settle_s and now - last_seen >= quiet_s
        if settled or now - started >= limit_s:
            break
        time.sleep(0.1)
    return targets


def _signal(pid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, sig)


def start() -> subprocess.Popen | None:
    """Mark the processes this driver starts from now on and start their reaper."""
    if not Path("/proc").is_dir():
        return None
    mark = secrets.token_hex(8)
    clean = {k: v for k, v in os.environ.items() if k != MARK_VARIABLE}
    reaper = subprocess.Popen(
        [sys.executable, "-m", "qnemu.runtime.reaper", mark],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        env=clean,
    )
    os.environ[MARK_VARIABLE] = mark
    return reaper


def stop(reaper: subprocess.Popen | None) -> None:
    """Ray was shut down: let the reaper clean up what is left, and stop marking."""
    os.environ.pop(MARK_VARIABLE, None)
    if reaper is not None and reaper.stdin is not None:
        reaper.stdin.close()


def main() -> None:
    """Watch the marked processes and their children while the driver lives (ever less
    often: Ray starts most of them at once), then end them when its pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    mark = sys.argv[1]
    known: dict[int, int] = {}
    checked: set[tuple[int, int]] = set()  # the environment of each process is read once
    pause, began = WATCH_FIRST_S, time.monotonic()
    while True:
        _scan(mark, known, checked)
        ready, _, _ = select.select([sys.stdin], [], [], pause)
        if ready and not os.read(sys.stdin.fileno(), 1 << 16):
            break
        if time.monotonic() - began > WATCH_CLOSELY_S:
            pause = min(pause * 1.5, WATCH_LAST_S)
    kill_marked(mark, known=known, checked=checked)


if __name__ == "__main__":
    main()
