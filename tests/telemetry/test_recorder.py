"""MetricsRecorder on a fresh registry: each event type moves the right series."""

import math

import pytest
from prometheus_client import CollectorRegistry

from qnemu.telemetry.recorder import MetricsRecorder, RunInfo, TenantInfo

RUN = RunInfo(nodes=("a", "r", "b"), memories=(2, 4, 2), links=("a~r", "r~b"),
              tenants=(TenantInfo("t", "qkd", 0.8),), controller="distributed",
              node_controllers=("distributed@a", "distributed@r", "distributed@b"),
              mode="ray", actors=3, dilation=100.0, lateness_tolerance_s=0.001)


@pytest.fixture
def recorder():
    recorder = MetricsRecorder(CollectorRegistry())
    recorder.start(RUN)
    return recorder


def value(recorder, name, **labels):
    return recorder.registry.get_sample_value(name, labels)


def batch(*events, lateness=(), latency=()):
    return {"events": list(events), "lateness_s": list(lateness),
            "message_latency_s": list(latency), "host": 0, "nodes": ["a"]}


def test_known_series_start_at_zero(recorder):
    assert value(recorder, "qnemu_violations_total", kind="cutoff_expired", node="r",
                 controller="distributed@r") == 0
    assert value(recorder, "qnemu_pairs_generated_total", link="a~r") == 0
    assert value(recorder, "qnemu_memory_slots", node="r") == 4
    assert value(recorder, "qnemu_emulator_dilation") == 100
    assert value(recorder, "qnemu_emulator_running") == 1
    assert math.isnan(value(recorder, "qnemu_qnum_utility", tenant="t",
                            controller="distributed"))


def test_link_and_swap_events(recorder):
    recorder.record(batch(
        {"event": "pair_generated", "t_s": 0.001, "link": "a~r", "pair": "a~r#1",
         "tenant": "t", "attempts": 7},
        {"event": "herald", "t_s": 0.002, "node": "r", "tenant": "t", "occupied": 1},
        {"event": "swap", "t_s": 0.003, "node": "r", "tenant": "t", "success": False,
         "ages_s": [0.001, 0.002], "occupied": 0}))
    assert value(recorder, "qnemu_pairs_generated_total", link="a~r") == 1
    assert value(recorder, "qnemu_link_attempts_total", link="a~r") == 7
    assert value(recorder, "qnemu_heralds_total", node="r") == 1
    assert value(recorder, "qnemu_swaps_total", node="r", result="failure") == 1
    assert value(recorder, "qnemu_memory_age_at_use_seconds_count", node="r") == 2
    assert value(recorder, "qnemu_memory_slots_occupied", node="r") == 0
    assert value(recorder, "qnemu_emulated_time_seconds") == pytest.approx(0.003)
    assert value(recorder, "qnemu_events_total", kind="swap") == 1


def test_delivery_feeds_fidelity_latency_and_utility(recorder):
    recorder.record(batch(
        {"event": "delivered", "tenant": "t", "src": "a", "dst": "b", "fidelity": 0.9,
         "latency_s": 0.004, "t_delivered_s": 0.5}))
    labels = {"tenant": "t", "controller": "distributed"}
    assert value(recorder, "qnemu_pairs_delivered_total", **labels) == 1
    assert value(recorder, "qnemu_delivered_fidelity_sum", **labels) == pytest.approx(0.9)
    assert value(recorder, "qnemu_delivered_fidelity_bucket", le="0.9", **labels) == 1
    assert value(recorder, "qnemu_delivered_latency_seconds_count", **labels) == 1
    from qnemu.apps import utility

    assert value(recorder, "qnemu_tenant_utility", **labels) == pytest.approx(
        utility("qkd", 1 / 0.5, 0.9, 0.8))


def test_violations_are_counted_by_kind_node_and_controller(recorder):
    recorder.record(batch(
        {"event": "violation", "kind": "cutoff_expired", "t_s": 0.1, "node": "r", "tenant": "t"},
        {"event": "violation", "kind": "controller_late", "t_s": 0.2, "node": "a",
         "tenant": "t"}))
    assert value(recorder, "qnemu_violations_total", kind="cutoff_expired", node="r",
                 controller="distributed@r") == 1
    assert value(recorder, "qnemu_violations_total", kind="controller_late", node="a",
                 controller="distributed@a") == 1


def test_controller_events(recorder):
    recorder.record(batch(
        {"event": "decision", "t_s": 0.1, "node": "r", "controller": "distributed@r",
         "tenant": "t", "latency_s": 2e-4, "compute_s": 3e-5},
        {"event": "admission", "tenant": "t", "admitted": False, "reason": "utility"},
        {"event": "qnum", "tenant": "t", "predicted_rate_hz": 12.0,
         "predicted_fidelity": 0.93, "utility": 4.5},
        {"event": "purification", "node": "a", "tenant": "t", "success": True}))
    assert value(recorder, "qnemu_controller_decision_latency_seconds_sum",
                 controller="distributed@r") == pytest.approx(2e-4)
    assert value(recorder, "qnemu_controller_compute_seconds_count",
                 controller="distributed@r") == 1
    assert value(recorder, "qnemu_admission_decisions_total", tenant="t", result="rejected") == 1
    assert value(recorder, "qnemu_qnum_utility", tenant="t", controller="distributed") == 4.5
    assert value(recorder, "qnemu_purifications_total", node="a", result="success") == 1


def test_lateness_above_tolerance_flags_overload_and_close_follows_the_summary(recorder):
    recorder.record(batch(lateness=[0.005] * 100, latency=[1e-4] * 3))
    assert value(recorder, "qnemu_emulator_lateness_seconds_count") == 100
    assert value(recorder, "qnemu_classical_message_latency_seconds_count") == 3
    assert value(recorder, "qnemu_emulator_overloaded") == 1
    recorder.close({"emulator": {"overloaded": False, "lateness_p99_s": 0.0002}})
    assert value(recorder, "qnemu_emulator_overloaded") == 0
    assert value(recorder, "qnemu_emulator_lateness_p99_seconds") == pytest.approx(0.0002)
    assert value(recorder, "qnemu_emulator_running") == 0
