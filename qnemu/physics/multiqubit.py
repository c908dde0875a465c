"""Small exact tools on n-qubit density matrices (n up to about 10), for the applications.

A state of n qubits is a (2^n x 2^n) complex density matrix, qubit 0 the most significant
bit (the same order as a pair's 4x4 matrix). Operators act on a list of qubits given in
the order of the operator's own tensor factors. Everything is exact linear algebra on
the matrix viewed as a tensor with 2n axes (n row axes, then n column axes).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

_S = 1.0 / math.sqrt(2.0)
#: Single-qubit gates and Paulis.
I2 = np.eye(2, dtype=complex)
X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
Z = np.array([[1, 0], [0, -1]], dtype=complex)
H = np.array([[_S, _S], [_S, -_S]], dtype=complex)
#: CNOT with the first tensor factor as control.
CNOT = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
#: |Phi+><Phi+| (4x4).
PHI_PLUS = np.outer([_S, 0, 0, _S], [_S, 0, 0, _S]).astype(complex)
#: Eigenvectors of the Pauli bases: outcome 0 is the +1 eigenstate.
BASIS_VECTORS: dict[str, tuple[np.ndarray, np.ndarray]] = {
    "Z": (np.array([1, 0], dtype=complex), np.array([0, 1], dtype=complex)),
    "X": (np.array([_S, _S], dtype=complex), np.array([_S, -_S], dtype=complex)),
    "Y": (np.array([_S, 1j * _S], dtype=complex), np.array([_S, -1j * _S], dtype=complex)),
}

for _arr in (I2, X, Y, Z, H, CNOT, PHI_PLUS):
    _arr.setflags(write=False)


def n_qubits(rho: np.ndarray) -> int:
    """Number of qubits of a 2^n x 2^n density matrix (ValueError for other shapes)."""
    dim = rho.shape[0]
    n = dim.bit_length() - 1
    if rho.ndim != 2 or rho.shape != (dim, dim) or 1 << n != dim:
        raise ValueError(f"rho: must be a 2^n x 2^n matrix, got shape {rho.shape!r}")
    return n


def _check_qubits(qubits: Sequence[int], n: int) -> list[int]:
    targets = [int(q) for q in qubits]
    if len(set(targets)) != len(targets) or any(not 0 <= q < n for q in targets):
        raise ValueError(f"qubits: must be distinct indices in [0, {n}), got {list(qubits)!r}")
    return targets


def apply(rho: np.ndarray, op: np.ndarray, qubits: Sequence[int]) -> np.ndarray:
    """op rho op^dagger with ``op`` (2^k x 2^k) acting on ``qubits`` (k of them, in order).

    ``op`` need not be unitary (a projector gives the unnormalized post-measurement state).
    """
    n = n_qubits(rho)
    targets = _check_qubits(qubits, n)
    k = len(targets)
    if op.shape != (1 << k, 1 << k):
        raise ValueError(f"op: must be {1 << k}x{1 << k} for {k} qubits, got {op.shape!r}")
    u = op.reshape([2] * (2 * k))
    t = rho.reshape([2] * (2 * n))
    t = np.tensordot(u, t, axes=(list(range(k, 2 * k)), targets))
    t = np.moveaxis(t, list(range(k)), targets)
    cols = [n + q for q in targets]
    t = np.tensordot(t, u.conj(), axes=(cols, list(range(k, 2 * k))))
    t = np.moveaxis(t, list(range(2 * n - k, 2 * n)), cols)
    return t.reshape(1 << n, 1 << n)


def projector(basis: str, outcome: int) -> np.ndarray:
    """|v><v| for the eigenvector of Pauli ``basis`` ('X', 'Y', 'Z') with ``outcome`` 0 or 1."""
    vectors = BASIS_VECTORS.get(basis)
    if vectors is None or outcome not in (0, 1):
        raise ValueError(f"basis, outcome: must be X/Y/Z and 0/1, got {basis!r}, {outcome!r}")
    v = vectors[outcome]
    return np.outer(v, v.conj())


def partial_trace(rho: np.ndarray, keep: Sequence[int]) -> np.ndarray:
    """The reduced state of the qubits ``keep`` (in that order)."""
    n = n_qubits(rho)
    kept = _check_qubits(keep, n)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if 2 * n > len(letters):
        raise ValueError(f"rho: at most {len(letters) // 2} qubits, got {n}")
    rows = list(letters[:n])
    cols = [rows[q] if q not in kept else letters[n + q] for q in range(n)]
    out = "".join(rows[q] for q in kept) + "".join(cols[q] for q in kept)
    k = len(kept)
    spec = f"{''.join(rows)}{''.join(cols)}->{out}"
    return np.einsum(spec, rho.reshape([2] * (2 * n))).reshape(1 << k, 1 << k)


def tensor(*states: np.ndarray) -> np.ndarray:
    """Kronecker product of density matrices (or operators), first factor most significant."""
    out = np.eye(1, dtype=complex)
    for state in states:
        out = np.kron(out, state)
    return out


def pure(vector: np.ndarray) -> np.ndarray:
    """|v><v| of a normalized state vector."""
    v = np.asarray(vector, dtype=complex)
    return np.outer(v, v.conj())


def state_fidelity(rho: np.ndarray, vector: np.ndarray) -> float:
    """<v|rho|v> for a pure target |v> (dimensionless)."""
    v = np.asarray(vector, dtype=complex)
    return float(np.vdot(v, rho @ v).real)
