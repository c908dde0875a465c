"""Two-qubit pair states: Bell states, Werner and Bell-diagonal states, fidelity, QBER.

A pair is a 4x4 complex density matrix over (first memory, second memory), computational
basis order |00>, |01>, |10>, |11> (qubit 0 is the most significant). The target state is
|Phi+> = (|00> + |11>)/sqrt(2). Bell-diagonal coefficients use the DEJMPS order
A = Phi+, B = Psi-, C = Psi+, D = Phi-.
"""

from __future__ import annotations

import numpy as np

from qnemu.physics import _checks

_S = 1.0 / np.sqrt(2.0)
_BELL_VECTORS: dict[str, np.ndarray] = {
    "phi+": np.array([_S, 0, 0, _S], dtype=complex),
    "phi-": np.array([_S, 0, 0, -_S], dtype=complex),
    "psi+": np.array([0, _S, _S, 0], dtype=complex),
    "psi-": np.array([0, _S, -_S, 0], dtype=complex),
}
_BELL_PROJECTORS: dict[str, np.ndarray] = {
    k: np.outer(v, v.conj()) for k, v in _BELL_VECTORS.items()
}
#: DEJMPS order of the Bell basis used by ``bell_diagonal`` and ``bell_coefficients``.
DEJMPS_ORDER: tuple[str, str, str, str] = ("phi+", "psi-", "psi+", "phi-")

_PAULI_1Q: dict[str, np.ndarray] = {
    "I": np.eye(2, dtype=complex),
    "X": np.array([[0, 1], [1, 0]], dtype=complex),
    "Y": np.array([[0, -1j], [1j, 0]], dtype=complex),
    "Z": np.array([[1, 0], [0, -1]], dtype=complex),
}
# Pauli on qubit q of a pair, as a 4x4 operator, precomputed once.
_PAULI_PAIR: dict[tuple[int, str], np.ndarray] = {
    (0, p): np.kron(m, np.eye(2)) for p, m in _PAULI_1Q.items()
} | {(1, p): np.kron(np.eye(2), m) for p, m in _PAULI_1Q.items()}
_XX = np.kron(_PAULI_1Q["X"], _PAULI_1Q["X"])
_SWAP_PERM = np.array([0, 2, 1, 3])
# I - |Phi+><Phi+|, the Werner state's noise part (built once: every link pair needs it)
_WERNER_REST = np.eye(4, dtype=complex) - _BELL_PROJECTORS["phi+"]

for _arr in (
    *_BELL_VECTORS.values(),
    *_BELL_PROJECTORS.values(),
    *_PAULI_PAIR.values(),
    _WERNER_REST,
):
    _arr.setflags(write=False)


def _bell_name(target: str, param: str = "target") -> str:
    key = str(target).lower()
    if key not in _BELL_VECTORS:
        raise ValueError(f"{param}: must be one of {sorted(_BELL_VECTORS)}, got {target!r}")
    return key


def bell_state(name: str = "phi+") -> np.ndarray:
    """Density matrix (4x4, dimensionless) of the Bell state ``name``.

    ``name`` is one of 'phi+', 'phi-', 'psi+', 'psi-' (case-insensitive).
    """
    return _BELL_PROJECTORS[_bell_name(name, "name")].copy()


def werner(f: float) -> np.ndarray:
    """Werner state of fidelity ``f`` to |Phi+>: rho = f|Phi+><Phi+| + (1-f)/3 (I - |Phi+><Phi+|).

    Model: isotropic (depolarized) Bell pair; Werner parameter w = (4f - 1)/3.
    """
    f = _checks.probability("f", f)
    return f * _BELL_PROJECTORS["phi+"] + (1.0 - f) / 3.0 * _WERNER_REST


