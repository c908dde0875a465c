"""Classical message loss never leaks memory: deliveries stay steady, and fall as the loss
predicts (virtual time, bundled examples).

Path setups and swap outcomes are resent until acknowledged; every other wait on a
classical message (discards, reports, instructions, purification) is bounded by the
cutoff, or by a timeout where no cutoff applies. Heralds and free-memory notices travel
on the link's own fiber to and from its heralding station and are not subject to
classical-network loss.
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
    scenario = load_scenario(
        EXAMPLES / f"{example}.yaml",
        overrides={"classical.loss": loss, "duration_s": DURATION_S, **overrides},
    )
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    with open(f"{summary['results']}/events.jsonl") as handle:
        times = [e["t_delivered_s"] for e in map(json.loads, handle) if e["event"] == "delivered"]
    return np.array(times), summary


@pytest.mark.parametrize(
    "example", ["default", "repeater-chain-cutoff", "mesh-two-tenants", "two-node"]
)
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
def test_resent_swap_outcomes_keep_the_rate_that_loss_would_take(tmp_path, example):
    """Under distributed control an end-to-end pair needs every repeater's outcome at both
    ends: 2 (n - 2) messages. Sent once, each lost with probability q, the rate would fall
    to (1 - q)^(2(n-2)) of the lossless one (0.24 at q = 0.3 on the default chain).
    Repeaters resend each outcome until its end confirms it, two round trips apart; with
    round trips far shorter than the cutoff the lossless rate holds (within noise)."""
    scenario = load_scenario(EXAMPLES / f"{example}.yaml")
    messages = 2 * (len(scenario.nodes) - 2)
    lossless = len(_deliveries(tmp_path, example, 0.0)[0])
    for loss in (0.05, 0.3):
        times, summary = _deliveries(tmp_path, example, loss)
        lossy = len(times)
        noise = 4 * math.sqrt(lossy + lossless)
        assert abs(lossy - lossless) < noise, (loss, lossy, lossless)
        assert lossy > (1 - loss) ** messages * lossless or loss < 0.1
        assert summary["counts"]["message_lost"] > 0
