"""How large a chain one machine (or a cluster) emulates without overload, and what it costs.

Run: ``.venv/bin/python benchmarks/cluster.py [--quick] [--max-nodes N] [--address ADDR]``.
For two series — one node per actor, and packed (``nodes_per_actor`` chosen so the
machine runs one actor per core, or ``--pack``) — it runs trapped-ion chains of
growing size (10 km hops, a 3-hop QKD tenant every 3 nodes) at a fixed dilation and
records, per size: overloaded or not, start-up time (Ray start/join to every actor
listening), total resident memory of the actors, delivered pairs and lateness p99. A
series stops at its first overloaded (or failed) size. The largest size that ran without
overload is each series' result (target: 200 nodes packed). Writes
``benchmarks/results/cluster.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

from qnemu.emulation import Emulation
from qnemu.errors import QnemuError
from qnemu.runtime import ray_backend
from qnemu.runtime.placement import auto_nodes_per_actor
from qnemu.scenario import Scenario, load_scenario

RESULTS = Path(__file__).resolve().parent / "results" / "cluster.json"
FULL = {"one": [10, 20, 40, 60, 80, 120, 160, 200], "packed": [50, 100, 200, 300, 400, 600]}
QUICK = {"one": [10, 20, 40], "packed": [50, 100, 200]}


def chain(n: int, per_actor: int, duration_s: float, dilation: float) -> Scenario:
    """An n-node trapped-ion chain, 10 km hops, a 3-hop QKD tenant every 3 nodes."""
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
            "name": f"bench-cluster{n}",
            "seed": 17,
            "duration_s": duration_s,
            "dilation": dilation,
            "topology": {
                "generator": "chain",
                "n": n,
                "hop_km": 10,
                "hardware": "trapped_ion",
                "memories": 8,
            },
            "runtime": {"nodes_per_actor": per_actor},
            # a load test: every tenant runs, whatever admission would predict for it
            # (3-hop trapped-ion pairs reach F ~0.62, where QKD distills no key)
            "control": {"admission": "none"},
            "tenants": tenants,
        }
    )


def _rss_self() -> int:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def measure(n: int, per_actor: int, args: argparse.Namespace) -> dict[str, Any]:
    """One run; the figures that matter for scaling."""
    scenario = chain(n, per_actor, args.duration, args.dilation)
    wall = time.perf_counter()
    with tempfile.TemporaryDirectory() as results:
        try:
            summary = Emulation(scenario, address=args.address, results_dir=results).run()
        except QnemuError as exc:
            return {"nodes": n, "nodes_per_actor": per_actor, "error": str(exc), "overloaded": True}
    emulator = summary["emulator"]
    return {
        "nodes": n,
        "nodes_per_actor": per_actor,
        "actors": emulator["actors"],
        "ray_nodes_used": emulator["ray_nodes_used"],
        "overloaded": emulator["overloaded"],
        "startup_s": round(emulator["startup_s"], 3),
        "actor_memory_mb": round(emulator["actor_rss_bytes"] / 2**20, 1),
        "driver_memory_mb": round(_rss_self() / 2**20, 1),
        "lateness_p99_ms": round((emulator["lateness_p99_s"] or 0.0) * 1e3, 3),
        "lateness_tolerance_ms": round(emulator["lateness_tolerance_s"] * 1e3, 3),
        "pairs_delivered": sum(t["pairs_delivered"] for t in summary["tenants"].values()),
        "messages_per_wall_s": round(emulator["messages_per_wall_s"], 1),
        "wall_s": round(time.perf_counter() - wall, 2),
    }


def series(name: str, sizes: list[int], args: argparse.Namespace, cpus: int) -> dict:
    runs = []
    for n in sizes:
        if n > args.max_nodes:
            break
        per_actor = 1 if name == "one" else (args.pack or auto_nodes_per_actor(n, cpus))
        row = measure(n, per_actor, args)
        runs.append(row)
        print(f"{name:6s} {json.dumps(row)}", flush=True)
        if row["overloaded"]:
            break
    ok = [r["nodes"] for r in runs if not r["overloaded"]]
    return {"runs": runs, "largest_without_overload": max(ok) if ok else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer, smaller sizes")
    parser.add_argument("--max-nodes", type=int, default=10**6, help="largest chain to try")
    parser.add_argument("--address", default=None, help="Ray cluster to join (default: local)")
    parser.add_argument(
        "--pack",
        type=int,
        default=None,
        help="nodes per actor when packed (default: one actor per core)",
    )
    parser.add_argument("--duration", type=float, default=0.1, help="emulated seconds per run")
    parser.add_argument("--dilation", type=float, default=50.0)
    parser.add_argument(
        "--series",
        choices=("both", "one", "packed"),
        default="both",
        help="run only one series (the other is recorded as not run)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    skipped: dict = {"runs": [], "largest_without_overload": None, "not_run": True}

    def maybe(name: str) -> dict:
        wanted = args.series in ("both", name)
        return series(name, sizes[name], args, cpus) if wanted else skipped

    started = ray_backend.start_ray(args.address)
    try:
        cpus = ray_backend.cluster_cpus()
        ray_nodes = len(ray_backend.cluster_nodes())
        result = {
            "benchmark": "cluster",
            "quick": args.quick,
            "address": args.address,
            "machine": {
                "cpus": os.cpu_count(),
                "cluster_cpus": cpus,
                "ray_nodes": ray_nodes,
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "duration_s": args.duration,
            "dilation": args.dilation,
            "target": "200 nodes packed without overload",
            "one_node_per_actor": maybe("one"),
            "packed": maybe("packed"),
        }
    finally:
        if started:
            ray_backend.stop_ray()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    one = result["one_node_per_actor"]["largest_without_overload"]
    print(
        f"largest without overload: 1/actor {one}, "
        f"packed {result['packed']['largest_without_overload']}; wrote {args.out}"
    )


if __name__ == "__main__":
    main()
