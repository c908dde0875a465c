"""A run never lies: every error ends the run visibly or is counted and survived on purpose.

Real schedulers, real sockets, real Ray actors and the real CLI in a subprocess; nothing
is mocked. Detection times are bounded generously (never timed as performance).
"""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import yaml

from qnemu.emulation import Emulation
from qnemu.planning.plan import NetworkPlan
from qnemu.runtime import reaper
from qnemu.runtime.clock import Clock
from qnemu.runtime.failure import RunFailed
from qnemu.runtime.host import Host
from qnemu.runtime.scheduler import RealTimeScheduler, VirtualScheduler
from qnemu.runtime.transport import MAGIC, NONCE_BYTES, BadFrame, mac
from qnemu.scenario import load_scenario
from qnemu.truth.store import GroundTruthStore
from qnemu.wire.frames import frame

TWO_NODE = {
    "name": "two",
    "seed": 4,
    "duration_s": 0.3,
    "dilation": 10,
    "topology": {
        "nodes": [
            {"id": "alice", "hardware": "er_telecom", "memories": 4},
            {"id": "bob", "hardware": "er_telecom", "memories": 4},
        ],
        "links": [{"a": "alice", "b": "bob", "length_km": 20}],
    },
    "tenants": [
        {"name": "ab", "app": "qkd", "src": "alice", "dst": "bob", "rate_hz": 50, "f_min": 0.8}
    ],
}
CHAIN = {
    **TWO_NODE,
    "name": "chain",
    "topology": {
        "generator": "chain",
        "n": 3,
        "hop_km": 10,
        "hardware": "er_telecom",
        "memories": 4,
    },
    "tenants": [{"name": "t", "app": "dqc", "src": "n0", "dst": "n2", "rate_hz": 50, "f_min": 0.6}],
}
FAILING_CONTROLLER = '''
from qnemu.control.api import PairHeralded, handles
from qnemu.control.builtin import DistributedController


class FailsOnFourth(DistributedController):
    """Swap-ASAP that raises on its 4th PairHeralded."""

    heralded = 0

    @handles(PairHeralded)
    def on_pair(self, event):
        self.heralded += 1  # per instance: the controller's own twin run has its own
        if self.heralded == 4:
            raise RuntimeError("controller bug on the 4th herald")
        super().on_pair(event)
'''
QUIET = ["--no-metrics", "--quiet"]


