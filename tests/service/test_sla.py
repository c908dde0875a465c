"""SLA model: the window probability from the renewal model, and its calibration."""

from __future__ import annotations

import math

import numpy as np
import pytest

import qnemu
from qnemu.emulation import Emulation
from qnemu.planning.sla import gap_moments, target_pairs, window_probability

CALIBRATION = """
name: sla-calibration
seed: 3
duration_s: 30
topology: {generator: chain, n: 2, hop_km: 10, memories: 2}
tenants:
  - {name: t, app: dqc, src: n0, dst: n1, rate_hz: 50, f_min: 0.5, arrivals: backlog,
     sla: {probability: 0.3, window_s: 0.1}}
"""


def test_target_rounds_up_with_tolerance() -> None:
    assert target_pairs(10, 0.1) == 1
    assert target_pairs(50, 0.1) == 5
    assert target_pairs(12.5, 0.2) == 3


def test_window_probability_matches_poisson_for_exponential_gaps() -> None:
    # a Poisson process of rate 100 Hz: P(N(0.1) >= 10), exactly from the Poisson law
    rng = np.random.default_rng(1)
    times = np.cumsum(rng.exponential(0.01, 200_000))
    moments = gap_moments(times.tolist())
    exact = 1.0 - sum(math.exp(-10.0) * 10.0**j / math.factorial(j) for j in range(10))
    assert window_probability(10, 0.1, moments) == pytest.approx(exact, abs=0.03)


def test_window_probability_edges() -> None:
    assert window_probability(0, 0.1, None) == 1.0
    assert window_probability(3, 0.1, None) == 0.0
    assert gap_moments([0.0, 1.0]) is None


def test_sla_calibration_in_virtual_time(tmp_path) -> None:
    """Over 300 windows of an admitted SLA, the met ratio is within 4 standard errors of
    the predicted probability (measured: predicted 0.623, met 174/300 = 0.58)."""
    path = tmp_path / "cal.yaml"
    path.write_text(CALIBRATION)
    summary = Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual").run()
    sla = summary["tenants"]["t"]["sla"]
    p, n = sla["predicted_probability"], sla["windows"]
    assert n == 300
    assert 0.2 < p < 0.9  # a probability in the middle: the test has power
    se = math.sqrt(p * (1.0 - p) / n)
    assert abs(sla["ratio"] - p) <= 4.0 * se
    missed = sum(
        1
        for line in (summary.folder / "events.jsonl").read_text().splitlines()
        if '"sla_missed"' in line
    )
    assert missed == n - sla["met"]


def test_sla_admission_refuses_what_the_model_cannot_promise(tmp_path) -> None:
    path = tmp_path / "greedy.yaml"
    path.write_text(CALIBRATION.replace("probability: 0.3", "probability: 0.99"))
    emulation = Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual")
    verdict = next(d for d in emulation.plan.decisions if d.event == "admission")
    assert not verdict.admitted
    assert verdict.reason.startswith("sla: P(>= 5 pairs above f_min in 0.1 s)")
