"""Property tests: every channel and operation maps density matrices to density matrices."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qnemu.physics import (
    amplitude_damping,
    apply_correction,
    apply_pauli,
    bbpssw,
    decohere,
    dejmps,
    depolarize,
    exchange_qubits,
    generalized_amplitude_damping,
    measure,
    phase_damping,
    purify,
    swap,
    validate_density_matrix,
)

from .conftest import assert_physical, density_matrices

SETTINGS = settings(max_examples=40, deadline=None)
probs = st.floats(0.0, 1.0)
qubits = st.integers(0, 1)
seeds = st.integers(0, 2**32 - 1)


@SETTINGS
@given(density_matrices(), qubits, probs, probs, st.sampled_from(["ad", "pd", "dep", "gad"]))
def test_channels_preserve_density_matrices(rho, qubit, x, y, kind):
    out = {
        "ad": lambda: amplitude_damping(rho, qubit, x),
        "pd": lambda: phase_damping(rho, qubit, x),
        "dep": lambda: depolarize(rho, qubit, x),
        "gad": lambda: generalized_amplitude_damping(rho, qubit, x, y),
    }[kind]()
    assert_physical(out)
    validate_density_matrix(out)


@SETTINGS
@given(density_matrices(), qubits, st.floats(0.0, 10.0), st.floats(1e-3, 10.0), probs)
def test_decohere_preserves_density_matrices(rho, qubit, dt, t1, ratio):
    t2 = max(ratio * 2 * t1, 1e-6)
    assert_physical(decohere(rho, qubit, dt, t1, t2))
    assert_physical(decohere(rho, qubit, dt, math.inf, t2))


@SETTINGS
@given(density_matrices(), density_matrices(), seeds, probs, probs)
def test_swap_preserves_density_matrices(rho1, rho2, seed, g, e):
    outcome, out = swap(rho1, rho2, np.random.default_rng(seed), g, e)
    assert outcome in range(4)
    assert_physical(out)
    assert_physical(apply_correction(out, outcome))


@SETTINGS
@given(density_matrices(), density_matrices(), seeds)
def test_purification_preserves_density_matrices(rho1, rho2, seed):
    for op in (dejmps, bbpssw):
        p, out = op(rho1, rho2)
        assert -1e-12 <= p <= 1 + 1e-12
        assert_physical(out)
    for method in ("dejmps", "bbpssw"):
        _, out = purify(np.random.default_rng(seed), rho1, rho2, method)
        assert_physical(out)


@SETTINGS
@given(density_matrices(), qubits, st.sampled_from("XYZ"), seeds)
def test_measure_and_paulis_preserve_density_matrices(rho, qubit, basis, seed):
    _, post = measure(rho, qubit, basis, np.random.default_rng(seed))
    assert_physical(post)
    assert_physical(apply_pauli(rho, qubit, basis))
    assert_physical(exchange_qubits(rho))


def _bell_measurement_reference(
    rho_left: np.ndarray, rho_right: np.ndarray, g: float, e: float
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Swap from first principles on the 4-qubit state (A, B, B', C): the measured qubits
    depolarized with probability g, projected on each Bell state, traced out; each reported
    bit flipped with probability e. Returns the report probabilities and the (A, C) state
    for each report."""
    s = 1 / math.sqrt(2)
    bells = [
        np.array([s, 0, 0, s]),  # Phi+
        np.array([0, s, s, 0]),  # Psi+
        np.array([s, 0, 0, -s]),  # Phi-
        np.array([0, s, -s, 0]),  # Psi-
    ]
    full = np.kron(rho_left, rho_right).reshape([2] * 8)  # (A, B, B', C) x (A, B, B', C)
    blocks = []
    for beta in bells:
        # <beta|_{BB'} rho |beta>_{BB'}: rows (a, x, y, c), columns (d, z, w, h)
        weights = np.outer(beta.conj(), beta).reshape(2, 2, 2, 2)  # (x, y), (z, w)
        block = np.einsum("xyzw,axycdzwh->acdh", weights, full)
        blocks.append(block.reshape(4, 4))
    mixed = sum(blocks) / 4  # the depolarized measured qubits give each outcome a quarter
    noisy = [(1 - g) * b + g * mixed for b in blocks]
    flip = [[(1 - e) if bit_r == bit_k else e for bit_k in (0, 1)] for bit_r in (0, 1)]
    reported = [
        sum(flip[r & 1][k & 1] * flip[r >> 1][k >> 1] * noisy[k] for k in range(4))
        for r in range(4)
    ]
    probabilities = np.array([np.trace(b).real for b in reported])
    return probabilities, [b / np.trace(b).real for b in reported]


@SETTINGS
@given(density_matrices(), density_matrices(), seeds, st.sampled_from([0.0, 0.1]), probs)
def test_swap_state_matches_a_first_principles_bell_measurement(rho1, rho2, seed, g, e):
    probabilities, states = _bell_measurement_reference(rho1, rho2, g, e)
    assert probabilities.sum() == pytest.approx(1.0, abs=1e-9)
    outcome, out = swap(rho1, rho2, np.random.default_rng(seed), g, e)
    assert probabilities[outcome] > 0.0
    assert np.max(np.abs(out - states[outcome])) < 1e-9
