"""Node-loop benchmark: classical messages the plain node logic handles per wall second.

Runs a busy 9-node chain (telecom memories, 4 memory slots per node, one end-to-end
tenant) in virtual time, where nothing but the node logic, the ground-truth store and the
scheduler run, and reports messages released per wall second (best of ``--repeats``).
Run it against another checkout to compare link layers:

    .venv/bin/python benchmarks/node_loop.py                     # this checkout
    PYTHONPATH=/path/to/other/checkout .venv/bin/python benchmarks/node_loop.py --no-save

Writes ``benchmarks/results/node_loop.json`` (unless ``--no-save``). Not a test.
"""

from __future__ import annotations

import argparse
import json
import platform
import tempfile
import time
from pathlib import Path

import qnemu
from qnemu.emulation import Emulation
from qnemu.scenario import load_scenario

RESULTS = Path(__file__).parent / "results" / "node_loop.json"
BUSY = {
    "base": "er_telecom",
    "t1_s": 1.0,
    "t2_s": 0.05,
    "source_efficiency": 0.9,
    "coupling_efficiency": 0.9,
    "memory_efficiency": 0.9,
    "detector_efficiency": 0.9,
    "swap_success": 1.0,
}


def scenario(duration_s: float) -> object:
    """The benchmark chain; a demand far above what it delivers (any link layer)."""
    return load_scenario(
        {
            "name": "node-loop",
            "seed": 3,
            "duration_s": duration_s,
            "topology": {
                "generator": "chain",
                "n": 9,
                "hop_km": 10,
                "hardware": "mem",
                "memories": 4,
            },
            "hardware": {"mem": BUSY},
            "control": {
                "architecture": "distributed",
                "max_purification_rounds": 0,
                "admission": "none",
                "cpu_scale": 0.0,
            },
            "tenants": [
                {"name": "t", "app": "dqc", "src": "n0", "dst": "n8", "rate_hz": 1e5, "f_min": 0.5}
            ],
        }
    )


def measure(duration_s: float) -> dict:
    """One virtual run: messages released, wall seconds, messages per wall second."""
    with tempfile.TemporaryDirectory() as folder:
        # planning (and the controller's twin) happen here, outside the timed loop
        emulation = Emulation(scenario(duration_s), results_dir=folder, mode="virtual")
        start = time.perf_counter()
        summary = emulation.run()
        wall = time.perf_counter() - start
    messages = summary["emulator"]["messages"]
    return {
        "messages": messages,
        "wall_s": wall,
        "messages_per_wall_s": messages / wall,
        "pairs_delivered": summary["tenants"]["t"]["pairs_delivered"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration-s", type=float, default=0.2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    runs = [measure(args.duration_s) for _ in range(args.repeats)]
    best = max(runs, key=lambda r: r["messages_per_wall_s"])
    print(
        f"qnemu from {Path(qnemu.__file__).parent}: {best['messages']} messages in "
        f"{best['wall_s']:.2f} s wall -> {best['messages_per_wall_s']:,.0f} msgs/s "
        f"({best['pairs_delivered']} pairs delivered; best of {args.repeats})"
    )
    if not args.no_save:
        RESULTS.write_text(
            json.dumps({"machine": platform.platform(), "runs": runs, "best": best}, indent=2)
            + "\n"
        )
        print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
