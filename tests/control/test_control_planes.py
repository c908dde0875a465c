"""The control planes: same scenario under every controller; the latency-coherence gap;
synchronous against asynchronous scheduling; bad controller input."""

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from qnemu.emulation import Emulation
from qnemu.physics import analytic
from qnemu.planning.plan import NetworkPlan
from qnemu.scenario import load_scenario

REPO = Path(__file__).resolve().parents[2]
CONTROLLERS = [
    "distributed",
    "centralized",
    "hierarchical",
    "examples.controllers.freshest_first:FreshestFirst",
]


def _chain(
    n,
    t2_s,
    architecture="distributed",
    location=None,
    seed=1,
    duration_s=0.2,
    scheduling="asynchronous",
    hop_km=20.0,
    p_swap=1.0,
    cutoff_s="auto",
    memories=4,
):
    # cpu_scale 0: controllers' wall compute time is left out, so runs are reproducible
    # admission none: these runs study the data plane, whatever the twin predicts
    control = {
        "architecture": architecture,
        "report_interval_s": 2e-4,
        "cpu_scale": 0.0,
        "admission": "none",
        "max_purification_rounds": 0,
        "scheduling": scheduling,
        "cutoff_s": cutoff_s,
    }
    if location:
        control["location"] = location
    return load_scenario(
        {
            "name": f"chain-{n}",
            "seed": seed,
            "duration_s": duration_s,
            "dilation": 50,
            "topology": {
                "generator": "chain",
                "n": n,
                "hop_km": hop_km,
                "hardware": "mem",
                "memories": memories,
            },
            "hardware": {
                "mem": {
                    "base": "er_telecom",
                    "t1_s": 1.0,
                    "t2_s": t2_s,
                    "source_efficiency": 0.5,
                    "coupling_efficiency": 0.9,
                    "memory_efficiency": 0.5,
                    "detector_efficiency": 0.9,
                    "swap_success": p_swap,
                }
            },
            "control": control,
            "tenants": [
                {
                    "name": "t",
                    "app": "qkd",
                    "src": "n0",
                    "dst": f"n{n - 1}",
                    "rate_hz": 10,
                    "f_min": 0.5,
                    "arrivals": "backlog",
                }
            ],
        }
    )


def _rates(tmp_path, seeds, **options):
    summaries = [
        Emulation(_chain(seed=seed, **options), results_dir=tmp_path, mode="virtual").run()
        for seed in seeds
    ]
    rates = np.array([s["tenants"]["t"]["rate_hz"] for s in summaries])
    late = np.array(
        [s["violations"]["cutoff_expired"] + s["violations"]["controller_late"] for s in summaries]
    )
    return rates, late


def _mean_and_error(values):
    return values.mean(), values.std(ddof=1) / math.sqrt(len(values))


@pytest.mark.ray
@pytest.mark.parametrize("controller", CONTROLLERS)
def test_the_same_scenario_runs_unchanged_under_every_controller(
    ray_local, tmp_path, monkeypatch, controller
):
    monkeypatch.chdir(REPO)  # the example controller loads from the working directory
    scenario = load_scenario(
        _chain(5, 0.05).to_dict(),
        overrides={"control.architecture": controller, "duration_s": 0.03},
    )
    summary = Emulation(scenario, results_dir=tmp_path).run()
    assert summary["controller"] == controller
    assert summary["tenants"]["t"]["pairs_delivered"] > 0
    assert summary["counts"]["decision"] > 0


SEEDS = range(8)


def test_a_far_central_controller_loses_the_race_against_short_memories(tmp_path):
    # T_longEB of a link pair here (~1.6 ms, both halves stored) is shorter than the
    # report + round trip to n0 from the far end of the chain; local decisions take
    # microseconds.
    assert NetworkPlan.build(_chain(7, 0.004)).nodes["n3"].cutoff_s < 2.5e-3
    local, local_late = _rates(tmp_path, SEEDS, n=7, t2_s=0.004)
    far, far_late = _rates(
        tmp_path, SEEDS, n=7, t2_s=0.004, architecture="centralized", location="n0"
    )
    (m_local, e_local), (m_far, e_far) = _mean_and_error(local), _mean_and_error(far)
    assert m_local - m_far > 4 * math.hypot(e_local, e_far)
    assert far_late.mean() > local_late.mean()