def _cli(*args, cwd=None, timeout=300, **popen):
    return subprocess.run(
        [sys.executable, "-m", "qnemu", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=timeout,
        **popen,
    )


def _scenario_file(tmp_path, data, name="scenario.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data))
    return path


def _folder(root: Path) -> Path:
    (folder,) = [p for p in root.iterdir() if p.is_dir()]
    return folder


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]  # each whole


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error:")]


# -- the scheduler and the host, in one process -----------------------------------------------


def test_an_exception_in_a_real_time_callback_is_recorded_not_only_logged():
    async def main():
        loop = asyncio.get_running_loop()
        scheduler = RealTimeScheduler(Clock(time.time() + 0.01), loop, stop_at_s=10.0)
        seen = []
        scheduler.schedule(0.001, seen.append, "before")
        scheduler.schedule(0.002, lambda: 1 / 0)
        scheduler.schedule(0.003, seen.append, "after")
        scheduler.start()
        await asyncio.sleep(0.1)
        return scheduler, seen

    scheduler, seen = asyncio.run(main())
    assert seen == ["before"]  # it stopped: nothing runs on top of a failure
    assert scheduler.failure.line() == "ZeroDivisionError: division by zero"
    assert "Traceback" in scheduler.failure.traceback


def test_a_stalled_scheduler_shows_overdue_events():
    loop = asyncio.new_event_loop()
    try:
        scheduler = RealTimeScheduler(Clock(time.time() - 10), loop, stop_at_s=100.0)
        scheduler._started = True  # started, but its timer never fires: stalled
        scheduler.schedule(1.0, lambda: None)
        assert scheduler.overdue_s() > 8.0
    finally:
        loop.close()


def test_forged_handovers_and_misaddressed_messages_are_refused_before_they_change_anything():
    scenario = load_scenario(TWO_NODE)
    host = Host(0, NetworkPlan.build(scenario), ["alice"], {"alice": 0, "bob": 1})
    host.attach(VirtualScheduler(), lambda target, payload: None)
    forged = [
        [GroundTruthStore.ACQUIRE, "alice", "p1", 99],  # a host not in the run
        [GroundTruthStore.ACQUIRE, "alice", "p1", 1],  # a qubit nobody has
        [GroundTruthStore.TRANSFER, ["garbage"]],
        [GroundTruthStore.TRANSFER, 5],
        [-7, 1, 2],
        [1, "bob", "carol", 0.0, 0.1],  # a message kind with the wrong fields
        [3, "bob", "carol", 0.0, 0.1, "x"],
    ]
    for payload in forged:
        with pytest.raises(BadFrame):
            host.on_frame(payload)
    assert len(host.store) == 0


def test_a_node_exception_in_virtual_time_names_the_node_and_keeps_the_records(tmp_path):
    scenario = load_scenario({**CHAIN, "control": {"architecture": _controller(tmp_path)}})
    emulation = Emulation(scenario, results_dir=tmp_path / "runs", mode="virtual")
    with pytest.raises(RunFailed, match=r"node n\d failed: RuntimeError: controller bug"):
        emulation.run()
    folder = _folder(tmp_path / "runs")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "failed"
    assert "controller bug" in summary["reason"]
    assert "Traceback" in (folder / "error.txt").read_text()
    assert any(e["event"] == "herald" for e in _lines(folder / "events.jsonl"))


def _controller(tmp_path) -> str:
    path = tmp_path / "fails_on_fourth.py"
    path.write_text(FAILING_CONTROLLER)
    return f"{path}:FailsOnFourth"


# -- the CLI, in a subprocess -----------------------------------------------------------------


@pytest.mark.ray
def test_a_controller_exception_in_a_real_time_run_fails_it_in_one_line(tmp_path):
    path = _scenario_file(tmp_path, CHAIN)
    result = _cli(
        "run", path, "--controller", _controller(tmp_path), "--results", tmp_path / "runs", *QUIET
    )
    assert result.returncode == 1, result.stderr
    (line,) = _errors(result.stderr)
    assert "RuntimeError: controller bug on the 4th herald" in line
    assert "node n" in line  # the node whose controller raised
    assert "Traceback" not in result.stderr
    folder = _folder(tmp_path / "runs")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "failed" and "controller bug" in summary["reason"]
    error = (folder / "error.txt").read_text()
    assert "Traceback" in error and "fails_on_fourth.py" in error
    assert any(e["event"] == "herald" for e in _lines(folder / "events.jsonl"))


def test_debug_shows_the_traceback_on_screen(tmp_path):
    path = _scenario_file(tmp_path, CHAIN)
    result = _cli(
        "run",
        path,
        "--virtual",
        "--debug",
        "--controller",
        _controller(tmp_path),
        "--results",
        tmp_path / "runs",
        *QUIET,
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "fails_on_fourth.py" in result.stderr
    assert len(_errors(result.stderr)) == 1


def _read_only_mount(path: Path) -> bool:
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        return True
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(path)], capture_output=True
    )
    return done.returncode == 0


@pytest.mark.parametrize("case", ["file", "read-only", "dev-null", "cwd"])
def test_an_unusable_results_folder_is_one_line_and_exit_2_before_ray_starts(tmp_path, case):
    scenario = _scenario_file(tmp_path, TWO_NODE)
    cwd, results = tmp_path, None
    if case == "file":
        results = tmp_path / "a-file"
        results.write_text("x")
    elif case == "dev-null":
        results = Path("/dev/null")
    else:
        target = tmp_path / "ro"
        if not _read_only_mount(target):
            pytest.skip("cannot make a read-only folder here")
        if case == "read-only":
            results = target / "runs"
        else:
            cwd = target
    try:
        args = ["run", scenario, *QUIET] + (["--results", results] if results else [])
        result = _cli(*args, cwd=cwd, timeout=60)
    finally:
        if case in ("read-only", "cwd") and os.geteuid() == 0:
            subprocess.run(["umount", str(tmp_path / "ro")], check=False)
    assert result.returncode == 2, result.stdout + result.stderr
    (line,) = _errors(result.stderr)
    assert line.startswith("error: results:")
    assert "ray" not in (result.stdout + result.stderr).lower()  # Ray never started
    assert result.stderr.count("\n") == 1


