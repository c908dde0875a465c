"""Typed run events: one definition of every kind, used by emitters and readers alike."""

import json
from pathlib import Path

import pytest

from qnemu import records
from qnemu.emulation import Emulation
from qnemu.scenario import load_scenario

REPO = Path(__file__).resolve().parents[1]


def test_docs_table_matches_the_module():
    assert records.markdown_table() in (REPO / "docs/events.md").read_text()


def test_a_record_round_trips_through_its_plain_form():
    event = records.Violation(
        t_s=0.5,
        kind="cutoff_expired",
        node="r",
        tenant="t",
        site="distributed@r",
        controller="distributed",
        waited_s=0.01,
    )
    plain = event.to_dict()
    assert plain["event"] == "violation" and list(plain)[:2] == ["event", "t_s"]
    assert records.parse(json.loads(json.dumps(plain))) == event


def test_an_unknown_kind_or_a_missing_field_is_an_error():
    with pytest.raises(KeyError):
        records.parse({"event": "teleported", "t_s": 0.0})
    with pytest.raises(TypeError, match="tenant"):
        records.parse({"event": "request", "t_s": 0.0})


def test_every_event_of_a_run_is_a_known_kind_with_t_s_and_its_kind_s_keys(tmp_path):
    """Every record of real runs (each example, virtual time) parses, carries ``t_s`` and
    exactly the keys of its kind (one shape per kind: violations from every emitter)."""
    seen = set()
    for example in sorted((REPO / "qnemu/examples").glob("*.yaml")):
        scenario = load_scenario(example, overrides={"duration_s": 0.1})
        summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
        lines = (Path(summary["results"]) / "events.jsonl").read_text().splitlines()
        for line in lines:
            plain = json.loads(line)
            event = records.parse(plain)
            assert set(plain) == set(event.to_dict()), plain
            assert isinstance(plain["t_s"], float | int)
            seen.add(event.event)
    assert {
        "pair_generated",
        "herald",
        "swap",
        "delivered",
        "violation",
        "qnum",
        "admission",
        "request",
        "served",
        "use",
    } <= seen
