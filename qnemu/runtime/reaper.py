"""Kills what an embedded Ray left behind once its driver is gone, even by SIGKILL.

Ray starts its daemons (GCS, raylet) bound to the driver's life, but the raylet's own
children (``ray::DashboardAgent``, ``ray::RuntimeEnvAgent``) may outlive a driver killed
while Ray starts. :func:`start` marks every process the embedded Ray will start with an
environment variable and starts this module as a small watcher in a session of its own
(so a terminal's Ctrl-C does not reach it): it blocks reading a pipe from the driver, and
when the pipe closes (the driver exited, however) it ends every marked process.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

MARK_VARIABLE = "QNEMU_RAY_SESSION"
GRACE_S = 2.0  # between SIGTERM and SIGKILL
SETTLE_S = 3.0  # SIGKILL again, this long at most, what is still (or newly) marked


def marked(mark: str) -> list[int]:
    """Processes started with ``QNEMU_RAY_SESSION=mark`` in their environment (Linux)."""
    needle = f"{MARK_VARIABLE}={mark}".encode() + b"\0"
    found = []
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if needle in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:  # gone, or not ours to read
            continue
    return found


def kill_marked(mark: str, grace_s: float = GRACE_S, settle_s: float = SETTLE_S) -> list[int]:
    """SIGTERM every marked process, SIGKILL those still there after ``grace_s``, then
    keep killing for up to ``settle_s`` whatever is still marked: a raylet that was
    starting its agents may have forked one after the first look."""
    targets = marked(mark)
    for pid in targets:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline and marked(mark):
        time.sleep(0.1)
    # the whole window, even when nothing is marked for a moment: a raylet in the middle
    # of starting an agent can fork it after the last look found everything gone
    deadline = time.monotonic() + settle_s
    while True:
        left = marked(mark)
        targets += [pid for pid in left if pid not in targets]
        for pid in left:
            _signal(pid, signal.SIGKILL)
        if time.monotonic() >= deadline:
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
    """Wait for the driver's pipe to close, then end the marked processes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    mark = sys.argv[1]
    while sys.stdin.buffer.read(1 << 16):
        pass
    kill_marked(mark)


if __name__ == "__main__":
    main()
