"""How validation scales with the number of nodes (a generated chain, one short tenant).

For each size it measures, in wall seconds on this machine:

- ``load_s``: :func:`qnemu.load_scenario` (schema, bounds, topology, cross-checks);
- ``describe_s``: :func:`qnemu.scenario.describe` (what ``qnemu validate`` prints);
- ``cli_s``: the whole ``qnemu validate FILE`` command in a subprocess (also builds the
  network plan: routing, admission, memory slots), or None when it ran past
  ``--cli-limit-s`` seconds (recorded, not an error).

Prints one line per size and writes ``benchmarks/results/validate_scale.json``. Not a
test: nothing here asserts a time.

    .venv/bin/python benchmarks/validate_scale.py [--sizes 1000,2000,10000]
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
from typing import Any

from qnemu.scenario import describe, load_scenario

RESULTS = Path(__file__).parent / "results" / "validate_scale.json"


def chain_yaml(n: int) -> str:
    """A chain of ``n`` nodes, 5 km hops, one tenant over its first three hops."""
    return (
        f"name: chain-{n}\nseed: 1\nduration_s: 0.01\n"
        f"topology: {{generator: chain, n: {n}, hop_km: 5, hardware: er_telecom, "
        f"memories: 2}}\n"
        f"tenants: [{{name: t, app: qkd, src: n0, dst: n3, rate_hz: 10, f_min: 0.6}}]\n"
    )


def _timed(fn: Any, *args: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn(*args)
    return out, time.perf_counter() - start


def _cli_s(path: Path, limit_s: float) -> float | None:
    """Wall seconds of ``qnemu validate path`` (None: past ``limit_s``)."""
    qnemu = Path(sys.executable).with_name("qnemu")
    start = time.perf_counter()
    try:
        result = subprocess.run(
            [str(qnemu), "validate", str(path)], capture_output=True, text=True, timeout=limit_s
        )
    except subprocess.TimeoutExpired:
        return None
    if result.returncode != 0:
        raise SystemExit(f"qnemu validate failed: {result.stderr.strip()[-500:]}")
    return time.perf_counter() - start


def measure(n: int, folder: Path, cli_limit_s: float) -> dict[str, Any]:
    """One row: the times (s) to load, describe and validate a chain of ``n`` nodes."""
    path = folder / f"chain-{n}.yaml"
    path.write_text(chain_yaml(n))
    scenario, load_s = _timed(load_scenario, path)
    _, describe_s = _timed(describe, scenario)
    return {
        "nodes": n,
        "load_s": round(load_s, 4),
        "describe_s": round(describe_s, 4),
        "cli_s": None if cli_limit_s <= 0 else _round(_cli_s(path, cli_limit_s)),
        "cli_limit_s": cli_limit_s,
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def main() -> None:
    """Measure every size, print a line each and write the JSON results."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,2000,5000,10000")
    parser.add_argument(
        "--cli-limit-s",
        type=float,
        default=60.0,
        help="give up on the qnemu validate subprocess after this (0: skip)",
    )
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(s) for s in args.sizes.split(",")):
            row = measure(n, Path(tmp), args.cli_limit_s)
            rows.append(row)
            cli = "over limit" if row["cli_s"] is None else f"{row['cli_s']:.2f} s"
            print(
                f"{n:>6} nodes: load {row['load_s']:.3f} s, describe {row['describe_s']:.3f} s,"
                f" qnemu validate {cli}",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "validate_scale",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
