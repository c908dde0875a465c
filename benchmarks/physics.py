"""Micro-benchmarks of the physics hot paths (microseconds per call).

Run: ``.venv/bin/python benchmarks/physics.py``. Prints a table and writes
``benchmarks/results/physics.json`` with each figure next to its target.
"""

from __future__ import annotations

import json
import platform
import timeit
from collections.abc import Callable
from pathlib import Path

import numpy as np

from qnemu.physics import (
    apply_correction,
    decohere,
    purify,
    sample_time_to_success,
    swap,
    werner,
)

RESULTS = Path(__file__).resolve().parent / "results" / "physics.json"


def _per_call_us(fn: Callable[[], object], repeat: int = 5, number: int = 20_000) -> float:
    """Best of ``repeat`` runs of ``number`` calls, in microseconds per call."""
    return min(timeit.repeat(fn, repeat=repeat, number=number)) / number * 1e6


def _swap_and_correct(rng: np.random.Generator, left: np.ndarray, right: np.ndarray) -> None:
    outcome, rho = swap(left, right, rng, gate_error=0.01, measurement_error=0.01)
    apply_correction(rho, outcome)


def main() -> dict[str, dict[str, float]]:
    rng = np.random.default_rng(1)
    rho_a, rho_b = werner(0.95), werner(0.9)
    cases: dict[str, tuple[Callable[[], object], float]] = {
        "decohere_one_qubit": (lambda: decohere(rho_a, 1, 1e-3, 1.0, 0.5), 10.0),
        "decohere_dt_zero": (lambda: decohere(rho_a, 1, 0.0, 1.0, 0.5), 10.0),
        "swap_sample_and_correct": (lambda: _swap_and_correct(rng, rho_a, rho_b), 50.0),
        "purify_dejmps": (lambda: purify(rng, rho_a, rho_b, "dejmps"), 60.0),
        "purify_bbpssw": (lambda: purify(rng, rho_a, rho_b, "bbpssw"), 60.0),
        "sample_time_to_success": (lambda: sample_time_to_success(rng, 1e-3, 1e-5, 100), 5.0),
    }
    results = {}
    for name, (fn, target) in cases.items():
        us = _per_call_us(fn)
        results[name] = {"us_per_call": round(us, 3), "target_us": target, "ok": us <= target}
        print(f"{name:28s} {us:8.2f} us/call  (target <= {target:g} us)")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    meta = {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "processor": platform.processor(),
    }
    RESULTS.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return results


if __name__ == "__main__":
    main()
