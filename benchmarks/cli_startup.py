"""How long each ``qnemu`` command takes to start, before Ray (or any run) starts.

Each command runs whole in a subprocess (Python start, imports, argument parsing), the
way a user types it, ``--repeat`` times; the median and the fastest wall seconds are
reported. The commands: every ``--help`` (the import cost of the command line itself:
the target is under 0.5 s), ``qnemu --version``, ``qnemu examples``, and ``qnemu validate``
of the bundled two-node example (which must load numpy and scipy for the physics, and
plan the network, so it is slower by nature). Also how many modules ``import qnemu.cli``
loads. Prints the numbers and writes ``benchmarks/results/cli_startup.json``. Not a test:
nothing here asserts a time (``tests/test_cli_ux.py`` checks the import graph instead).

    .venv/bin/python benchmarks/cli_startup.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results" / "cli_startup.json"
COMMANDS = {
    "qnemu --help": ["--help"],
    "qnemu --version": ["--version"],
    "qnemu run --help": ["run", "--help"],
    "qnemu validate --help": ["validate", "--help"],
    "qnemu compare --help": ["compare", "--help"],
    "qnemu topo --help": ["topo", "--help"],
    "qnemu dashboards --help": ["dashboards", "--help"],
    "qnemu examples": ["examples"],
    "qnemu validate two-node": ["validate", "two-node"],
}
TARGET_S = 0.5


def time_command(args: list[str], repeat: int) -> list[float]:
    """Wall seconds of ``python -m qnemu ARGS``, ``repeat`` times."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "qnemu", *args], check=True, capture_output=True, timeout=120
        )
        times.append(time.perf_counter() - start)
    return times


def modules_loaded() -> dict[str, object]:
    """How many modules ``import qnemu.cli`` loads, and which heavy ones among them."""
    code = (
        "import sys, json; before = set(sys.modules); import qnemu.cli; "
        "new = set(sys.modules) - before; "
        "heavy = sorted({m.split('.')[0] for m in new} & "
        "{'numpy', 'scipy', 'ray', 'prometheus_client', 'matplotlib', 'networkx', 'pydantic'}); "
        "print(json.dumps({'modules': len(new), 'heavy': heavy}))"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    options = parser.parse_args()
    time_command(["--version"], 1)  # warm the file cache and the bytecode
    rows = {}
    for name, args in COMMANDS.items():
        times = time_command(args, options.repeat)
        rows[name] = {"median_s": statistics.median(times), "min_s": min(times)}
        print(f"{name:28s} median {rows[name]['median_s']:.3f} s  min {min(times):.3f} s")
    imports = modules_loaded()
    print(f"import qnemu.cli: {imports['modules']} modules, heavy: {imports['heavy'] or 'none'}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "target_s": TARGET_S,
                "repeat": options.repeat,
                "commands": rows,
                "import_qnemu_cli": imports,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "cpus": os.cpu_count(),
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
