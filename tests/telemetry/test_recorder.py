"""MetricsRecorder on a fresh registry: each event type moves the right series."""

import math

import pytest
from prometheus_client import CollectorRegistry

from qnemu import records
from qnemu.telemetry.recorder import MetricsRecorder, RunInfo, TenantInfo

RUN = RunInfo(
    nodes=("a", "r", "b"),
    memories=(2, 4, 2),
    links=("a~r", "r~b"),
    tenants=(TenantInfo("t", "qkd", 0.8),),
    controller="distributed",
    node_sites=("distributed@a", "distributed@r", "distributed@b"),
    mode="ray",
    actors=3,
    dilation=100.0,
    lateness_tolerance_s=0.001,
    run="r1",
)


@pytest.fixture
def recorder():
    recorder = MetricsRecorder(CollectorRegistry())
    recorder.start(RUN)
    return recorder


def value(recorder, name, run="r1", **labels):
    return recorder.registry.get_sample_value(name, {"run": run, **labels})


def batch(*events, lateness=(), latency=()):
    """A drained batch, its events built through :mod:`qnemu.records` as the nodes do."""
    return {
        "events": [e.to_dict() for e in events],
        "lateness_s": list(lateness),
        "message_latency_s": list(latency),
        "host": 0,
        "nodes": ["a"],
    }


def swap(success: bool, ages_s=(0.001, 0.002)) -> records.Swap:
    return records.Swap(
        t_s=0.003,
        node="r",
        tenant="t",
        left_pair="a~r#1",
        right_pair="r~b#1",
        left_known_s=0.001,
        right_known_s=0.002,
        ages_s=list(ages_s),
        success=success,
        occupied=0,
    )


def delivered(fidelity: float, at: float) -> records.Delivered:
    return records.Delivered(
        t_s=at,
        tenant="t",
        src="a",
        dst="b",
        t_delivered_s=at,
        fidelity=fidelity,
        latency_s=0.004,
        link_pairs=["a~r#1"],
        src_used_s=at,
        dst_used_s=at,
        src_waited_s=0.0,
        dst_waited_s=0.0,
    )


def test_known_series_start_at_zero(recorder):
    assert (
        value(
            recorder,
            "qnemu_violations_total",
            kind="cutoff_expired",
            node="r",
            controller="distributed",
            site="distributed@r",
        )
        == 0
    )
    assert value(recorder, "qnemu_discards_total", node="a", kind="cutoff") == 0
    assert value(recorder, "qnemu_tenant_min_fidelity", tenant="t") == 0.8
    assert value(recorder, "qnemu_pairs_generated_total", link="a~r") == 0
    assert value(recorder, "qnemu_memory_slots", node="r") == 4
    assert value(recorder, "qnemu_emulator_dilation") == 100
    assert value(recorder, "qnemu_emulator_running") == 1
    assert math.isnan(value(recorder, "qnemu_qnum_utility", tenant="t", controller="distributed"))


def test_link_and_swap_events(recorder):
    recorder.record(
        batch(
            records.PairGenerated(
                t_s=0.001, created_s=0.0005, link="a~r", pair="a~r#1", tenant="t", attempts=7
            ),
            records.Herald(
                t_s=0.002, node="r", pair="a~r#1", created_s=0.0005, tenant="t", occupied=1
            ),
            swap(success=False, ages_s=[0.001, 0.002]),
        )
    )
    assert value(recorder, "qnemu_pairs_generated_total", link="a~r") == 1
    assert value(recorder, "qnemu_link_attempts_total", link="a~r") == 7
    assert value(recorder, "qnemu_heralds_total", node="r") == 1
    assert value(recorder, "qnemu_swaps_total", node="r", result="failure") == 1
    assert value(recorder, "qnemu_memory_age_at_use_seconds_count", node="r") == 2
    assert value(recorder, "qnemu_memory_slots_occupied", node="r") == 0
    assert value(recorder, "qnemu_emulated_time_seconds") == pytest.approx(0.003)
    assert value(recorder, "qnemu_events_total", kind="swap") == 1


