"""The metric catalog: naming rules, bounded labels, and its documentation table."""

from pathlib import Path

import pytest

from qnemu.telemetry.catalog import ALLOWED_LABELS, CATALOG, MetricSpec, spec

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / "telemetry.md", ROOT / "README.md"]


def test_every_metric_follows_the_naming_rules():
    for metric in CATALOG:
        assert metric.name.startswith("qnemu_")
        assert (metric.type == "counter") == metric.name.endswith("_total")
        assert set(metric.labels) <= set(ALLOWED_LABELS)
        if metric.name.endswith("_seconds"):
            assert metric.time in ("emulated", "wall")


def test_the_issue_list_is_covered():
    names = {m.name for m in CATALOG}
    assert {
        "qnemu_pairs_generated_total",
        "qnemu_swaps_total",
        "qnemu_purifications_total",
        "qnemu_pairs_delivered_total",
        "qnemu_delivered_fidelity",
        "qnemu_delivered_latency_seconds",
        "qnemu_memory_slots_occupied",
        "qnemu_memory_age_at_use_seconds",
        "qnemu_classical_message_latency_seconds",
        "qnemu_emulator_lateness_seconds",
        "qnemu_violations_total",
        "qnemu_qnum_utility",
        "qnemu_admission_decisions_total",
        "qnemu_controller_decision_latency_seconds",
        "qnemu_emulator_overloaded",
    } <= names
    assert "ground truth" in spec("qnemu_delivered_fidelity").help_text.lower()
    assert spec("qnemu_violations_total").labels == ("kind", "node", "controller", "site")
    assert all(m.series_labels[0] == "run" for m in CATALOG)


@pytest.mark.parametrize(
    "bad, reason",
    [
        (("qnemu_x", "counter", (), "h"), "_total"),
        (("qnemu_x_total", "gauge", (), "h"), "_total"),
        (("x_total", "counter", (), "h"), "qnemu_"),
        (("qnemu_x_total", "counter", ("pair",), "h"), "labels"),
        (("qnemu_wait_seconds", "gauge", (), "h"), "emulated or wall"),
        (("qnemu_h", "histogram", (), "h"), "buckets"),
    ],
)
def test_a_bad_spec_is_refused_with_its_reason(bad, reason):
    with pytest.raises(ValueError, match=reason):
        MetricSpec(*bad)


def test_an_unknown_name_lists_the_valid_ones():
    with pytest.raises(KeyError, match="qnemu_violations_total"):
        spec("qnemu_nope")


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_the_documentation_table_lists_every_metric_with_its_labels_and_time_base(doc):
    text = doc.read_text(encoding="utf-8")
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in text.splitlines()
        if line.startswith("| `qnemu_")
    }
    assert set(rows) == {m.name for m in CATALOG}
    for metric in CATALOG:
        cells = [c.strip() for c in rows[metric.name].split("|")[1:-1]]
        assert cells[1] == metric.type
        assert cells[2] == (", ".join(metric.labels) or "-")
        assert cells[4] == metric.time
