"""How much a comparison pays per run: 4 short runs in one ``qnemu compare`` against one run.

Measured in wall seconds on this machine, each as a whole command in a subprocess (Python
start, imports, Ray start-up included), on a 3-node chain emulating 0.02 s per run:

- ``one_run_s``: ``qnemu run`` (one run; starts and stops its embedded Ray);
- ``compare_s``: ``qnemu compare --repeats N`` (Ray started once, every run on it);
- ``compare_ray_per_run_s``: the same comparison with Ray started and stopped by every run
  (how a comparison would behave without the shared Ray), unless ``--skip-per-run``.

Every command runs at one fixed dilation (``--dilation``, default 50), so that the numbers
measure start-up, not the calibration's choice. The target: ``compare_s <= 2.5 x one_run_s``
for 4 runs. Prints the numbers and writes ``benchmarks/results/compare_startup.json``. Not a
test: nothing here asserts a time.

    .venv/bin/python benchmarks/compare_startup.py [--runs 4] [--dilation 50]
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "compare_startup.json"
SCENARIO = """name: startup
seed: 5
duration_s: 0.02
topology: {generator: chain, n: 3, hop_km: 10, hardware: trapped_ion, memories: 4}
tenants:
  - {name: t, app: dqc, src: n0, dst: n2, rate_hz: 100, f_min: 0.6}
"""
# ``compare`` with the shared Ray turned off: every Emulation starts and stops its own
PER_RUN = (
    "import sys, contextlib\n"
    "from qnemu.experiments import runner\n"
    "runner._shared_ray = lambda address: contextlib.nullcontext("
    "type('R', (), {'started': False})())\n"
    "from qnemu.cli import app\n"
    "sys.exit(app(args=sys.argv[1:]))\n"
)


def timed(command: list[str]) -> float:
    """Wall seconds of one command; a failure stops the benchmark with its stderr."""
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{done.stderr[-2000:]}")
    return elapsed


def main() -> None:
    """Measure, print and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--dilation", default="50")
    parser.add_argument("--skip-per-run", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "startup.yaml"
        scenario.write_text(SCENARIO)
        common = ["--results", str(Path(tmp) / "out"), "--dilation", args.dilation]
        compare = [
            "compare",
            str(scenario),
            "--controllers",
            "distributed",
            "--repeats",
            str(args.runs),
            "--quiet",
            *common,
        ]
        one = timed(
            [
                sys.executable,
                "-m",
                "qnemu",
                "run",
                str(scenario),
                "--quiet",
                "--no-metrics",
                *common,
            ]
        )
        print(f"one run (qnemu run): {one:.1f} s", flush=True)
        shared = timed([sys.executable, "-m", "qnemu", *compare])
        print(
            f"{args.runs} runs (qnemu compare, one Ray): {shared:.1f} s = "
            f"{shared / one:.2f}x one run",
            flush=True,
        )
        per_run = None
        if not args.skip_per_run:
            per_run = timed([sys.executable, "-c", PER_RUN, *compare])
            print(
                f"{args.runs} runs (Ray started by every run): {per_run:.1f} s = "
                f"{per_run / one:.2f}x one run",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "compare_startup",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "runs": args.runs,
                "dilation": float(args.dilation),
                "one_run_s": round(one, 2),
                "compare_s": round(shared, 2),
                "compare_ray_per_run_s": None if per_run is None else round(per_run, 2),
                "ratio": round(shared / one, 2),
                "ratio_ray_per_run": None if per_run is None else round(per_run / one, 2),
                "target_ratio": 2.5,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
