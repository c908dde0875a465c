"""The reaper's view of a driver's processes (plain processes, no Ray): marked ones, and
children of marked ones even when their environment no longer shows the mark (Ray's
agents retitle themselves over it)."""

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from qnemu.runtime import reaper

pytestmark = pytest.mark.skipif(not Path("/proc").is_dir(), reason="Linux /proc")

# a marked parent that starts a child with an empty environment, as an agent looks
PARENT = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen(['sleep', '60'], env={})\n"
    "print(child.pid, flush=True)\n"
    "time.sleep(60)\n"
)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_child_without_the_mark_is_found_through_its_parent_and_killed():
    mark = os.urandom(8).hex()
    env = {**os.environ, reaper.MARK_VARIABLE: mark}
    parent = subprocess.Popen([sys.executable, "-c", PARENT], env=env, stdout=subprocess.PIPE)
    try:
        child = int(parent.stdout.readline())
        assert mark.encode() not in Path(f"/proc/{child}/environ").read_bytes()
        known: dict[int, int] = {}
        assert set(reaper._scan(mark, known)) == {parent.pid, child}
        parent.kill()  # its child, orphaned, is still known
        parent.wait()
        assert set(reaper._scan(mark, known)) == {child}
        killed = reaper.kill_marked(mark, grace_s=0.5, settle_s=0.3, quiet_s=0.2, known=known)
        assert child in killed
        deadline = time.monotonic() + 5
        while _alive(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(child)
    finally:
        parent.kill()
