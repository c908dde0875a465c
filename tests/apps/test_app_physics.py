"""The applications' physics against closed forms (no emulation): QKD, teleportation,
remote CNOT, GHZ fusion. Sampled figures are held within 4 standard errors."""

import math

import numpy as np
import pytest

from qnemu.apps import dqc, ghz, qkd, teleport
from qnemu.physics import amplitude_damping, analytic, bell_diagonal, fidelity, werner
from qnemu.physics import multiqubit as mq


def test_qber_of_werner_pairs_in_both_bases_is_two_thirds_of_infidelity():
    rng = np.random.default_rng(3)
    f, n = 0.88, 20_000
    tally = qkd.QkdTally()
    rho = werner(f)
    for _ in range(n):
        bases = qkd.choose_basis(rng), qkd.choose_basis(rng)
        tally.add(*bases, *qkd.measure_pair(rho, *bases, rng))
    expected = analytic.qber_from_werner_fidelity(f)
    for basis in ("Z", "X"):
        se = math.sqrt(expected * (1 - expected) / tally.sifted[basis])
        assert abs(tally.qber(basis) - expected) < 4 * se
    assert abs(sum(tally.sifted.values()) - n / 2) < 4 * math.sqrt(n / 4)
    block = tally.block(duration_s=2.0)
    assert block["secret_fraction"] == pytest.approx(
        analytic.shor_preskill_fraction(block["qber_x"], block["qber_z"])
    )
    assert block["secret_key_rate_bps"] == pytest.approx(
        block["sifted_bits"] / 2.0 * block["secret_fraction"]
    )


def test_measurement_error_adds_to_the_qber_as_the_flip_formula_says():
    rng = np.random.default_rng(4)
    rho, n, e = werner(0.95), 20_000, 0.05
    errors = sum(a != b for a, b in (qkd.measure_pair(rho, "Z", "Z", rng, e, e) for _ in range(n)))
    expected = qkd.error_probability(rho, "Z", e, e)
    assert expected == pytest.approx(
        analytic.qber_with_measurement_error(analytic.qber_from_werner_fidelity(0.95), e, e)
    )
    assert abs(errors / n - expected) < 4 * math.sqrt(expected * (1 - expected) / n)


def test_shor_preskill_fraction_is_the_bb84_fraction_at_equal_qbers():
    for q in (0.0, 0.02, 0.08, 0.2):
        assert analytic.shor_preskill_fraction(q, q) == pytest.approx(
            analytic.bb84_secret_fraction(q)
        )


def test_teleportation_mean_fidelity_is_two_f_plus_one_over_three():
    # an amplitude-damped pair (not Werner): fidelity varies with the input state
    rng = np.random.default_rng(5)
    rho = amplitude_damping(amplitude_damping(werner(0.97), 1, 0.2), 0, 0.05)
    values = []
    for _ in range(4_000):
        psi = teleport.haar_state(rng)
        values.append(teleport.output_fidelity(rho, psi, teleport.sample_outcome(rho, psi, rng)))
    se = np.std(values, ddof=1) / math.sqrt(len(values))
    assert se > 1e-4  # a real spread: the test is statistical
    assert abs(np.mean(values) - analytic.teleport_mean_fidelity(fidelity(rho))) < 4 * se


def test_teleportation_through_a_perfect_pair_is_perfect_for_every_outcome():
    rng = np.random.default_rng(6)
    psi = teleport.haar_state(rng)
    rho = werner(1.0)
    assert np.allclose(teleport.outcome_probabilities(rho, psi), 0.25)
    for k in range(4):
        assert teleport.output_fidelity(rho, psi, k) == pytest.approx(1.0)


@pytest.mark.parametrize("f", [1.0, 0.95, 0.8, 0.6])
def test_remote_cnot_through_a_werner_pair(f):
    assert dqc.process_fidelity(werner(f)) == pytest.approx(f, abs=1e-12)
    assert dqc.gate_fidelity(werner(f)) == pytest.approx(
        analytic.remote_cnot_average_fidelity(f), abs=1e-12
    )


def test_remote_cnot_process_fidelity_is_the_phi_plus_weight_of_a_bell_diagonal_pair():
    rho = bell_diagonal(0.85, 0.02, 0.05, 0.08)
    assert dqc.process_fidelity(rho) == pytest.approx(0.85, abs=1e-12)


def test_remote_cnot_measurement_errors_act_as_pauli_errors():
    # a flipped m1 is an X on the target, a flipped m2 a Z on the control: F_pro (1-e)^2
    e = 0.03
    assert dqc.process_fidelity(werner(1.0), e, e) == pytest.approx((1 - e) ** 2, abs=1e-12)


@pytest.mark.parametrize("n", [2, 3, 4, 6])
def test_ghz_fusion_of_werner_pairs_matches_the_closed_form(n):
    fs = list(np.random.default_rng(n).uniform(0.7, 1.0, size=n))
    rho = ghz.fuse([werner(f) for f in fs])
    assert np.trace(rho).real == pytest.approx(1.0)
    assert ghz.ghz_fidelity(rho) == pytest.approx(analytic.ghz_fidelity_from_werner(fs), abs=1e-12)


def test_ghz_of_two_is_the_werner_swap():
    assert analytic.ghz_fidelity_from_werner([0.9, 0.8]) == pytest.approx(
        analytic.werner_swap_fidelity(0.9, 0.8)
    )


def test_ghz_parity_oscillates_n_times_faster_with_the_visibility():
    rho = ghz.fuse([werner(0.95)] * 3)
    v = ghz.visibility(rho)
    for phase in (0.0, 0.3, 1.1):
        assert ghz.parity_mean(rho, phase) == pytest.approx(v * math.cos(3 * phase), abs=1e-12)
    hl, sql = analytic.phase_variance_limits(3, 100)
    assert analytic.ghz_phase_variance(1.0, 3, 100) == pytest.approx(hl) and hl < sql


def test_multiqubit_apply_and_partial_trace_agree_with_kron():
    rng = np.random.default_rng(7)
    a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    rho = a @ a.conj().T
    rho /= np.trace(rho)
    u = mq.CNOT
    assert np.allclose(
        mq.apply(mq.tensor(rho, mq.pure([1, 0])), u, [1, 2]),
        np.kron(np.eye(2), u) @ np.kron(rho, mq.pure([1, 0])) @ np.kron(np.eye(2), u).T,
    )
    assert np.allclose(mq.partial_trace(mq.tensor(rho, mq.pure([0, 1])), [0, 1]), rho)
    assert np.allclose(
        mq.partial_trace(mq.tensor(mq.pure([0, 1]), rho), [2, 1]),
        rho.reshape(2, 2, 2, 2).transpose(1, 0, 3, 2).reshape(4, 4),
    )


def test_the_remote_cnot_pauli_response_equals_the_six_qubit_evaluation():
    """The per-pair figure (Pauli expansion against a cached response) is the six-qubit
    protocol's own value for any two-qubit state, with measurement errors."""
    rng = np.random.default_rng(12)
    for _ in range(6):
        a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        rho = a @ a.conj().T
        rho /= np.trace(rho)
        assert dqc.process_fidelity(rho, 0.03, 0.01) == pytest.approx(
            dqc._evaluate(rho, 0.03, 0.01), abs=1e-12
        )
