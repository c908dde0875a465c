import numpy as np
import pytest

from qnemu.physics import (
    DEJMPS_ORDER,
    apply_pauli,
    bell_coefficients,
    bell_diagonal,
    bell_state,
    exchange_qubits,
    fidelity,
    qber_from_werner_fidelity,
    qber_x,
    qber_z,
    validate_density_matrix,
    werner,
)


@pytest.mark.parametrize("name", ["phi+", "phi-", "psi+", "psi-"])
def test_bell_states_are_pure_and_orthonormal(name):
    rho = bell_state(name)
    validate_density_matrix(rho)
    assert fidelity(rho, name) == pytest.approx(1.0, abs=1e-12)
    for other in {"phi+", "phi-", "psi+", "psi-"} - {name}:
        assert fidelity(rho, other) == pytest.approx(0.0, abs=1e-12)


def test_werner_fidelity_and_bell_coefficients():
    rho = werner(0.7)
    q = 0.1
    assert bell_coefficients(rho) == pytest.approx((0.7, q, q, q), abs=1e-12)


def test_bell_diagonal_uses_dejmps_order():
    coeffs = (0.6, 0.2, 0.15, 0.05)
    rho = bell_diagonal(*coeffs)
    assert DEJMPS_ORDER == ("phi+", "psi-", "psi+", "phi-")
    for name, c in zip(DEJMPS_ORDER, coeffs, strict=True):
        assert fidelity(rho, name) == pytest.approx(c, abs=1e-12)


@pytest.mark.parametrize(
    ("qubit", "pauli", "result"),
    [(0, "X", "psi+"), (1, "X", "psi+"), (1, "Z", "phi-"), (0, "Y", "psi-"), (1, "I", "phi+")],
)
def test_apply_pauli_maps_between_bell_states(qubit, pauli, result):
    assert fidelity(apply_pauli(bell_state("phi+"), qubit, pauli), result) == pytest.approx(1.0)


@pytest.mark.parametrize("f", [1.0, 0.9, 0.5, 0.25])
def test_werner_qber_matches_closed_form(f):
    rho = werner(f)
    assert qber_z(rho) == pytest.approx(qber_from_werner_fidelity(f), abs=1e-12)
    assert qber_x(rho) == pytest.approx(qber_from_werner_fidelity(f), abs=1e-12)


def test_qber_distinguishes_bases():
    assert qber_z(bell_state("phi-")) == pytest.approx(0.0, abs=1e-12)
    assert qber_x(bell_state("phi-")) == pytest.approx(1.0, abs=1e-12)


def test_exchange_qubits_swaps_the_pair():
    ket = np.kron([1.0, 0.0], [0.6, 0.8])  # |0> (x) (0.6|0> + 0.8|1>)
    rho = np.outer(ket, ket).astype(complex)
    swapped = np.kron([0.6, 0.8], [1.0, 0.0])
    assert np.allclose(exchange_qubits(rho), np.outer(swapped, swapped))
    assert np.allclose(exchange_qubits(bell_state("psi-")), bell_state("psi-"))
