"""``qnemu compare`` on a scenario with faults: fault columns in ``runs.csv``, a Faults
table with 95% intervals, and the delivered-rate-over-time plot from each run's pairs.

The real CLI in a subprocess, virtual time (deterministic per seed): a 6-node ring whose
tenant's active link is cut for a while; every control plane detects it from heartbeats
and re-routes the long way round.
"""

from __future__ import annotations

import csv
import subprocess
import sys

import yaml

from qnemu.experiments.metrics import fault_metrics

CUT_AT, CUT_FOR = 0.05, 0.05
ARGS = ("--repeats", "2", "--controllers", "centralized,distributed")
RING = {
    "name": "cut-ring",
    "seed": 3,
    "duration_s": 0.15,
    "topology": {
        "generator": "ring",
        "n": 6,
        "hop_km": 5,
        "hardware": "trapped_ion",
        "memories": 8,
    },
    "control": {
        "architecture": "distributed",
        "location": "n3",
        "heartbeat_s": 1e-3,
        "heartbeat_misses": 3,
        "max_purification_rounds": 0,
    },
    "tenants": [
        {
            "name": "t",
            "app": "dqs",
            "src": "n0",
            "dst": "n2",
            "rate_hz": 100,
            "f_min": 0.55,
            "arrivals": "backlog",
        }
    ],
    "faults": [{"at_s": CUT_AT, "link": ["n1", "n2"], "down_for_s": CUT_FOR}],
}


def test_compare_reports_detection_recovery_and_the_rate_around_a_cut(tmp_path):
    scenario = tmp_path / "ring.yaml"
    scenario.write_text(yaml.safe_dump(RING))
    command = [sys.executable, "-m", "qnemu", "compare", str(scenario), "--virtual", *ARGS]
    done = subprocess.run(
        [*command, "--quiet", "--results", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    (folder,) = (tmp_path / "out").iterdir()
    with open(folder / "runs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 4
    for row in rows:
        # three missed 1 ms heartbeats, then the first delivery over the detour
        assert 3e-3 <= float(row["fault_detected_s"]) <= 5e-3
        assert float(row["fault_detected_s"]) < float(row["fault_recovered_s"]) < CUT_FOR
        assert int(row["fault_pairs_lost"]) >= 0
        assert float(row["fault_rate_hz"]) > 0  # the detour delivers while the link is down
    table = (folder / "table.md").read_text()
    assert "Faults" in table and "detected (ms)" in table and "rate in fault (Hz)" in table
    assert (folder / "rate-over-time.png").stat().st_size > 10_000
    assert (folder / "bar-fault_recovered_s.png").is_file()


def test_fault_metrics_of_a_run_without_faults_are_empty():
    assert set(fault_metrics({"faults": []}).values()) == {None}


def test_fault_rate_is_pairs_delivered_meanwhile_over_the_fault_time():
    summary = {
        "emulated_s": 0.3,
        "faults": [
            {"at_s": 0.1, "until_s": 0.2, "detected_s": 0.003, "recovered_s": 0.02}
            | {"pairs_lost": 2, "delivered_during": 5},
            {"at_s": 0.25, "until_s": None, "detected_s": None, "recovered_s": None}
            | {"pairs_lost": 1, "delivered_during": 1},
        ],
    }
    cells = fault_metrics(summary)
    assert cells["fault_detected_s"] == 0.003 and cells["fault_recovered_s"] == 0.02
    assert cells["fault_pairs_lost"] == 3
    assert abs(cells["fault_rate_hz"] - 6 / 0.15) < 1e-9  # 0.1 s + the 0.05 s to the end
