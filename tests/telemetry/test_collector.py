"""The in-process collector on real sockets: ports, linger, violations, equality, cardinality.

Virtual-time runs (no Ray) feed the same collector class the Ray actor wraps.
"""

import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from qnemu.emulation import Emulation
from qnemu.errors import QnemuError
from qnemu.records import DISCARD_REASONS
from qnemu.results import VIOLATION_KINDS
from qnemu.telemetry import InProcessTelemetry, TelemetryError, start_telemetry


def scrape(url):
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode()


def samples(text):
    """{(sample name, frozenset of labels): value} of one exposition."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def total(values, name, **match):
    return sum(
        v
        for (n, labels), v in values.items()
        if n == name and all((k, m) in labels for k, m in match.items())
    )


class KeepOpen(InProcessTelemetry):
    """Keeps serving after the run so the test can scrape the final values."""

    def close(self, summary):
        self.collector.close(summary)
        self.summary = summary


def run_with_metrics(scenario, tmp_path):
    sink = KeepOpen(port=0)
    Emulation(scenario, mode="virtual", results_dir=tmp_path, telemetry=sink).run()
    return sink


def test_port_zero_picks_a_free_port_and_reports_it():
    with start_telemetry(port=0, in_process=True) as sink:
        assert sink.port > 0
        assert sink.url == f"http://127.0.0.1:{sink.port}/metrics"
        text = scrape(sink.url)
        assert 'qnemu_emulator_phase{phase="starting",run=""} 1.0' in text  # nothing ran yet


def test_a_port_in_use_is_a_clear_error_before_anything_runs():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(TelemetryError, match=f"127.0.0.1:{port}.*in use") as caught:
            start_telemetry(port=port, in_process=True)
    assert isinstance(caught.value, QnemuError)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    "options, field", [({"port": 70000}, "port"), ({"port": 0, "linger_s": -1}, "linger")]
)
def test_bad_options_name_the_field(options, field):
    with pytest.raises(TelemetryError, match=field):
        start_telemetry(in_process=True, **options)


def test_the_endpoint_lingers_after_the_run_then_stops(make_chain, tmp_path):
    scenario = make_chain(3, t2_s=1e9, f_min=0.5, duration_s=0.002)
    sink = start_telemetry(port=0, linger_s=1.0, in_process=True)
    closed = threading.Event()

    def run():
        Emulation(scenario, mode="virtual", results_dir=tmp_path, telemetry=sink).run()
        closed.set()

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 30
    while (
        total(samples(scrape(sink.url)), "qnemu_emulator_phase", phase="finished") != 1
    ):  # run over, still serving
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert not closed.is_set()
    worker.join(timeout=30)
    assert closed.is_set()
    with pytest.raises(urllib.error.URLError):
        scrape(sink.url)


def test_a_run_with_short_t2_shows_violations_of_the_right_kind(make_chain, tmp_path):
    scenario = make_chain(4, t2_s=0.002, f_min=0.8, duration_s=0.02, cutoff_s=0.00013)
    sink = run_with_metrics(scenario, tmp_path)
    try:
        values = samples(scrape(sink.url))
    finally:
        sink.shutdown()
    assert total(values, "qnemu_violations_total", kind="cutoff_expired") > 0
    assert total(values, "qnemu_violations_total", kind="below_threshold") > 0
    for kind in VIOLATION_KINDS:  # and no kind the run did not have
        assert (
            total(values, "qnemu_violations_total", kind=kind) == sink.summary["violations"][kind]
        )


def test_a_run_with_generous_t2_shows_none(make_chain, tmp_path):
    sink = run_with_metrics(make_chain(4, t2_s=1e9, f_min=0.5, duration_s=0.01), tmp_path)
    try:
        values = samples(scrape(sink.url))
    finally:
        sink.shutdown()
    assert total(values, "qnemu_pairs_delivered_total") > 0
    assert total(values, "qnemu_violations_total") == 0


def test_counters_equal_the_summary(make_chain, tmp_path):
    sink = run_with_metrics(make_chain(4, t2_s=0.002, f_min=0.8, duration_s=0.01), tmp_path)
    try:
        values = samples(scrape(sink.url))
    finally:
        sink.shutdown()
    summary = sink.summary
    for tenant, row in summary["tenants"].items():
        assert total(values, "qnemu_pairs_delivered_total", tenant=tenant) == row["pairs_delivered"]
    for kind, count in summary["violations"].items():
        assert total(values, "qnemu_violations_total", kind=kind) == count
    for kind, count in summary["counts"].items():
        assert total(values, "qnemu_events_total", kind=kind) == count


def test_label_cardinality_is_bounded_on_30_nodes(make_chain, tmp_path):
    """No metric has more series per node than its bounded kinds; no label names a pair.

    Discards are the widest: a node's own reasons and its partners' (``partner_cutoff``).
    """
    nodes = 30
    sink = run_with_metrics(make_chain(nodes, t2_s=0.01, f_min=0.5, duration_s=0.004), tmp_path)
    try:
        text = scrape(sink.url)
    finally:
        sink.shutdown()
    series = defaultdict(set)
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = frozenset((k, v) for k, v in sample.labels.items() if k != "le")
            series[family.name].add(labels)  # histogram buckets of one series count once
            assert not any("#" in v for _, v in labels), sample  # pair ids look like a~b#3
    per_node = max(len(VIOLATION_KINDS), 2 * len(DISCARD_REASONS))
    assert max(len(s) for s in series.values()) <= nodes * per_node
    assert len(series["qnemu_violations"]) == nodes * len(VIOLATION_KINDS)


@pytest.mark.skipif(
    shutil.which("promtool") is None and not os.environ.get("CI"),
    reason="promtool not installed (Debian package prometheus; scripts/setup)",
)
def test_promtool_accepts_a_scrape(make_chain, tmp_path):
    sink = run_with_metrics(make_chain(3, t2_s=0.002, f_min=0.8, duration_s=0.005), tmp_path)
    try:
        text = scrape(sink.url)
    finally:
        sink.shutdown()
    checked = subprocess.run(
        ["promtool", "check", "metrics"], input=text, text=True, capture_output=True, timeout=30
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_ray_sink_refuses_a_taken_port_before_starting_ray():
    import ray

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        was_running = ray.is_initialized()
        with pytest.raises(TelemetryError, match="in use"):
            start_telemetry(port=port)
        assert ray.is_initialized() == was_running


def test_the_run_command_helper_gives_no_sink_with_no_metrics():
    from qnemu.telemetry.cli import metrics_sink

    assert metrics_sink(True, "127.0.0.1", 9300, 0.0, virtual=True) is None
    sink = metrics_sink(False, "127.0.0.1", 0, 0.0, virtual=True)
    try:
        assert sink.port > 0
    finally:
        sink.shutdown()


def test_every_series_names_its_run_by_the_results_folder(make_chain, tmp_path):
    sink = run_with_metrics(
        make_chain(3, t2_s=0.002, f_min=0.8, duration_s=0.005, architecture="distributed"), tmp_path
    )
    try:
        text = scrape(sink.url)
    finally:
        sink.shutdown()
    folder = Path(sink.summary["results"]).name
    labeled = [s.labels for family in text_string_to_metric_families(text) for s in family.samples]
    assert {labels.get("run") for labels in labeled} == {folder}
    assert {labels["controller"] for labels in labeled if "controller" in labels} == {"distributed"}
    assert {labels["site"] for labels in labeled if "site" in labels} == {
        "distributed@n0",
        "distributed@n1",
        "distributed@n2",
    }
