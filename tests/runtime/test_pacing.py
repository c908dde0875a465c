"""Choosing a dilation from a measured lateness (plain functions)."""

import math

import pytest

from qnemu.runtime.pacing import LATENESS_BUDGET, NICE_DILATIONS, choose_dilation

HOP_S = 59e-6  # the default chain's shortest classical hop


def test_a_lateness_just_over_the_budget_of_50_gives_70_not_100():
    # measured on this machine for the default chain: 0.15-0.20 ms wall at start-up
    for lateness_s in (0.152e-3, 0.181e-3, 0.198e-3):
        assert choose_dilation(lateness_s, HOP_S, math.inf)[0] == 70
    assert choose_dilation(0.125e-3, HOP_S, math.inf)[0] == 50


@pytest.mark.parametrize("needed", [0.2, 1.0, 1.01, 2.9, 33.0, 51.0, 99.0, 101.0, 6000.0])
def test_the_dilation_is_the_smallest_step_that_meets_the_budget(needed):
    chosen, reason = choose_dilation(needed * LATENESS_BUDGET * HOP_S, HOP_S, math.inf)
    assert chosen >= max(1.0, needed)
    assert chosen / max(1.0, needed) <= (2.0 if needed < 2 else 5 / 3)  # one step at most
    assert chosen in NICE_DILATIONS and "shortest hop delay" in reason
    smaller = [d for d in NICE_DILATIONS if d < chosen]
    assert not smaller or smaller[-1] < needed


def test_beyond_the_steps_the_dilation_is_what_is_needed_rounded_up():
    assert choose_dilation(_needed_lateness(12345.2), HOP_S, math.inf)[0] == 12346


def test_a_short_coherence_budget_can_set_the_dilation():
    # 0.1 ms against 1% of 0.2 ms needs 50; against 5% of the hop only 34
    chosen, reason = choose_dilation(0.1e-3, HOP_S, 0.2e-3)
    assert chosen == 50 and "T_longEB" in reason


def _needed_lateness(needed: float) -> float:
    return needed * LATENESS_BUDGET * HOP_S