def bell_diagonal(a: float, b: float, c: float, d: float) -> np.ndarray:
    """Bell-diagonal state A|Phi+><Phi+| + B|Psi-><Psi-| + C|Psi+><Psi+| + D|Phi-><Phi-|.

    Coefficients are probabilities in the DEJMPS order and must sum to 1 (within 1e-9).
    """
    coeffs = [_checks.probability(n, v) for n, v in zip("abcd", (a, b, c, d), strict=True)]
    total = sum(coeffs)
    if abs(total - 1.0) > 1e-9:
        raise ValueError(f"a+b+c+d: must equal 1, got {total!r}")
    return sum(
        (x * _BELL_PROJECTORS[k] for x, k in zip(coeffs, DEJMPS_ORDER, strict=True)),
        np.zeros((4, 4), dtype=complex),
    )


def bell_coefficients(rho: np.ndarray) -> tuple[float, float, float, float]:
    """Bell-basis populations (A, B, C, D) of ``rho`` in the DEJMPS order (dimensionless)."""
    _checks.pair_matrix("rho", rho)
    return tuple(  # type: ignore[return-value]
        float(np.vdot(_BELL_VECTORS[k], rho @ _BELL_VECTORS[k]).real) for k in DEJMPS_ORDER
    )


def fidelity(rho: np.ndarray, target: str = "phi+") -> float:
    """Fidelity <psi|rho|psi> of the pair ``rho`` to the Bell state ``target`` (dimensionless)."""
    _checks.pair_matrix("rho", rho)
    v = _BELL_VECTORS[_bell_name(target)]
    return float(np.vdot(v, rho @ v).real)


def apply_pauli(rho: np.ndarray, qubit: int, pauli: str) -> np.ndarray:
    """Apply the Pauli ``pauli`` ('I', 'X', 'Y', 'Z') to qubit ``qubit`` (0 or 1) of ``rho``.

    Model: the unitary P rho P (Paulis are Hermitian and unitary); returns a new array.
    """
    _checks.pair_matrix("rho", rho)
    op = _PAULI_PAIR.get((qubit, pauli))
    if op is None:
        _checks.qubit_index("qubit", qubit)
        raise ValueError(f"pauli: must be one of ['I', 'X', 'Y', 'Z'], got {pauli!r}")
    return op @ rho @ op


def qber_z(rho: np.ndarray) -> float:
    """Quantum bit error rate in the Z basis: probability that the two Z outcomes differ.

    Model: projective Z measurement of both qubits; for |Phi+> outcomes agree (QBER 0).
    """
    _checks.pair_matrix("rho", rho)
    return float((rho[1, 1] + rho[2, 2]).real)


def qber_x(rho: np.ndarray) -> float:
    """Quantum bit error rate in the X basis: probability that the two X outcomes differ.

    Model: projective X measurement of both qubits, QBER = (1 - <X(x)X>)/2.
    """
    _checks.pair_matrix("rho", rho)
    return float((1.0 - np.trace(_XX @ rho).real) / 2.0)


def validate_density_matrix(rho: np.ndarray, name: str = "rho", atol: float = 1e-8) -> np.ndarray:
    """Check that ``rho`` is a density matrix (square, Hermitian, trace 1, PSD within ``atol``).

    Returns it as a complex128 array; raises ``ValueError`` naming ``name`` otherwise.
    """
    arr = np.asarray(rho)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(f"{name}: must be a square matrix, got shape {arr.shape!r}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: must have finite entries, got {arr!r}")
    arr = arr.astype(complex)
    herm_err = float(np.max(np.abs(arr - arr.conj().T)))
    if herm_err > atol:
        raise ValueError(f"{name}: must be Hermitian, got max |rho - rho^dagger| = {herm_err!r}")
    tr = complex(np.trace(arr))
    if abs(tr - 1.0) > atol:
        raise ValueError(f"{name}: must have trace 1, got {tr.real!r}")
    min_eig = float(np.linalg.eigvalsh((arr + arr.conj().T) / 2.0)[0])
    if min_eig < -atol:
        raise ValueError(f"{name}: must be positive semidefinite, got eigenvalue {min_eig!r}")
    return arr


def exchange_qubits(rho: np.ndarray) -> np.ndarray:
    """The same pair with qubits 0 and 1 exchanged: SWAP rho SWAP (dimensionless)."""
    _checks.pair_matrix("rho", rho)
    return rho[np.ix_(_SWAP_PERM, _SWAP_PERM)]
