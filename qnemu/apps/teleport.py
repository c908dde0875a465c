"""Teleportation of Haar-random qubits through delivered pairs.

The source holds a data qubit in a Haar-random state; it makes a Bell measurement of the
data qubit and its half of the pair, and sends the two outcome bits over the emulated
network; the destination holds its half (decohering) until the bits arrive, applies the
Pauli correction, and the output's fidelity to the input is recorded (oracle side).
Through a pair of fidelity F the mean over inputs is (2F + 1)/3
(:func:`qnemu.physics.analytic.teleport_mean_fidelity`).

Pair qubit order: (source half, destination half); three-qubit order (data, source half,
destination half).
"""

from __future__ import annotations

import numpy as np

from qnemu.physics import multiqubit as mq
from qnemu.physics.operations import _BSM_VECTORS

#: Correction on the output for Bell outcome k (0 Phi+, 1 Psi+, 2 Phi-, 3 Psi-, the swap
#: convention of :mod:`qnemu.physics.operations`): it undoes I, X, Z, XZ.
CORRECTIONS = (mq.I2, mq.X, mq.Z, mq.Z @ mq.X)


def haar_state(rng: np.random.Generator) -> np.ndarray:
    """A Haar-random single-qubit state vector (normalized complex Gaussian)."""
    v = rng.normal(size=2) + 1j * rng.normal(size=2)
    return v / np.linalg.norm(v)


def _joint(rho_pair: np.ndarray, psi: np.ndarray) -> np.ndarray:
    return mq.tensor(mq.pure(psi), rho_pair)


def outcome_probabilities(rho_pair: np.ndarray, psi: np.ndarray) -> np.ndarray:
    """Probabilities of the four Bell outcomes (they depend on the source half alone)."""
    joint = _joint(rho_pair, psi)
    return np.array(
        [np.trace(mq.apply(joint, mq.pure(v), [0, 1])).real for v in _BSM_VECTORS]
    ).clip(min=0.0)


def sample_outcome(rho_pair: np.ndarray, psi: np.ndarray, rng: np.random.Generator) -> int:
    """A Bell outcome drawn with its Born probability."""
    p = outcome_probabilities(rho_pair, psi)
    return int(rng.choice(4, p=p / p.sum()))


def output_state(rho_pair: np.ndarray, psi: np.ndarray, outcome: int) -> np.ndarray:
    """The destination's corrected qubit (2x2) given the Bell ``outcome``."""
    joint = mq.apply(_joint(rho_pair, psi), mq.pure(_BSM_VECTORS[outcome]), [0, 1])
    out = mq.partial_trace(joint, [2])
    out = CORRECTIONS[outcome] @ out @ CORRECTIONS[outcome].conj().T
    return out / np.trace(out).real


def output_fidelity(rho_pair: np.ndarray, psi: np.ndarray, outcome: int) -> float:
    """<psi| output |psi>: how well the qubit arrived."""
    return mq.state_fidelity(output_state(rho_pair, psi, outcome), psi)
