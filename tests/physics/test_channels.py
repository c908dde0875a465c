import math

import numpy as np
import pytest

from qnemu.physics import (
    amplitude_damped_fidelity,
    amplitude_damping,
    bell_diagonal,
    bell_state,
    decohere,
    dephased_fidelity,
    depolarize,
    depolarized_werner_parameter,
    fidelity,
    generalized_amplitude_damping,
    phase_damping,
    werner,
)


def _w(f):
    return (4 * f - 1) / 3


@pytest.mark.parametrize("t_s", [0.0, 0.1, 0.5, 2.0])
def test_one_dephased_half_matches_r4(t_s):
    rho = decohere(bell_diagonal(0.9, 0.0, 0.0, 0.1), 1, t_s, math.inf, 0.7)
    assert fidelity(rho) == pytest.approx(dephased_fidelity(0.9, t_s, 0.7), abs=1e-9)


def test_both_dephased_halves_match_r4():
    rho = bell_diagonal(0.85, 0.0, 0.0, 0.15)
    rho = decohere(decohere(rho, 0, 0.3, math.inf, 1.0), 1, 0.3, math.inf, 1.0)
    assert fidelity(rho) == pytest.approx(dephased_fidelity(0.85, 0.3, 1.0, True), abs=1e-9)


@pytest.mark.parametrize("t_s", [0.01, 0.2, 1.0, 5.0])
def test_amplitude_damping_both_halves_matches_r5(t_s):
    # T2 = 2 T1: no pure dephasing, only amplitude damping.
    rho = bell_state()
    for q in (0, 1):
        rho = decohere(rho, q, t_s, 1.0, 2.0)
    assert fidelity(rho) == pytest.approx(amplitude_damped_fidelity(t_s, 1.0), abs=1e-9)


def test_decohere_implements_r9_elementwise():
    rho = np.full((4, 4), 0.25, dtype=complex)  # |++><++|
    out = decohere(rho, 0, 0.2, 1.0, 0.5)
    g = 1 - math.exp(-0.2)
    assert out[2, 2].real == pytest.approx(0.25 * (1 - g))  # |1> population of qubit 0
    assert out[0, 0].real == pytest.approx(0.25 * (1 + g))
    assert out[0, 2].real == pytest.approx(0.25 * math.exp(-0.2 / 0.5))


def test_decohere_short_circuits():
    rho = werner(0.9)
    assert decohere(rho, 1, 0.0, 1.0, 1.0) is rho
    assert decohere(rho, 1, 5.0, math.inf, math.inf) is rho


def test_depolarize_matches_r3():
    t, t_coh = 0.3, 1.2
    rho = depolarize(werner(0.9), 0, -math.expm1(-t / t_coh))
    expected_w = depolarized_werner_parameter(_w(0.9), t, t_coh)
    assert _w(fidelity(rho)) == pytest.approx(expected_w, abs=1e-9)


def test_amplitude_damping_full_decay_gives_ground_state():
    rho = amplitude_damping(bell_state(), 1, 1.0)
    assert rho[0, 0].real == pytest.approx(0.5)
    assert rho[2, 2].real == pytest.approx(0.5)


def test_phase_damping_keeps_populations():
    rho = phase_damping(bell_state(), 0, 0.36)
    assert np.allclose(np.diag(rho), np.diag(bell_state()))
    assert rho[0, 3].real == pytest.approx(0.5 * 0.8)


def test_gad_relaxes_to_thermal_state():
    rho = generalized_amplitude_damping(bell_state(), 0, 1.0, 0.2)
    # qubit 0 fully thermalised: excited population 0.2, uncorrelated from qubit 1
    assert (rho[2, 2] + rho[3, 3]).real == pytest.approx(0.2)
    assert abs(rho[0, 3]) == pytest.approx(0.0)
