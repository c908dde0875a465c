"""Quantum operations on pairs: entanglement swap, Pauli correction, purification, measurement.

All maps are exact on density matrices; the constant matrices they need (Bell-basis change,
bilateral CNOT circuits, projectors) are built once at import.

Swap outcomes: outcome k means the Bell measurement found (I (x) P_k)|Phi+> on the two
measured qubits, with P_0 = I (Phi+), P_1 = X (Psi+), P_2 = Z (Phi-), P_3 = XZ (Psi-); bit 0
of k is the parity (X) bit and bit 1 the phase (Z) bit. The outer pair is then left in
(I (x) P_k)|Phi+> (for perfect inputs), so the correction is P_k on qubit 1. Paulis commute
up to a phase, so the corrections of a whole chain may be applied to the final qubit in any
order.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from qnemu.physics import _checks
from qnemu.physics.states import _PAULI_PAIR

_S = 1.0 / math.sqrt(2.0)
_BSM_VECTORS = np.array(
    [[_S, 0, 0, _S], [0, _S, _S, 0], [_S, 0, 0, -_S], [0, _S, -_S, 0]], dtype=complex
)
_CORRECTION_PAULI = ("I", "X", "Z", "Y")
_CORRECTION_OPS = tuple(_PAULI_PAIR[(1, p)] for p in _CORRECTION_PAULI)


def _swap_basis_change() -> np.ndarray:
    """V (16x16): rows (k, a, c), columns (a, b, b', c); V = <beta_k|_{bb'} (x) I_{ac}."""
    v = np.zeros((4, 2, 2, 2, 2, 2, 2), dtype=complex)
    beta = _BSM_VECTORS.reshape(4, 2, 2)
    for a in range(2):
        for c in range(2):
            v[:, a, c, a, :, :, c] = beta.conj()
    return v.reshape(16, 16)


_SWAP_V = _swap_basis_change()
# per outcome k: V_k (4x16), rows (a, c); V_k rho V_k^dagger is outcome k's unnormalized block
_SWAP_VK = _SWAP_V.reshape(4, 4, 16).copy()
_SWAP_VKH = _SWAP_VK.conj().transpose(0, 2, 1).copy()
_EYE4 = np.eye(4)  # read-only: built once, not per swap
_EYE4.setflags(write=False)


def _pair_outer(rho1: np.ndarray, rho2: np.ndarray) -> np.ndarray:
    """rho1 (x) rho2 as a 16x16 matrix over (qubits of rho1, qubits of rho2)."""
    return np.multiply.outer(rho1, rho2).transpose(0, 2, 1, 3).reshape(16, 16)


@functools.lru_cache(maxsize=256)
def _flip_matrix(e: float) -> np.ndarray:
    """T[r, k]: probability that true outcome k is reported as r, each bit flipped w.p. e."""
    one = np.array([[1.0 - e, e], [e, 1.0 - e]])
    t = np.kron(one, one)
    t.setflags(write=False)
    return t


def _sample_index(weights: list[float], u: float) -> int:
    """Index drawn with probability proportional to ``weights`` given a uniform ``u``."""
    threshold = u * sum(weights)
    acc = 0.0
    for i, w in enumerate(weights):
        acc += w
        if threshold < acc:
            return i
    return max(i for i, w in enumerate(weights) if w > 0.0)


def swap(
    rho_left: np.ndarray,
    rho_right: np.ndarray,
    rng: np.random.Generator,
    gate_error: float = 0.0,
    measurement_error: float = 0.0,
) -> tuple[int, np.ndarray]:
    """Entanglement swap: Bell measurement on B, B' of rho_left (A, B) and rho_right (B', C).

    Model: exact on the 16x16 four-qubit state. ``gate_error`` is the probability that the two
    measured qubits are replaced by the maximally mixed state (two-qubit depolarizing) before
    measurement; ``measurement_error`` the probability that each of the two classical outcome
    bits is flipped. Returns the reported outcome (0..3, see the module docstring) and the
    normalized (A, C) state conditioned on that report, BEFORE correction.
    """
    _checks.pair_matrix("rho_left", rho_left)
    _checks.pair_matrix("rho_right", rho_right)
    g = _checks.probability("gate_error", gate_error)
    e = _checks.probability("measurement_error", measurement_error)
    # only the four diagonal blocks of V (rho_left (x) rho_right) V^dagger are needed
    blocks = _SWAP_VK @ _pair_outer(rho_left, rho_right) @ _SWAP_VKH  # (k, ac, a'c')
    probs = blocks.trace(axis1=1, axis2=2).real
    if g == 0.0 and e == 0.0:  # the report is the outcome
        r = _sample_index(probs.tolist(), rng.random())
        state = blocks[r]
        return r, state / state.trace().real
    # Gate error: the depolarized fraction gives each outcome the mixture sum_k blocks[k] / 4.
    weights = (1.0 - g) * _EYE4 + g / 4.0
    if e > 0.0:
        weights = _flip_matrix(e) @ weights  # weights[r, k]: report r from pre-noise outcome k
    r = _sample_index((weights @ probs).tolist(), rng.random())
    state = (weights[r] @ blocks.reshape(4, 16)).reshape(4, 4)
    return r, state / state.trace().real


def apply_correction(rho: np.ndarray, outcome: int) -> np.ndarray:
    """Pauli correction on qubit 1 that maps swap outcome ``outcome``'s state to Phi+.

    Model: outcome 0, 1, 2, 3 -> I, X, Z, Y (Y = XZ up to a global phase) on qubit 1.
    """
    _checks.pair_matrix("rho", rho)
    if outcome not in (0, 1, 2, 3) or isinstance(outcome, bool):
        raise ValueError(f"outcome: must be 0, 1, 2 or 3, got {outcome!r}")
    op = _CORRECTION_OPS[int(outcome)]
    return op @ rho @ op


def swap_success_probability(
    bsm_success: float, timing_jitter_s: float, wavepacket_s: float
) -> float:
    """Bell-measurement success with a timing-mismatch penalty (dimensionless).

    Model: Gaussian wavepackets of rms duration ``wavepacket_s`` (s) offset by
    ``timing_jitter_s`` (s) have mode overlap |<psi1|psi2>|^2 = exp(-(jitter/wavepacket)^2/4);
    the success probability is bsm_success times that, and exactly 0 when the jitter exceeds
    the wavepacket (the photons no longer interfere usefully).
    """
    p = _checks.probability("bsm_success", bsm_success)
    jitter = _checks.finite_nonnegative("timing_jitter_s", timing_jitter_s)
    tau = _checks.finite_positive("wavepacket_s", wavepacket_s)
    if jitter > tau:
        return 0.0
    return p * math.exp(-((jitter / tau) ** 2) / 4.0)


# --- purification --------------------------------------------------------------------------
# Four-qubit order (A1, B1, A2, B2): pair 1 = (A1, B1) is kept, pair 2 = (A2, B2) is measured.


def _cnot(control: int, target: int) -> np.ndarray:
    u = np.zeros((16, 16))
    for i in range(16):
        bits = [(i >> (3 - q)) & 1 for q in range(4)]
        if bits[control]:
            bits[target] ^= 1
        u[sum(b << (3 - q) for q, b in enumerate(bits)), i] = 1.0
    return u


def _rx(theta: float) -> np.ndarray:
    return np.array(
        [
            [math.cos(theta / 2), -1j * math.sin(theta / 2)],
            [-1j * math.sin(theta / 2), math.cos(theta / 2)],
        ]
    )


_BILATERAL_CNOT = _cnot(0, 2) @ _cnot(1, 3)
_ALICE_RX = _rx(math.pi / 2)
_BOB_RX = _rx(-math.pi / 2)
_DEJMPS_ROT = np.kron(np.kron(_ALICE_RX, _BOB_RX), np.kron(_ALICE_RX, _BOB_RX))
_DEJMPS_U = _BILATERAL_CNOT @ _DEJMPS_ROT
_DEJMPS_UH = _DEJMPS_U.conj().T.copy()
_BBPSSW_U = _BILATERAL_CNOT.astype(complex)
_BBPSSW_UH = _BBPSSW_U.T.copy()
_AGREE = np.array([0, 3])  # measured pair (A2, B2) outcomes 00 and 11
_DISAGREE = np.array([1, 2])


def _purify_branches(
    rho1: np.ndarray, rho2: np.ndarray, u: np.ndarray, uh: np.ndarray
) -> tuple[float, np.ndarray, np.ndarray]:
    """(p_success, unnormalized kept-pair state on success, on failure)."""
    full = (u @ _pair_outer(rho1, rho2) @ uh).reshape(4, 4, 4, 4)  # (k1, m, k1', m')
    ok = full[:, _AGREE, :, _AGREE].sum(axis=0)
    bad = full[:, _DISAGREE, :, _DISAGREE].sum(axis=0)
    return float(np.trace(ok).real), ok, bad


def _normalised(state: np.ndarray, p: float) -> np.ndarray:
    return state / p if p > 0.0 else np.eye(4, dtype=complex) / 4.0


def dejmps(rho1: np.ndarray, rho2: np.ndarray) -> tuple[float, np.ndarray]:
    """DEJMPS purification (Deutsch et al., PRL 77, 2818 (1996)), exact on density matrices.

    Model: Alice applies Rx(pi/2) and Bob Rx(-pi/2) to their qubits of both pairs, then a
    bilateral CNOT (pair 1 controls pair 2); pair 2 is measured in Z and pair 1 kept when the
    outcomes agree. Returns (p_success, normalized kept pair); the state is I/4 if p = 0.
    """
    _checks.pair_matrix("rho1", rho1)
    _checks.pair_matrix("rho2", rho2)
    p, ok, _ = _purify_branches(rho1, rho2, _DEJMPS_U, _DEJMPS_UH)
    return p, _normalised(ok, p)


_PHI_PLUS_PROJ = np.zeros((4, 4), dtype=complex)
_PHI_PLUS_PROJ[np.ix_([0, 3], [0, 3])] = 0.5
_PHI_PLUS_REST = (np.eye(4) - _PHI_PLUS_PROJ) / 3.0


def _twirl_to_werner(rho: np.ndarray) -> np.ndarray:
    """Werner state with the same fidelity to Phi+ as ``rho`` (the twirl of ``rho``)."""
    f = ((rho[0, 0] + rho[3, 3] + rho[0, 3] + rho[3, 0]).real) / 2.0
    f = min(1.0, max(0.0, float(f)))
    return f * _PHI_PLUS_PROJ + (1.0 - f) * _PHI_PLUS_REST


def bbpssw(rho1: np.ndarray, rho2: np.ndarray) -> tuple[float, np.ndarray]:
    """BBPSSW purification (Bennett et al., PRL 76, 722 (1996)), exact on density matrices.

    Model: each input is first twirled to the Werner state of its fidelity to Phi+, then a
    bilateral CNOT (pair 1 controls pair 2), pair 2 measured in Z, pair 1 kept when the
    outcomes agree. Returns (p_success, normalized kept pair, not re-twirled).
    """
    _checks.pair_matrix("rho1", rho1)
    _checks.pair_matrix("rho2", rho2)
    p, ok, _ = _purify_branches(
        _twirl_to_werner(rho1), _twirl_to_werner(rho2), _BBPSSW_U, _BBPSSW_UH
    )
    return p, _normalised(ok, p)


_PURIFY_METHODS = {
    "dejmps": (_DEJMPS_U, _DEJMPS_UH, False),
    "bbpssw": (_BBPSSW_U, _BBPSSW_UH, True),
}


def purify(
    rng: np.random.Generator, rho1: np.ndarray, rho2: np.ndarray, method: str = "dejmps"
) -> tuple[bool, np.ndarray]:
    """Sampled purification round: (success, normalized kept-pair state of that branch).

    Model: ``method`` 'dejmps' or 'bbpssw' (see those functions); success is drawn with the
    exact probability. On failure the returned state is the kept pair conditioned on the
    disagreeing outcomes (normally discarded).
    """
    spec = _PURIFY_METHODS.get(method)
    if spec is None:
        raise ValueError(f"method: must be one of {sorted(_PURIFY_METHODS)}, got {method!r}")
    _checks.pair_matrix("rho1", rho1)
    _checks.pair_matrix("rho2", rho2)
    u, uh, twirl = spec
    if twirl:
        rho1, rho2 = _twirl_to_werner(rho1), _twirl_to_werner(rho2)
    p, ok, bad = _purify_branches(rho1, rho2, u, uh)
    if rng.random() < p:
        return True, ok / p
    return False, _normalised(bad, 1.0 - p)


# --- measurement ---------------------------------------------------------------------------

_EIGVECS_1Q = {
    "Z": (np.array([1, 0], dtype=complex), np.array([0, 1], dtype=complex)),
    "X": (np.array([_S, _S], dtype=complex), np.array([_S, -_S], dtype=complex)),
    "Y": (np.array([_S, 1j * _S], dtype=complex), np.array([_S, -1j * _S], dtype=complex)),
}
_MEAS_PROJ = {
    (q, basis, m): (
        np.kron(np.outer(v, v.conj()), np.eye(2))
        if q == 0
        else np.kron(np.eye(2), np.outer(v, v.conj()))
    )
    for basis, vecs in _EIGVECS_1Q.items()
    for m, v in enumerate(vecs)
    for q in (0, 1)
}


def measure(
    rho: np.ndarray, qubit: int, basis: str, rng: np.random.Generator
) -> tuple[int, np.ndarray]:
    """Projective measurement of ``qubit`` (0 or 1) of the pair in Pauli ``basis`` ('X', 'Y', 'Z').

    Model: Born rule; outcome 0 is the +1 eigenstate, 1 the -1 eigenstate. Returns the
    outcome and the normalized post-measurement pair state (4x4).
    """
    _checks.pair_matrix("rho", rho)
    proj0 = _MEAS_PROJ.get((qubit, basis, 0))
    if proj0 is None or isinstance(qubit, bool):
        _checks.qubit_index("qubit", qubit)
        raise ValueError(f"basis: must be one of ['X', 'Y', 'Z'], got {basis!r}")
    p0 = float(np.trace(proj0 @ rho).real)
    m = 0 if rng.random() < p0 else 1
    proj = proj0 if m == 0 else _MEAS_PROJ[(qubit, basis, 1)]
    post = proj @ rho @ proj
    return m, post / np.trace(post).real
