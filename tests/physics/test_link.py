import math

import numpy as np
import pytest

from qnemu.physics import (
    PROFILES,
    attempt_period_s,
    attempt_success_probability,
    conversion_penalty,
    fidelity,
    initial_pair_state,
    link_model,
    multiplexed_success_probability,
    propagation_delay_s,
    sample_time_to_success,
    transmissivity,
    two_segment_mean_wait_attempts,
    werner_chain_fidelity,
)


def test_attempt_success_probability_is_the_product_of_stages():
    p = attempt_success_probability(
        fiber_transmissivity=0.5,
        source_efficiency=0.8,
        coupling_efficiency=0.5,
        memory_efficiency=0.9,
        detector_efficiency=0.5,
        bsm_success=0.5,
    )
    assert p == pytest.approx(0.5 * 0.8 * 0.5 * 0.9 * 0.5 * 0.5)


def test_attempt_period():
    assert attempt_period_s(1e3, 5e-3) == pytest.approx(5e-3)
    assert attempt_period_s(1e3, 5e-3, single_mode=False) == pytest.approx(1e-3)
    assert attempt_period_s(1e3) == pytest.approx(1e-3)


def test_multiplexed_success_probability():
    assert multiplexed_success_probability(0.1, 2) == pytest.approx(0.19)
    assert multiplexed_success_probability(0.3, 1) == pytest.approx(0.3)
    assert multiplexed_success_probability(1.0, 5) == 1.0


def test_sample_time_to_success_mean(rng):
    p, period, modes, n = 0.01, 1e-3, 3, 20_000
    times = np.array([sample_time_to_success(rng, p, period, modes) for _ in range(n)])
    expected = period / multiplexed_success_probability(p, modes)
    assert abs(times.mean() - expected) < 4 * times.std() / math.sqrt(n)
    assert np.allclose(times / period, np.round(times / period))  # whole attempts
    assert sample_time_to_success(rng, 0.0, period) == math.inf


def test_r8_two_segments_by_sampling(rng):
    p, n = 0.1, 20_000
    waits = np.array(
        [
            max(sample_time_to_success(rng, p, 1.0), sample_time_to_success(rng, p, 1.0))
            for _ in range(n)
        ]
    )
    assert two_segment_mean_wait_attempts(p) == pytest.approx(14.74, abs=5e-3)
    assert abs(waits.mean() - two_segment_mean_wait_attempts(p)) < 4 * waits.std() / math.sqrt(n)


def test_conversion_penalty_only_outside_telecom_band():
    assert conversion_penalty(1536.0) == (0.0, 1.0)
    assert conversion_penalty(1310.0) == (0.0, 1.0)
    assert conversion_penalty(854.0, loss_db=6.0, fidelity_factor=0.97) == (6.0, 0.97)


def test_initial_pair_state_is_werner():
    rho = initial_pair_state(0.9)
    assert fidelity(rho) == pytest.approx(0.9)
    assert fidelity(rho, "psi-") == pytest.approx(0.1 / 3)


def test_link_success_scales_with_fiber_transmissivity():
    ion = PROFILES["trapped_ion"]  # single mode: p is linear in eta(L)
    p0 = link_model(ion, ion, 0.0).p_attempt
    p40 = link_model(ion, ion, 40.0).p_attempt
    assert p40 / p0 == pytest.approx(transmissivity(40.0), rel=1e-12)
    assert link_model(ion, ion, 40.0).fiber_transmissivity == pytest.approx(transmissivity(40.0))


def test_link_period_and_herald_delay():
    ion = PROFILES["trapped_ion"]
    assert link_model(ion, ion, 50.0).period_s == pytest.approx(propagation_delay_s(50.0))
    assert link_model(ion, ion, 1.0).period_s == pytest.approx(1.0 / ion.attempt_rate_hz)
    assert link_model(ion, ion, 30.0).herald_delay_s == pytest.approx(propagation_delay_s(15.0))
    er = PROFILES["er_telecom"]  # multimode, does not wait for the herald
    assert link_model(er, er, 50.0).period_s == pytest.approx(1.0 / er.attempt_rate_hz)


def test_link_initial_fidelity_is_werner_product():
    er = PROFILES["er_telecom"]  # telecom band: no conversion factor
    model = link_model(er, er, 10.0)
    f = er.source_fidelity
    assert model.initial_fidelity == pytest.approx(werner_chain_fidelity([f, f]), abs=1e-12)
    assert fidelity(model.initial_state()) == pytest.approx(model.initial_fidelity)


def test_visible_memory_gets_conversion_penalty():
    ion = PROFILES["trapped_ion"]
    telecom_ion = ion.replace(wavelength_nm=1550.0)
    converted, native = link_model(ion, ion, 10.0), link_model(telecom_ion, telecom_ion, 10.0)
    assert converted.p_attempt < native.p_attempt
    assert converted.initial_fidelity < native.initial_fidelity


def test_default_profiles_give_usable_rates_at_10_km():
    ion = PROFILES["trapped_ion"]
    assert link_model(ion, ion, 10.0).expected_rate_hz >= 1.0
    for name in ("atomic_ensemble", "er_telecom"):
        prof = PROFILES[name]
        assert 10.0 <= link_model(prof, prof, 10.0).expected_rate_hz <= 1e4
    for prof in PROFILES.values():
        model = link_model(prof, prof, 10.0)
        assert 0.0 < model.expected_rate_hz < math.inf
        assert model.initial_fidelity > 2 / 3
