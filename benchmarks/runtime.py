"""Runtime benchmark: chains of 5, 20 and 50 nodes through the real ``qnemu run``.

For each chain it reports the wall time from launching ``qnemu run`` to the first
delivered pair, actor start-up time, peak RSS per node actor, classical messages per wall
second, transport lateness p50/p99 (idle, from the start-up calibration, and loaded, from
the run), the dilation ``auto`` chose and wall seconds per emulated second. A throughput
sweep then lowers the dilation of a busy 20-node chain until the run is overloaded and
reports the most classical messages per wall second it sustained without overload, with
the actors' loop CPU per message split into node logic, received frames and the loop
itself. First, the real-time scheduler alone (empty events, no Ray) shows what waking up
on time costs this machine at 1,000-100,000 events a second.

    .venv/bin/python benchmarks/runtime.py [--quick] [--out benchmarks/results/runtime.json]

Performance lives here, not in timed tests; the figures go into the issue note.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import yaml

TARGET = 20_000  # classical messages per wall second (issue 11)
DEFAULT = Path(__file__).resolve().parents[1] / "qnemu" / "examples" / "default.yaml"
# a busy telecom memory: links at tens of kHz, so the classical plane is loaded
BUSY = {
    "mem": {
        "base": "er_telecom",
        "t1_s": 1.0,
        "t2_s": 0.05,
        "source_efficiency": 0.9,
        "coupling_efficiency": 0.9,
        "memory_efficiency": 0.9,
        "detector_efficiency": 0.9,
        "swap_success": 1.0,
    }
}


def chain(n: int, duration_s: float, dilation: float | str = "auto", busy: bool = False) -> dict:
    """An n-node chain scenario (the default's shape), one end-to-end tenant."""
    scenario = yaml.safe_load(DEFAULT.read_text())
    scenario.update(name=f"bench-chain-{n}", duration_s=duration_s, dilation=dilation)
    scenario["topology"]["n"] = n
    # a load test: the tenant always has a request waiting and is admitted whatever the
    # controller predicts for a long chain
    scenario["tenants"][0].update(dst=f"n{n - 1}", arrivals="backlog", f_min=0.5)
    scenario["control"]["admission"] = "none"
    if busy:
        scenario["name"] = f"bench-busy-{n}-d{dilation}"
        scenario["hardware"] = BUSY
        scenario["topology"]["hardware"] = "mem"
        scenario["control"]["max_purification_rounds"] = 0
    return scenario


def busy_cores(samples: list[tuple[float, float]]) -> float | None:
    """Cores the actors used in the middle half of the stretch where they were busy."""
    busy = [
        i
        for i in range(1, len(samples))
        if samples[i][1] - samples[i - 1][1] > 0.2 * (samples[i][0] - samples[i - 1][0])
    ]
    if len(busy) < 4:
        return None
    first, last = samples[busy[len(busy) // 4]], samples[busy[3 * len(busy) // 4]]
    return (last[1] - first[1]) / (last[0] - first[0])


def actor_usage() -> tuple[list[int], float]:
    """Resident memory of every live HostActor process (bytes), and the CPU seconds (user +
    system) they used so far, in one pass over Linux /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    sizes, cpu_s = [], 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if b"HostActor" not in (entry / "cmdline").read_bytes():
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cpu_s += (int(fields[11]) + int(fields[12])) / tick
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    sizes.append(int(line.split()[1]) * 1024)
        except OSError:  # the process ended while we looked
            continue
    return sizes, cpu_s


def run(scenario: dict, workdir: Path) -> dict:
    """Launch ``qnemu run`` on a scenario; measure from the outside while it runs."""
    path = workdir / f"{scenario['name']}.yaml"
    path.write_text(yaml.safe_dump(scenario))
    results = workdir / "runs"
    peak: list[int] = []
    cpu: list[tuple[float, float]] = []
    first_pair: list[float] = []
    done = threading.Event()
    started = time.time()

    def watch() -> None:
        while not done.is_set():
            sizes, cpu_s = actor_usage()
            peak.extend(sizes)
            cpu.append((time.time(), cpu_s))
            if not first_pair:
                for pairs in results.glob(f"*-{scenario['name']}/pairs.jsonl"):
                    if pairs.stat().st_size > 0:
                        first_pair.append(time.time() - started)
            time.sleep(0.1)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "qnemu",
            "run",
            str(path),
            "--results",
            str(results),
            "--quiet",
            "--no-metrics",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    done.set()
    watcher.join()
    if completed.returncode != 0:
        raise RuntimeError(completed.stderr[-2000:])
    folder = Path(completed.stdout.split("results:")[-1].split()[0])
    summary = json.loads((folder / "summary.json").read_text())
    emulator = summary["emulator"]
    idle = re.search(r"timer (\d+) µs \+ transport (\d+) µs", completed.stdout)
    cores = busy_cores(cpu)
    rate = emulator["messages_per_wall_s"]
    return {
        "nodes": scenario["topology"]["n"],
        "wall_to_first_pair_s": first_pair[0] if first_pair else None,
        "wall_total_s": time.time() - started,
        "actor_startup_s": emulator["startup_s"],
        "actors": emulator["actors"],
        "nodes_per_actor": emulator["nodes_per_actor"],
        "rss_per_actor_mb": (max(peak) / 2**20) if peak else None,
        "messages_per_wall_s": emulator["messages_per_wall_s"],
        "lateness_idle_timer_us": int(idle.group(1)) if idle else None,
        "lateness_idle_transport_us": int(idle.group(2)) if idle else None,
        "lateness_p50_ms": emulator["lateness_p50_s"] * 1e3,
        "lateness_p99_ms": emulator["lateness_p99_s"] * 1e3,
        "lateness_tolerance_ms": emulator["lateness_tolerance_s"] * 1e3,
        "overloaded": emulator["overloaded"],
        "actor_cores": cores,
        "actor_cpu_us_per_message": cores / rate * 1e6 if cores and rate else None,
        "loop_cpu_us_per_message": emulator.get("actor_cpu_us_per_message"),
        "wakes_per_message": emulator.get("wakes_per_message"),
        "dilation": emulator["dilation"],
        "wall_per_emulated_s": emulator["wall_per_emulated_s"],
        "pairs_delivered": sum(t["pairs_delivered"] for t in summary["tenants"].values()),
    }


def wake_cost(rate_hz: float, seconds: float = 2.0) -> dict:
    """CPU of the real-time scheduler itself: events with empty callbacks at Poisson times,
    ``rate_hz`` a second, on a bare asyncio loop (no Ray, no sockets). Thread CPU (user,
    system) and voluntary context switches per event, and the release lateness."""
    import asyncio
    import random
    import resource

    from qnemu.runtime.clock import Clock
    from qnemu.runtime.scheduler import RealTimeScheduler

    async def measure() -> dict:
        loop = asyncio.get_running_loop()
        scheduler = RealTimeScheduler(Clock(time.time() + 0.05), loop, stop_at_s=seconds + 1)
        draw, t, events = random.Random(1), 0.0, 0
        while t < seconds:
            t += draw.expovariate(rate_hz)
            scheduler.schedule(t, lambda: None, measured=True)
            events += 1
        done = loop.create_future()
        scheduler.schedule(seconds + 0.01, lambda: done.set_result(None))
        before = resource.getrusage(resource.RUSAGE_THREAD)
        scheduler.start()
        await done
        after = resource.getrusage(resource.RUSAGE_THREAD)
        late = sorted(scheduler.lateness_s)
        return {
            "events_per_s": rate_hz,
            "user_us_per_event": (after.ru_utime - before.ru_utime) / events * 1e6,
            "system_us_per_event": (after.ru_stime - before.ru_stime) / events * 1e6,
            "sleeps_per_event": (after.ru_nvcsw - before.ru_nvcsw) / events,
            "lateness_p50_us": late[len(late) // 2] * 1e6,
        }

    return asyncio.run(measure())


def main() -> None:
    """Run the chains and the throughput sweep; print a table and write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 and 20 nodes, short runs")
    parser.add_argument("--out", default="benchmarks/results/runtime.json")
    args = parser.parse_args()
    sizes = (5, 20) if args.quick else (5, 20, 50)
    results: dict = {"cpus": os.cpu_count(), "chains": [], "throughput": [], "wake_cost": []}
    # what waking up on time costs this machine, before any node logic
    for rate in (1_000, 5_000, 20_000, 100_000):
        row = wake_cost(rate)
        results["wake_cost"].append(row)
        print(json.dumps({k: round(v, 2) for k, v in row.items()}), flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        for n in sizes:
            row = run(chain(n, 0.2 if n > 5 else 0.5), Path(workdir))
            results["chains"].append(row)
            print(json.dumps(row), flush=True)
        for dilation in (200, 100, 50, 20, 10):
            row = run(chain(20, 0.02 if args.quick else 0.05, dilation, busy=True), Path(workdir))
            results["throughput"].append(row)
            print(
                json.dumps(
                    {
                        k: row[k]
                        for k in (
                            "actors",
                            "dilation",
                            "messages_per_wall_s",
                            "lateness_p99_ms",
                            "lateness_tolerance_ms",
                            "overloaded",
                            "actor_cpu_us_per_message",
                            "loop_cpu_us_per_message",
                            "wakes_per_message",
                        )
                    }
                ),
                flush=True,
            )
            if row["overloaded"]:
                break
    sustained = [r["messages_per_wall_s"] for r in results["throughput"] if not r["overloaded"]]
    results["max_messages_per_wall_s_without_overload"] = max(sustained, default=None)
    # messages per wall second x wall tolerance = messages per emulated second x emulated
    # tolerance: fixed by the chain, whatever the dilation. So the target rate fixes the p99
    # lateness the machine must hold, and the CPU per message fixes the cores it needs.
    last = results["throughput"][-1]
    per_emulated_s = last["messages_per_wall_s"] * last["dilation"]
    tolerance_emulated_s = last["lateness_tolerance_ms"] / 1e3 / last["dilation"]
    cpu_us = [r["actor_cpu_us_per_message"] for r in results["throughput"]]
    cpu_us = [c for c in cpu_us if c]
    results["target"] = {
        "messages_per_wall_s": TARGET,
        "messages_per_emulated_s": per_emulated_s,
        "dilation_needed": per_emulated_s / TARGET,
        "p99_lateness_allowed_ms": per_emulated_s * tolerance_emulated_s / TARGET * 1e3,
        "actor_cores_needed": TARGET * min(cpu_us) / 1e6 if cpu_us else None,
    }
    print(
        f"max classical messages per wall second without overload: "
        f"{results['max_messages_per_wall_s_without_overload']}"
    )
    print(f"the {TARGET} target on this chain: {json.dumps(results['target'])}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