def test_centring_the_controller_or_raising_t2_closes_the_gap(tmp_path):
    far, far_late = _rates(
        tmp_path, SEEDS, n=7, t2_s=0.004, architecture="centralized", location="n0"
    )
    centered, centered_late = _rates(
        tmp_path, SEEDS, n=7, t2_s=0.004, architecture="centralized", location="n3"
    )
    far_long, far_long_late = _rates(
        tmp_path, SEEDS, n=7, t2_s=0.05, architecture="centralized", location="n0"
    )
    (m_far, e_far), (m_centered, e_centered) = _mean_and_error(far), _mean_and_error(centered)
    assert m_centered - m_far > 4 * math.hypot(e_far, e_centered)
    assert centered_late.mean() < 0.25 * far_late.mean()
    # with long-lived memories the coherence race is won: no violations, rate recovers
    # (what remains is memory held during the control round trip, not decoherence)
    # (a far controller's short-T2 runs are bimodal: most stall, a few get through)
    assert far_long_late.sum() == 0
    assert np.median(far_long) > 3 * np.median(far)


def test_synchronous_rate_falls_as_p_to_the_n_while_asynchronous_holds_up(tmp_path):
    synchronous, asynchronous, predicted = [], [], []
    for n in range(3, 8):  # 2 to 6 hops, one memory mode per link
        sync_rates, _ = _rates(
            tmp_path,
            range(2),
            n=n,
            t2_s=0.1,
            hop_km=10.0,
            memories=2,
            scheduling="synchronous",
            duration_s=0.5,
        )
        async_rates, _ = _rates(
            tmp_path, range(2), n=n, t2_s=0.1, hop_km=10.0, memories=2, duration_s=0.05
        )
        plan = NetworkPlan.build(_chain(n, 0.1, hop_km=10.0, scheduling="synchronous", memories=2))
        p = next(iter(plan.links.values())).model.p_attempt
        predicted.append(analytic.synchronous_path_success([p] * (n - 1)) / plan.time_slot_s)
        synchronous.append(sync_rates.mean())
        asynchronous.append(async_rates.mean())
    # synchronous: within 4 standard errors of the closed form p^N per slot
    for measured, expected in zip(synchronous, predicted, strict=True):
        standard_error = math.sqrt(expected / (2 * 0.5))  # Poisson counts over 2 x 0.5 s
        assert abs(measured - expected) < 4 * standard_error + 1e-9
    # asynchronous (memories hold pairs until their partners arrive) falls far more slowly
    sync_fall = synchronous[-1] / synchronous[0]
    async_fall = asynchronous[-1] / asynchronous[0]
    assert sync_fall < 0.2
    assert async_fall > 2 * sync_fall
    assert all(a > s for a, s in zip(asynchronous, synchronous, strict=True))


def _qnemu(*args, cwd=REPO):
    return subprocess.run(
        [sys.executable, "-m", "qnemu", *map(str, args), "--no-metrics"],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


BAD = {
    "unknown controller": (
        {"control": {"architecture": "anarchy"}},
        "valid: centralized, distributed, hierarchical",
    ),
    "dotted path that does not import": (
        {"control": {"architecture": "nowhere.at_all:X"}},
        "cannot import 'nowhere.at_all'",
    ),
    "not a controller": (
        {"control": {"architecture": "qnemu.scenario:Scenario"}},
        "is not a qnemu Controller class",
    ),
    "location not a node": (
        {"control": {"architecture": "centralized", "location": "zz"}},
        "control.location",
    ),
    "domains that miss a node": (
        {"control": {"architecture": "hierarchical", "domains": {"a": ["n0", "n1"]}}},
        "do not cover the nodes n2",
    ),
}


@pytest.mark.parametrize("case", list(BAD), ids=list(BAD))
def test_bad_controller_input_is_a_clear_error(tmp_path, case):
    extra, expected = BAD[case]
    data = {
        "name": "bad",
        "seed": 1,
        "duration_s": 0.01,
        "topology": {"generator": "chain", "n": 3, "hop_km": 5, "hardware": "er_telecom"},
        "tenants": [
            {"name": "t", "app": "qkd", "src": "n0", "dst": "n2", "rate_hz": 1, "f_min": 0.6}
        ],
        **extra,
    }
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    done = _qnemu("run", path, "--virtual", "--results", tmp_path / "runs")
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    assert expected in done.stderr
    assert not (tmp_path / "runs").exists()


def test_the_example_user_controller_runs_from_the_command_line(tmp_path):
    done = _qnemu(
        "run",
        "--virtual",
        "--quiet",
        "--results",
        tmp_path,
        "--controller",
        "examples.controllers.freshest_first:FreshestFirst",
    )
    assert done.returncode == 0, done.stderr
    assert "examples.controllers.freshest_first:FreshestFirst" in done.stdout
