"""Classical message loss never leaks memory: deliveries stay steady, and fall as the loss
predicts (virtual time, bundled examples).

Path setups are resent until acknowledged; every other wait on a classical message (swap
outcomes, discards, instructions, purification) is bounded by the cutoff, or by a
timeout where no cutoff applies. Heralds and free-memory notices travel on the link's own
fibre to and from its heralding station and are not subject to classical-network loss.
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

import qnemu
from qnemu.emulation import Emulation
from qnemu.scenario import load_scenario

EXAMPLES = Path(qnemu.__file__).parent / "examples"
DURATION_S = 4.0


def _deliveries(tmp_path, example, loss, **overrides):
    scenario = load_scenario(EXAMPLES / f"{example}.yaml", overrides={
        "classical.loss": loss, "duration_s": DURATION_S, **overrides})
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    with open(f"{summary['results']}/events.jsonl") as handle:
        times = [e["t_delivered_s"] for e in map(json.loads, handle)
                 if e["event"] == "delivered"]
    return np.array(times), summary


@pytest.mark.parametrize("example", ["default", "repeater-chain-cutoff", "mesh-two-tenants",
                                     "two-node"])
@pytest.mark.parametrize("loss", [0.05, 0.3])
def test_deliveries_stay_steady_under_loss(tmp_path, example, loss):
    times, summary = _deliveries(tmp_path, example, loss)
    quarters = np.histogram(times, bins=4, range=(0.0, DURATION_S))[0]
    assert quarters.sum() > 0, "the network must still deliver"
    first, last = quarters[0], quarters[-1]
    # counts are Poisson-like: the last quarter within 4 standard errors of the first
    assert abs(int(last) - int(first)) < 4 * math.sqrt(first + last) + 1, quarters
    assert summary["counts"].get("message_lost", 0) > 0 or example == "two-node"


@pytest.mark.parametrize("example", ["default", "repeater-chain-cutoff"])
def test_rate_falls_as_the_lost_swap_outcomes_predict(tmp_path, example):
    """Under distributed control an end-to-end pair needs every repeater's outcome at both
    ends: 2 (n - 2) messages, each lost with probability q, so R(q) = R(0) (1 - q)^(2(n-2))
    (lost discards only shorten holds; path setups are resent)."""
    scenario = load_scenario(EXAMPLES / f"{example}.yaml")
    messages = 2 * (len(scenario.nodes) - 2)
    lossless = len(_deliveries(tmp_path, example, 0.0)[0])
    for loss in (0.05, 0.3):
        lossy = len(_deliveries(tmp_path, example, loss)[0])
        ratio = lossy / lossless
        standard_error = ratio * math.sqrt(1 / lossy + 1 / lossless)
        assert abs(ratio - (1 - loss) ** messages) < 4 * standard_error, (loss, ratio)
