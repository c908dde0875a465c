"""What live telemetry costs: the same 20-node Ray run with and without it; scrape time.

Run: ``.venv/bin/python benchmarks/telemetry.py``. Prints the figures and writes
``benchmarks/results/telemetry.json`` with each next to its target:

- delivered pairs and lateness p99 of one 20-node chain run with telemetry off and on
  (alternating, ``--repeats`` times each), target: on costs < 10 % of delivered pairs and
  does not make a non-overloaded run overloaded;
- ``/metrics`` scrape time for a 50-node network (after a virtual-time run filled every
  series), target < 50 ms.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from qnemu.emulation import Emulation
from qnemu.scenario import Scenario, load_scenario
from qnemu.telemetry import start_telemetry

RESULTS = Path(__file__).resolve().parent / "results" / "telemetry.json"


def chain(n: int, duration_s: float, dilation: float | None) -> Scenario:
    """An n-node trapped-ion chain (10 km hops) with a 3-hop tenant every 3 nodes."""
    nodes = [{"id": f"n{i}", "hardware": "trapped_ion", "memories": 8} for i in range(n)]
    links = [{"a": f"n{i}", "b": f"n{i + 1}", "length_km": 10.0} for i in range(n - 1)]
    tenants = [
        {
            "name": f"t{k}",
            "app": "qkd",
            "src": f"n{3 * k}",
            "dst": f"n{3 * k + 3}",
            "rate_hz": 10,
            "f_min": 0.6,
        }
        for k in range((n - 1) // 3)
    ]
    return load_scenario(
        {
            "name": f"bench-chain{n}",
            "seed": 17,
            "duration_s": duration_s,
            "dilation": dilation if dilation is not None else "auto",
            "topology": {"nodes": nodes, "links": links},
            "tenants": tenants,
        }
    )


def one_run(scenario: Scenario, telemetry: bool) -> dict[str, Any]:
    """Delivered pairs and emulator health of one Ray run."""
    with tempfile.TemporaryDirectory() as folder:
        sink = start_telemetry(port=0) if telemetry else None
        summary = Emulation(scenario, results_dir=folder, telemetry=sink).run()
    emulator = summary["emulator"]
    return {
        "delivered": sum(t["pairs_delivered"] for t in summary["tenants"].values()),
        "events": sum(summary["counts"].values()),
        "lateness_p99_ms": emulator["lateness_p99_s"] * 1e3,
        "lateness_tolerance_ms": emulator["lateness_tolerance_s"] * 1e3,
        "overloaded": emulator["overloaded"],
        "dilation": emulator["dilation"],
        "actors": emulator["actors"],
    }


def overhead(repeats: int, duration_s: float, dilation: float) -> dict[str, Any]:
    """Alternate off/on runs of the same 20-node scenario on one embedded Ray."""
    from qnemu.runtime.ray_backend import start_ray, stop_ray

    scenario = chain(20, duration_s, dilation)
    started = start_ray(None)
    runs: dict[str, list[dict[str, Any]]] = {"off": [], "on": []}
    try:
        for _ in range(repeats):
            for mode in ("off", "on"):
                runs[mode].append(one_run(scenario, telemetry=mode == "on"))
                print(f"  telemetry {mode}: {runs[mode][-1]}")
    finally:
        if started:
            stop_ray()
    off = statistics.mean(r["delivered"] for r in runs["off"])
    on = statistics.mean(r["delivered"] for r in runs["on"])
    return {
        "nodes": 20,
        "duration_s": duration_s,
        "dilation": dilation,
        "runs": runs,
        "delivered_off_mean": off,
        "delivered_on_mean": on,
        "throughput_cost": (off - on) / off if off else None,
        "throughput_cost_target": 0.10,
        "lateness_p99_ms_off_max": max(r["lateness_p99_ms"] for r in runs["off"]),
        "lateness_p99_ms_on_max": max(r["lateness_p99_ms"] for r in runs["on"]),
        "overloaded_off": any(r["overloaded"] for r in runs["off"]),
        "overloaded_on": any(r["overloaded"] for r in runs["on"]),
    }


def scrape_time(nodes: int = 50, scrapes: int = 50) -> dict[str, Any]:
    """Median and p95 wall time of GET /metrics after a virtual run of ``nodes`` nodes."""
    scenario = chain(nodes, duration_s=0.05, dilation=1)
    sink = start_telemetry(port=0, in_process=True)
    collector_close = sink.collector.close
    sink.close = collector_close  # keep serving after the run: we scrape it below
    try:
        with tempfile.TemporaryDirectory() as folder:
            Emulation(scenario, mode="virtual", results_dir=folder, telemetry=sink).run()
        times, size = [], 0
        for _ in range(scrapes):
            start = time.perf_counter()
            with urllib.request.urlopen(sink.url, timeout=5) as response:
                size = len(response.read())
            times.append(time.perf_counter() - start)
        series = sum(
            1
            for line in sink.collector.exposition().decode().splitlines()
            if line and not line.startswith("#")
        )
    finally:
        sink.shutdown()
    times.sort()
    return {
        "nodes": nodes,
        "scrapes": scrapes,
        "samples": series,
        "bytes": size,
        "median_ms": statistics.median(times) * 1e3,
        "p95_ms": times[int(0.95 * (len(times) - 1))] * 1e3,
        "target_ms": 50.0,
    }


def main() -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--duration", type=float, default=0.04, help="emulated seconds")
    parser.add_argument("--dilation", type=float, default=500.0)
    args = parser.parse_args()
    print("scrape time, 50 nodes:")
    scrape = scrape_time()
    print(f"  {scrape}")
    print("20-node chain, telemetry off / on:")
    cost = overhead(args.repeats, args.duration, args.dilation)
    results = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "overhead_20_nodes": cost,
        "scrape_50_nodes": scrape,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(
        f"delivered off {cost['delivered_off_mean']:.0f}, on {cost['delivered_on_mean']:.0f}"
        f" (cost {cost['throughput_cost']:+.1%}, target < 10%); lateness p99 max off "
        f"{cost['lateness_p99_ms_off_max']:.3f} ms, on {cost['lateness_p99_ms_on_max']:.3f} ms;"
        f" overloaded off {cost['overloaded_off']}, on {cost['overloaded_on']}"
    )
    print(
        f"scrape 50 nodes: median {scrape['median_ms']:.2f} ms, p95 {scrape['p95_ms']:.2f} ms"
        f" (target < 50 ms); wrote {RESULTS}"
    )
    return results


if __name__ == "__main__":
    main()
