import math

import numpy as np
import pytest
from scipy import stats

from qnemu.physics import (
    apply_correction,
    bbpssw,
    bbpssw_map,
    bell_coefficients,
    bell_diagonal,
    bell_state,
    dejmps,
    dejmps_map,
    fidelity,
    measure,
    purify,
    swap,
    swap_success_probability,
    werner,
    werner_chain_fidelity,
    werner_swap_fidelity,
)


def test_r1_sanity_value():
    assert werner_swap_fidelity(0.9, 0.8) == pytest.approx(0.726667, abs=1e-6)


@pytest.mark.parametrize(("f1", "f2"), [(0.9, 0.8), (0.99, 0.6), (0.5, 0.5)])
def test_swap_of_werner_pairs_matches_r1_for_every_outcome(rng, f1, f2):
    seen = set()
    for _ in range(64):
        outcome, rho = swap(werner(f1), werner(f2), rng)
        seen.add(outcome)
        corrected = apply_correction(rho, outcome)
        assert fidelity(corrected) == pytest.approx(werner_swap_fidelity(f1, f2), abs=1e-9)
    assert seen == {0, 1, 2, 3}


def test_swap_outcomes_uniform_on_bell_inputs(rng):
    n = 4000
    counts = np.bincount([swap(bell_state(), bell_state(), rng)[0] for _ in range(n)], minlength=4)
    assert stats.chisquare(counts).pvalue > 1e-3


def test_swap_chain_matches_r2(rng):
    fs = [0.95, 0.9, 0.97, 0.92]
    rho = werner(fs[0])
    frame = []
    for f in fs[1:]:
        outcome, rho = swap(rho, werner(f), rng)
        frame.append(outcome)
    for outcome in frame:
        rho = apply_correction(rho, outcome)
    assert fidelity(rho) == pytest.approx(werner_chain_fidelity(fs), abs=1e-9)


@pytest.mark.parametrize("n_links", [2, 3, 5, 8])
def test_pauli_frame_chain_in_any_order_returns_phi_plus(n_links):
    rng = np.random.default_rng(n_links)
    for _ in range(10):
        segments = [bell_state() for _ in range(n_links)]
        outcomes = []
        while len(segments) > 1:
            i = int(rng.integers(len(segments) - 1))  # swap at a random repeater
            outcome, merged = swap(segments[i], segments[i + 1], rng)
            segments[i : i + 2] = [merged]
            outcomes.append(outcome)
        rho = segments[0]
        for outcome in rng.permutation(outcomes):  # corrections in any order, final qubit
            rho = apply_correction(rho, int(outcome))
        assert fidelity(rho) == pytest.approx(1.0, abs=1e-12)


def test_swap_gate_error_is_two_qubit_depolarizing(rng):
    outcome, rho = swap(bell_state(), bell_state(), rng, gate_error=0.2)
    assert fidelity(apply_correction(rho, outcome)) == pytest.approx(1 - 0.75 * 0.2, abs=1e-12)


def test_swap_measurement_error_flips_each_bit(rng):
    outcome, rho = swap(bell_state(), bell_state(), rng, measurement_error=0.1)
    assert fidelity(apply_correction(rho, outcome)) == pytest.approx(0.9**2, abs=1e-12)


def test_swap_success_probability_jitter_penalty():
    assert swap_success_probability(0.5, 0.0, 1e-9) == 0.5
    mid = swap_success_probability(0.5, 0.5e-9, 1e-9)
    assert 0.0 < mid < 0.5
    assert swap_success_probability(0.5, 0.9e-9, 1e-9) < mid
    assert swap_success_probability(0.5, 1.1e-9, 1e-9) == 0.0


@pytest.mark.parametrize(("f1", "f2"), [(0.8, 0.8), (0.9, 0.7), (0.6, 0.95)])
def test_bbpssw_matches_r6(f1, f2):
    p, rho = bbpssw(werner(f1), werner(f2))
    p_ref, f_ref = bbpssw_map(f1, f2)
    assert p == pytest.approx(p_ref, abs=1e-9)
    assert fidelity(rho) == pytest.approx(f_ref, abs=1e-9)


def test_r6_sanity_values():
    p, f = bbpssw_map(0.8, 0.8)
    assert p == pytest.approx(0.768889, abs=1e-6)
    assert f == pytest.approx(0.838150, abs=1e-6)


def test_bbpssw_twirls_non_werner_inputs():
    rho = bell_diagonal(0.8, 0.0, 0.0, 0.2)
    p, out = bbpssw(rho, rho)
    assert p == pytest.approx(bbpssw_map(0.8, 0.8)[0], abs=1e-9)
    assert fidelity(out) == pytest.approx(bbpssw_map(0.8, 0.8)[1], abs=1e-9)


@pytest.mark.parametrize(
    "coeffs", [(0.8, 0.1, 0.05, 0.05), (0.9, 0.0, 0.0, 0.1), (0.7, 0.05, 0.15, 0.1)]
)
def test_dejmps_matches_r7(coeffs):
    rho = bell_diagonal(*coeffs)
    p, out = dejmps(rho, rho)
    p_ref, coeffs_ref = dejmps_map(*coeffs)
    assert p == pytest.approx(p_ref, abs=1e-9)
    assert bell_coefficients(out) == pytest.approx(coeffs_ref, abs=1e-9)


def test_r7_sanity_values():
    p, (a, *_) = dejmps_map(0.8, 0.1, 0.05, 0.05)
    assert (p, a) == pytest.approx((0.82, 0.792683), abs=1e-6)
    p, (a, *_) = dejmps_map(0.9, 0.0, 0.0, 0.1)
    assert (p, a) == pytest.approx((0.82, 0.987805), abs=1e-6)


@pytest.mark.parametrize("method", ["dejmps", "bbpssw"])
def test_purify_success_frequency(rng, method):
    rho, n = werner(0.75), 4000
    p = (dejmps if method == "dejmps" else bbpssw)(rho, rho)[0]
    hits = sum(purify(rng, rho, rho, method)[0] for _ in range(n))
    assert abs(hits / n - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_purify_returns_the_branch_state(rng):
    rho = werner(0.8)
    ok, out = purify(rng, rho, rho)
    _, ok_state = dejmps(rho, rho)
    if ok:
        assert np.allclose(out, ok_state)
    else:
        assert fidelity(out) < fidelity(ok_state)


@pytest.mark.parametrize("basis", ["X", "Y", "Z"])
def test_measure_frequencies(rng, basis):
    # |0> (x) (cos a |0> + e^{i phi} sin a |1>) has known outcome probabilities on qubit 1
    a, phi, n = 0.6, 0.9, 4000
    ket = np.kron([1, 0], [math.cos(a), np.exp(1j * phi) * math.sin(a)])
    rho = np.outer(ket, ket.conj())
    p0 = {
        "Z": math.cos(a) ** 2,
        "X": (1 + math.sin(2 * a) * math.cos(phi)) / 2,
        "Y": (1 + math.sin(2 * a) * math.sin(phi)) / 2,
    }[basis]
    zeros = sum(measure(rho, 1, basis, rng)[0] == 0 for _ in range(n))
    assert abs(zeros / n - p0) < 4 * math.sqrt(p0 * (1 - p0) / n)


def test_measure_collapses_partner(rng):
    outcome, post = measure(bell_state(), 0, "Z", rng)
    assert post[3 * outcome, 3 * outcome].real == pytest.approx(1.0)