@pytest.mark.ray
def test_a_full_disk_stops_the_run_with_whole_lines_and_status_failed(tmp_path):
    full = tmp_path / "full"
    full.mkdir()
    if (
        os.geteuid() != 0
        or subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(full)]
        ).returncode
        != 0
    ):
        pytest.skip("needs root to mount a small tmpfs")
    try:
        path = _scenario_file(tmp_path, {**TWO_NODE, "duration_s": 2.0})
        result = _cli("run", path, "--results", full, *QUIET)
        folder = _folder(full)
        names = {p.name for p in folder.iterdir()}
        summary = json.loads((folder / "summary.json").read_text())
        events = _lines(folder / "events.jsonl")
        pairs = _lines(folder / "pairs.jsonl")
    finally:
        subprocess.run(["umount", str(full)], check=False)
    assert result.returncode == 1, result.stderr
    (line,) = _errors(result.stderr)
    assert "No space left on device" in line
    assert summary["status"] == "failed" and "No space left" in summary["reason"]
    assert not [n for n in names if n.endswith(".tmp") or n == ".reserve"]
    assert events and all(isinstance(e, dict) for e in events + pairs)
    assert 0 < summary["emulated_s"] < 2.0


def test_a_full_disk_in_virtual_time_under_a_file_size_limit(tmp_path):
    """Without root: a tiny RLIMIT_FSIZE stands in for a full disk."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (150_000, 150_000))

    path = _scenario_file(tmp_path, {**TWO_NODE, "duration_s": 2.0})
    result = _cli(
        "run", path, "--virtual", "--results", tmp_path / "runs", *QUIET, preexec_fn=limit
    )
    assert result.returncode == 1, result.stderr
    (line,) = _errors(result.stderr)
    assert "File too large" in line
    folder = _folder(tmp_path / "runs")
    assert json.loads((folder / "summary.json").read_text())["status"] == "failed"
    assert not list(folder.glob("*.tmp"))
    assert _lines(folder / "events.jsonl")


def _wait_for(predicate, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.ray
@pytest.mark.parametrize(("sig", "status"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_stopped_run_reports_how_far_it_got_and_rates_per_emulated_time(tmp_path, sig, status):
    path = _scenario_file(tmp_path, {**TWO_NODE, "duration_s": 2.0, "dilation": 5})
    runs = tmp_path / "runs"
    process = subprocess.Popen(
        [sys.executable, "-m", "qnemu", "run", str(path), "--results", str(runs), *QUIET],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: runs.exists() and any(runs.iterdir()), 120)
        time.sleep(1.5 + 3.0)  # the start margin, then 0.6 s of emulated time (x5)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == status, stderr
    folder = _folder(runs)
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["status"] == "interrupted"
    assert ("SIGTERM" if sig == signal.SIGTERM else "Ctrl-C") in summary["reason"]
    emulated = summary["emulated_s"]
    assert 0.0 < emulated < 2.0
    tenant = summary["tenants"]["ab"]
    assert tenant["pairs_delivered"] == len(_lines(folder / "pairs.jsonl"))
    assert tenant["rate_hz"] == pytest.approx(tenant["pairs_delivered"] / emulated)
    assert summary["emulator"]["actors"] == 2 and "dilation" in summary["emulator"]


@pytest.mark.ray
def test_an_address_that_is_not_ray_fails_fast_in_one_line(tmp_path):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)  # accepts TCP, never speaks
    try:
        path = _scenario_file(tmp_path, TWO_NODE)
        started = time.monotonic()
        result = _cli(
            "run",
            path,
            "--address",
            f"127.0.0.1:{server.getsockname()[1]}",
            "--results",
            tmp_path / "runs",
            *QUIET,
            timeout=60,
        )
        took = time.monotonic() - started
    finally:
        server.close()
    assert result.returncode == 2
    (line,) = _errors(result.stderr)
    assert "not a Ray cluster" in line
    assert took < 30  # bounded (the probe gives up after 3 s; imports take the rest)
    assert not (tmp_path / "runs").exists()


def _marked(mark: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return found


def _is_agent(cmdline: str) -> bool:
    return any(
        name in cmdline
        for name in (
            "dashboard/agent.py",
            "DashboardAgent",
            "runtime_env/agent/main.py",
            "RuntimeEnvAgent",
        )
    )


@pytest.mark.ray
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_no_ray_process_outlives_a_driver_stopped_during_start_up(tmp_path, sig):
    mark = uuid.uuid4().hex
    path = _scenario_file(tmp_path, TWO_NODE)
    env = {**os.environ, "QNEMU_TEST_MARK": mark}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "qnemu",
            "run",
            str(path),
            "--results",
            str(tmp_path / "runs"),
            *QUIET,
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the raylet's agents are starting: the window in which they used to be orphaned
        _wait_for(lambda: any(_is_agent(c) for c in _marked(mark)), 120)
        process.send_signal(sig)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
    assert "Token authentication" not in stderr
    # Ctrl-C during start-up exits 130 (Ray's teardown at exit used to crash it: -11)
    assert process.returncode == (130 if sig == signal.SIGINT else -signal.SIGKILL), stderr
    deadline = time.monotonic() + 20  # orphaned agents used to live on for a minute
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked(mark) == [], _survivors(mark)


def _survivors(mark: str) -> str:
    """What a failure needs to tell its cause: each survivor's parent, state, age and
    whether it carries the reaper's mark (the reaper itself is listed too, if still on)."""
    lines = []
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    ticks = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes() if entry.name.isdigit() else b""
            if mark.encode() not in environ:
                continue
            stat = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
        except OSError:
            continue
        age = uptime - int(stat[19]) / ticks
        reaped = f"{reaper.MARK_VARIABLE}=".encode() in environ
        lines.append(
            f"pid {entry.name} ppid {stat[1]} state {stat[0]} age {age:.1f} s "
            f"reaper mark {reaped}: {command.strip()}"
        )
    return "\n".join(lines)