def test_delivery_feeds_fidelity_latency_and_utility(recorder):
    recorder.record(batch(delivered(0.9, at=0.5)))
    labels = {"tenant": "t", "controller": "distributed"}
    assert value(recorder, "qnemu_pairs_delivered_total", **labels) == 1
    assert value(recorder, "qnemu_delivered_fidelity_sum", **labels) == pytest.approx(0.9)
    assert value(recorder, "qnemu_delivered_fidelity_bucket", le="0.9", **labels) == 1
    assert value(recorder, "qnemu_delivered_latency_seconds_count", **labels) == 1
    from qnemu.apps import utility

    assert value(recorder, "qnemu_tenant_utility", **labels) == pytest.approx(
        utility("qkd", 1 / 0.5, 0.9, 0.8)
    )


def test_violations_are_counted_by_kind_node_and_controller(recorder):
    recorder.record(
        batch(
            records.Violation(t_s=0.1, kind="cutoff_expired", node="r", tenant="t"),
            records.Violation(t_s=0.2, kind="controller_late", node="a", tenant="t"),
        )
    )
    assert (
        value(
            recorder,
            "qnemu_violations_total",
            kind="cutoff_expired",
            node="r",
            controller="distributed",
            site="distributed@r",
        )
        == 1
    )
    assert (
        value(
            recorder,
            "qnemu_violations_total",
            kind="controller_late",
            node="a",
            controller="distributed",
            site="distributed@a",
        )
        == 1
    )


def test_controller_events(recorder):
    recorder.record(
        batch(
            records.Decision(
                t_s=0.1,
                node="r",
                site="distributed@r",
                controller="distributed",
                tenant="t",
                latency_s=2e-4,
                compute_s=3e-5,
            ),
            records.Admission(t_s=0.0, tenant="t", admitted=False, reason="utility"),
            records.Qnum(
                t_s=0.0,
                tenant="t",
                routing="qnum",
                path=["a", "r", "b"],
                rounds=0,
                predicted_rate_hz=12.0,
                predicted_fidelity=0.93,
                utility=4.5,
            ),
            records.Purification(t_s=0.1, node="a", tenant="t", level=1, success=True),
        )
    )
    assert value(
        recorder,
        "qnemu_controller_decision_latency_seconds_sum",
        controller="distributed",
        site="distributed@r",
    ) == pytest.approx(2e-4)
    assert (
        value(
            recorder,
            "qnemu_controller_compute_seconds_count",
            controller="distributed",
            site="distributed@r",
        )
        == 1
    )
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


def series_labels(recorder):
    return [
        (sample.name, sample.labels)
        for family in recorder.registry.collect()
        for sample in family.samples
    ]


def test_one_controller_value_per_run_whatever_the_events_say(recorder):
    """The deciding instance goes into ``site``, never into ``controller``; an event
    without a site gets its node's."""
    recorder.record(
        batch(
            records.Violation(
                t_s=0.1,
                kind="herald_late",
                node="r",
                tenant="t",
                site="distributed@r",
                controller="distributed",
            ),
            records.Violation(t_s=0.1, kind="below_threshold", node="b", tenant="t", fidelity=0.5),
            records.Decision(
                t_s=0.1,
                node="a",
                site="distributed@a",
                controller="distributed",
                tenant="t",
                latency_s=1e-4,
                compute_s=1e-5,
            ),
            delivered(0.9, at=0.5),
        )
    )
    controllers = {
        labels["controller"] for _, labels in series_labels(recorder) if "controller" in labels
    }
    assert controllers == {"distributed"}
    assert (
        value(
            recorder,
            "qnemu_violations_total",
            kind="below_threshold",
            node="b",
            controller="distributed",
            site="distributed@b",
        )
        == 1
    )


