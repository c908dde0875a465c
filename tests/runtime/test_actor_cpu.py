"""The summary's split of the actors' loop CPU per message (plain function, no Ray)."""

import pytest

from qnemu.runtime.actor_cpu import actor_cpu


def test_cpu_per_message_adds_up_over_actors():
    reports = [
        {"loop_s": 1.0, "events_s": 0.4, "frames_s": 0.3, "wakes": 600},
        {"loop_s": 0.5, "events_s": 0.2, "frames_s": 0.1, "wakes": 400},
    ]
    split = actor_cpu(reports, messages=10_000)
    assert split["actor_cpu_s"] == 1.5
    assert split["actor_cpu_us_per_message"] == {
        "total": 150.0,
        "events": 60.0,
        "frames": 40.0,
        "loop": 50.0,
    }
    assert split["wakes_per_message"] == pytest.approx(0.1)


def test_no_messages_or_no_reports_give_no_split():
    report = {"loop_s": 1.0, "events_s": 0.4, "frames_s": 0.3, "wakes": 6}
    assert actor_cpu([report], messages=0) == {}
    assert actor_cpu([], messages=100) == {}


def test_the_loop_share_is_never_negative():
    # thread clocks tick in steps: the parts may add up to a hair more than the whole
    split = actor_cpu([{"loop_s": 0.5, "events_s": 0.3, "frames_s": 0.2001, "wakes": 1}], 1000)
    assert split["actor_cpu_us_per_message"]["loop"] == 0.0