# -- real actors, in this process -------------------------------------------------------------


def _forge(emulation: Emulation) -> dict[str, int]:
    """Attack every actor's port: garbage, forged hand-overs without and with the secret."""
    sent = {"peers": 0, "frames": 0}
    handovers = [frame([GroundTruthStore.ACQUIRE, "alice", f"p{i}", 0]) for i in range(3)]
    for address, port in emulation.book.values():
        with socket.create_connection((address, port), timeout=5) as sock:
            sock.sendall(os.urandom(4096))
        with socket.create_connection((address, port), timeout=5) as sock:
            greeting = sock.recv(len(MAGIC) + NONCE_BYTES)
            sock.sendall(b"\x00\x00\x00\x01" + b"\x00" * 32 + b"".join(handovers))
        sent["peers"] += 2
        with socket.create_connection((address, port), timeout=5) as sock:
            greeting = sock.recv(len(MAGIC) + NONCE_BYTES)
            nonce = greeting[len(MAGIC) :]
            sock.sendall((1000).to_bytes(4, "big") + mac(emulation._secret, nonce, 1000))
            bad = [
                b"\x00\x00\x00\x02\xc1\xc1",
                frame({"x": 1}),
                frame([-9, "no"]),
                frame([GroundTruthStore.ACQUIRE, "alice", "p0", 55]),
                frame([GroundTruthStore.TRANSFER, [1, 2]]),
                frame([2, "alice", "nobody", 0.0, 0.1, "x", "y", "z"]),
            ]
            sock.sendall(b"".join(bad))
            sent["frames"] += len(bad)
            time.sleep(0.2)
    return sent


@pytest.mark.ray
def test_garbage_and_forged_frames_during_a_run_change_nothing(ray_local, tmp_path):
    sent = {}

    def attack(progress):
        if not sent:
            sent.update(_forge(emulation))

    scenario = load_scenario(TWO_NODE)
    emulation = Emulation(scenario, results_dir=tmp_path, on_progress=attack)
    summary = emulation.run()
    assert sent
    assert summary["status"] == "completed"
    assert summary["emulator"]["peers_rejected"] == sent["peers"]
    assert summary["emulator"]["frames_rejected"] == sent["frames"]
    assert summary["counts"]["frame_rejected"] == sent["peers"] + sent["frames"]
    assert summary["tenants"]["ab"]["pairs_delivered"] > 0


@pytest.mark.ray
@pytest.mark.parametrize(
    ("sig", "words"), [(signal.SIGSTOP, "did not answer"), (signal.SIGKILL, "died")]
)
def test_a_frozen_or_killed_actor_fails_the_run_naming_its_node(ray_local, tmp_path, sig, words):
    hit = {}

    def strike(progress):
        if not hit and progress.emulated_s > 0.2:
            hit["at"] = time.monotonic()
            os.kill(emulation.actor_pids[1], sig)

    scenario = load_scenario({**TWO_NODE, "duration_s": 3.0, "dilation": 5})
    emulation = Emulation(scenario, results_dir=tmp_path, on_progress=strike)
    try:
        with pytest.raises(RunFailed) as failed:
            emulation.run()
        detected_s = time.monotonic() - hit["at"]
    finally:
        if sig == signal.SIGSTOP:
            os.kill(emulation.actor_pids[1], signal.SIGCONT)
    assert "node bob" in str(failed.value) and words in str(failed.value)
    assert detected_s < 15
    print(f"{signal.Signals(sig).name}: detected in {detected_s:.1f} s")
    summary = emulation.summary
    assert summary["status"] == "failed" and "node bob" in summary["reason"]
    assert 0 < summary["emulated_s"] < 3.0
