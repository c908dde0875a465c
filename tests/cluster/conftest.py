"""A real two-raylet Ray cluster on this machine, loopback only, torn down even on failure.

Each raylet gets its own temp dir, its own custom resource (``qnemu_host_a`` on the head,
``qnemu_host_b`` on the worker) and explicit ports outside Ray's worker-port range, so it
never collides with another Ray on the machine. Token authentication is on, with a token
of our own passed to every process through ``RAY_AUTH_TOKEN`` (``RAY_AUTH_MODE=token``
everywhere: Ray 2.60 refuses a client whose mode differs from the cluster's). Teardown
kills the process groups this fixture started, by id (never ``ray stop``: that would stop
every Ray on the machine).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

RAY = str(Path(sys.executable).with_name("ray"))


def free_port() -> int:
    """A TCP port nothing listens on (ephemeral range, above Ray's worker ports)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cluster_env() -> dict[str, str]:
    return {
        **os.environ,
        "RAY_AUTH_MODE": "token",
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_AUTH_TOKEN": CLUSTER_TOKEN,
    }


CLUSTER_TOKEN = secrets.token_hex(16)


def _children(pids: set[int]) -> set[int]:
    """Every descendant of ``pids`` (read from /proc), so workers die with their raylet."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), set(pids)
    while frontier:
        frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
        found |= frontier
    return found


def _group_members(pgids: list[int]) -> set[int]:
    members = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ProcessLookupError):
                if os.getpgid(int(entry.name)) in pgids:
                    members.add(int(entry.name))
    return members


def teardown(pgids: list[int]) -> None:
    """SIGTERM, then SIGKILL, the process groups we started and their descendants."""
    members = _group_members(pgids)
    members |= _children(members)
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in members:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.time() + 5
        while time.time() < deadline and any(Path(f"/proc/{pid}").exists() for pid in members):
            time.sleep(0.2)


@pytest.fixture(scope="package")
def two_raylets():
    """Start the cluster; yields its GCS address ``127.0.0.1:PORT``."""
    root = Path(tempfile.mkdtemp(prefix="qnr", dir="/tmp"))  # AF_UNIX paths: <= 107 bytes
    port = free_port()
    common = ["--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--disable-usage-stats"]
    head = [
        RAY,
        "start",
        "--head",
        "--port",
        str(port),
        "--temp-dir",
        str(root / "head"),
        "--resources",
        '{"qnemu_host_a": 1000}',
        "--include-dashboard",
        "false",
        "--dashboard-port",
        str(free_port()),
        "--ray-client-server-port",
        str(free_port()),
        "--dashboard-agent-listen-port",
        str(free_port()),
        *common,
    ]
    worker = [
        RAY,
        "start",
        "--address",
        f"127.0.0.1:{port}",
        "--temp-dir",
        str(root / "worker"),
        "--resources",
        '{"qnemu_host_b": 1000}',
        "--dashboard-agent-listen-port",
        str(free_port()),
        *common,
    ]
    pgids: list[int] = []
    try:
        for command in (head, worker):
            proc = subprocess.Popen(
                command,
                env=cluster_env(),
                start_new_session=True,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            pgids.append(proc.pid)
            out, _ = proc.communicate(timeout=90)
            if proc.returncode != 0:
                pytest.fail(f"ray start failed: {' '.join(command[:3])}\n{out[-3000:]}")
        yield f"127.0.0.1:{port}"
    finally:
        teardown(pgids)
        shutil.rmtree(root, ignore_errors=True)
