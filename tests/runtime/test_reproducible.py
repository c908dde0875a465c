"""Virtual time is reproducible: the same seed gives byte-identical records.

Controller compute time is charged from a deterministic model in virtual time
(``control.decision_cost_s`` per event), never measured, so even a centralized controller
whose instructions carry compute time gives the same run twice.
"""

import os
import subprocess
import sys
from pathlib import Path

QNEMU = [sys.executable, "-m", "qnemu.cli"]


def _run(results: Path, *extra: str, hash_seed: str = "1") -> Path:
    # a different string-hash seed per process: nothing may depend on set order
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    subprocess.run(
        [
            *QNEMU,
            "run",
            "--virtual",
            "--no-metrics",
            "--results",
            str(results),
            "--set",
            "control.architecture=centralized",
            *extra,
        ],
        check=True,
        capture_output=True,
        timeout=120,
        env=env,
    )
    (folder,) = results.iterdir()
    return folder


def test_same_seed_gives_identical_records(tmp_path):
    first, second = _run(tmp_path / "one"), _run(tmp_path / "two", hash_seed="2")
    for name in ("events.jsonl", "pairs.jsonl"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    assert b'"decision"' in (first / "events.jsonl").read_bytes()


def test_another_seed_gives_another_run(tmp_path):
    first, other = _run(tmp_path / "one"), _run(tmp_path / "two", "--set", "seed=8")
    assert (first / "pairs.jsonl").read_bytes() != (other / "pairs.jsonl").read_bytes()