def test_every_series_carries_the_run_label(recorder):
    recorder.record(batch(swap(success=True), lateness=[1e-4]))
    assert {labels.get("run") for _, labels in series_labels(recorder)} == {"r1"}


def phases(recorder):
    return {
        (labels["run"], labels["phase"]): v
        for name, labels in series_labels(recorder)
        for v in [recorder.registry.get_sample_value(name, labels)]
        if name == "qnemu_emulator_phase"
    }


def test_phase_goes_starting_running_finished():
    recorder = MetricsRecorder(CollectorRegistry())
    recorder.begin()  # the run's name is not known while Ray starts
    assert phases(recorder) == {("", "starting"): 1, ("", "running"): 0, ("", "finished"): 0}
    recorder.start(RUN)
    assert phases(recorder) == {("r1", "starting"): 0, ("r1", "running"): 1, ("r1", "finished"): 0}
    recorder.close(None)
    assert phases(recorder)[("r1", "finished")] == 1


def test_a_second_run_keeps_the_first_runs_final_values():
    recorder = MetricsRecorder(CollectorRegistry())
    recorder.begin("r1")
    recorder.start(RUN)
    recorder.record(batch(delivered(0.9, at=0.5)))
    recorder.close(None)
    recorder.begin("r2")
    second = RunInfo(
        **{
            **RUN.__dict__,
            "run": "r2",
            "controller": "centralized",
            "node_sites": ("centralized",) * 3,
        }
    )
    recorder.start(second)
    labels = {"tenant": "t"}
    assert value(recorder, "qnemu_pairs_delivered_total", controller="distributed", **labels) == 1
    assert (
        value(recorder, "qnemu_pairs_delivered_total", run="r2", controller="centralized", **labels)
        == 0
    )
    assert phases(recorder)[("r1", "finished")] == 1
    assert phases(recorder)[("r2", "running")] == 1


def test_run_info_takes_the_folder_name_the_emulation_passes(make_chain):
    """The results folder's name, unless the sink was given a label (compare's
    ``comparison/run``, which must tell the runs of one comparison apart)."""
    from qnemu.emulation import Emulation

    plan = Emulation(make_chain(2, t2_s=1.0, f_min=0.5, duration_s=0.01), mode="virtual").plan
    assert RunInfo.from_plan(plan, {"run": "20250101-000000-chain2"}).run == (
        "20250101-000000-chain2"
    )
    assert RunInfo.from_plan(plan, {"run": "20250101-000000-chain2"}, "cmp/x").run == "cmp/x"
    assert RunInfo.from_plan(plan, {}, "x").run == "x"
    named = RunInfo.from_plan(plan, {}).run
    assert named.endswith("-chain2") and named[:8].isdigit()


def test_actor_cpu_is_counted_from_each_actors_running_totals(recorder):
    def report(host, loop, events, frames):
        cpu = {"loop_s": loop, "events_s": events, "frames_s": frames, "wakes": 1}
        return {**batch(), "host": host, "cpu": cpu}

    def counted(kind):
        return value(recorder, "qnemu_emulator_actor_cpu_seconds_total", kind=kind)

    assert counted("events") == counted("frames") == counted("loop") == 0
    recorder.record(report(0, 1.0, 0.5, 0.2))
    recorder.record(report(1, 2.0, 1.0, 0.5))
    recorder.record(report(0, 1.5, 0.7, 0.3))  # host 0's totals grew: only the growth counts
    assert counted("events") == pytest.approx(0.7 + 1.0)
    assert counted("frames") == pytest.approx(0.3 + 0.5)
    assert counted("loop") == pytest.approx(0.5 + 0.5)
    recorder.record(report(0, 0.2, 0.1, 0.05))  # a respawned actor starts again at zero
    assert counted("events") == pytest.approx(1.8)
    assert counted("loop") == pytest.approx(1.05)
    recorder.record(batch())  # a batch without CPU figures (the run's own decisions)
    assert counted("frames") == pytest.approx(0.85)
