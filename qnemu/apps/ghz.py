"""GHZ states fused at a hub from delivered Bell pairs, and phase estimation with them.

Pair i is (hub half h_i, party half p_i). The hub fuses them one by one: CNOT(h_1 -> h_i),
measure h_i in Z (outcome m_i, party i applies X^m_i); at the end it measures h_1 in X
(outcome m, party 1 applies Z^m). The parties then share (|0...0> + |1...1>)/sqrt(2).
:func:`fuse` computes the parties' state exactly (every outcome branch with its
correction summed; at most 2 + n qubits at a time, n <= 6), against which
:func:`qnemu.physics.analytic.ghz_fidelity_from_werner` is checked.

Sensing: each party imprints a phase phi (Rz) and measures X; the parity of the n bits
has mean V cos(n phi) with V the GHZ coherence (:func:`parity_mean`), so n parties reach
the Heisenberg variance 1/(nu n^2) when V = 1.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from qnemu.physics import multiqubit as mq

MAX_PARTIES = 6


def ghz_vector(n: int) -> np.ndarray:
    """(|0...0> + |1...1>)/sqrt(2) on n qubits."""
    v = np.zeros(1 << n, dtype=complex)
    v[0] = v[-1] = 1.0 / math.sqrt(2.0)
    return v


def fuse(pairs: Sequence[np.ndarray]) -> np.ndarray:
    """The parties' n-qubit state (2^n x 2^n) after the hub fuses ``pairs`` (hub half first)."""
    n = len(pairs)
    if not 2 <= n <= MAX_PARTIES:
        raise ValueError(f"pairs: must be 2 to {MAX_PARTIES}, got {n}")
    state = np.asarray(pairs[0], dtype=complex)  # (h1, p1)
    for i, pair in enumerate(pairs[1:], start=1):
        state = mq.tensor(state, pair)  # (h1, p1..p_i, h_new, p_new)
        h_new, p_new = i + 1, i + 2
        state = mq.apply(state, mq.CNOT, [0, h_new])
        fused = _total(
            mq.apply(mq.apply(state, mq.projector("Z", m), [h_new]), mq.X if m else mq.I2, [p_new])
            for m in (0, 1)
        )
        keep = [q for q in range(i + 3) if q != h_new]
        state = mq.partial_trace(fused, keep)
    final = _total(
        mq.apply(mq.apply(state, mq.projector("X", m), [0]), mq.Z if m else mq.I2, [1])
        for m in (0, 1)
    )
    return mq.partial_trace(final, list(range(1, n + 1)))


def _total(branches: Iterable[np.ndarray]) -> np.ndarray:
    """The sum of the outcome branches (each already corrected)."""
    return np.sum(list(branches), axis=0)


def ghz_fidelity(rho: np.ndarray) -> float:
    """Fidelity of an n-qubit state to the GHZ state."""
    return mq.state_fidelity(rho, ghz_vector(mq.n_qubits(rho)))


def visibility(rho: np.ndarray) -> float:
    """The GHZ coherence V = 2 |<0...0| rho |1...1>| (1 for the ideal state)."""
    return float(2.0 * abs(rho[0, -1]))


def parity_mean(rho: np.ndarray, phase: float) -> float:
    """<X^(x)n> after every party imprints ``phase`` (rad) with exp(-i phase Z / 2)."""
    n = mq.n_qubits(rho)
    rz = np.diag([np.exp(-0.5j * phase), np.exp(0.5j * phase)])
    state = rho
    for q in range(n):
        state = mq.apply(state, rz, [q])
    parity = mq.tensor(*([mq.X] * n))
    return float(np.trace(parity @ state).real)
