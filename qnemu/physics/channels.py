"""Single-qubit noise channels acting on one qubit of a pair (4x4 density matrix).

Every channel here is phase-covariant: on the chosen qubit's 2x2 block it moves population
between |0> and |1> and scales the coherences by a real factor. That lets one slice-based
kernel (no per-call matrix construction) implement all of them:

    rho00 -> (1 - a) rho00 + b rho11
    rho11 -> a rho00 + (1 - b) rho11
    rho01 -> c rho01,  rho10 -> c rho10
"""

from __future__ import annotations

import math

import numpy as np

from qnemu.physics import _checks

# Index slices (rows, cols) of the qubit's |0><0| and |1><1| blocks, per qubit.
_POP0 = {0: (slice(0, 2), slice(0, 2)), 1: (slice(0, 4, 2), slice(0, 4, 2))}
_POP1 = {0: (slice(2, 4), slice(2, 4)), 1: (slice(1, 4, 2), slice(1, 4, 2))}


def _phase_covariant(rho: np.ndarray, qubit: int, a: float, b: float, c: float) -> np.ndarray:
    """Apply the phase-covariant map (a, b, c) described in the module docstring."""
    p0, p1 = _POP0[qubit], _POP1[qubit]
    r0 = rho[p0]
    r1 = rho[p1]
    out = rho * c
    if a == 0.0:
        out[p0] = r0 + b * r1
        out[p1] = (1.0 - b) * r1
    else:
        out[p0] = (1.0 - a) * r0 + b * r1
        out[p1] = a * r0 + (1.0 - b) * r1
    return out


def _check(rho: np.ndarray, qubit: int) -> None:
    _checks.pair_matrix("rho", rho)
    if qubit not in _POP0 or isinstance(qubit, bool):
        _checks.qubit_index("qubit", qubit)
        raise ValueError(f"qubit: must be 0 or 1, got {qubit!r}")


def amplitude_damping(rho: np.ndarray, qubit: int, gamma: float) -> np.ndarray:
    """Amplitude damping of probability ``gamma`` (dimensionless, [0, 1]) on ``qubit``.

    Model: Kraus operators [[1, 0], [0, sqrt(1-gamma)]] and [[0, sqrt(gamma)], [0, 0]]
    (energy relaxation |1> -> |0>); coherences scale by sqrt(1 - gamma).
    """
    _check(rho, qubit)
    g = _checks.probability("gamma", gamma)
    return _phase_covariant(rho, qubit, 0.0, g, math.sqrt(1.0 - g))


def phase_damping(rho: np.ndarray, qubit: int, lam: float) -> np.ndarray:
    """Phase damping of parameter ``lam`` (dimensionless, [0, 1]) on ``qubit``.

    Model (Nielsen & Chuang 8.3.6): Kraus [[1, 0], [0, sqrt(1-lam)]], [[0, 0], [0, sqrt(lam)]];
    populations unchanged, coherences scale by sqrt(1 - lam).
    """
    _check(rho, qubit)
    lam = _checks.probability("lam", lam)
    return _phase_covariant(rho, qubit, 0.0, 0.0, math.sqrt(1.0 - lam))


def depolarize(rho: np.ndarray, qubit: int, p: float) -> np.ndarray:
    """Depolarizing channel on ``qubit``: with probability ``p`` the qubit is replaced by I/2.

    Model: rho -> (1 - p) rho + p (I/2 (x) Tr_qubit rho); equivalently Paulis X, Y, Z each
    with probability p/4. ``p`` is dimensionless in [0, 1].
    """
    _check(rho, qubit)
    p = _checks.probability("p", p)
    return _phase_covariant(rho, qubit, p / 2.0, p / 2.0, 1.0 - p)


def generalized_amplitude_damping(
    rho: np.ndarray, qubit: int, gamma: float, p_excited: float
) -> np.ndarray:
    """Generalized amplitude damping: relaxation ``gamma`` towards a thermal qubit state.

    Model (Nielsen & Chuang 8.3.5 with p = 1 - p_excited): the qubit relaxes with probability
    ``gamma`` towards the state with excited population ``p_excited``; coherences scale by
    sqrt(1 - gamma). Both parameters are dimensionless in [0, 1].
    """
    _check(rho, qubit)
    g = _checks.probability("gamma", gamma)
    pe = _checks.probability("p_excited", p_excited)
    return _phase_covariant(rho, qubit, g * pe, g * (1.0 - pe), math.sqrt(1.0 - g))


def decohere(rho: np.ndarray, qubit: int, dt_s: float, t1_s: float, t2_s: float) -> np.ndarray:
    """Memory decoherence of ``qubit`` over ``dt_s`` seconds with relaxation times T1, T2 (s).

    Model (R9): amplitude damping with gamma = 1 - exp(-dt/T1) plus pure dephasing with
    1/T_phi = 1/T2 - 1/(2 T1), so rho01 -> rho01 exp(-dt/T2). Requires T2 <= 2 T1.
    ``math.inf`` for T1 means no energy relaxation (pure dephasing at T2); both infinite means
    no noise. ``dt_s == 0`` or no noise returns ``rho`` itself (not a copy).
    """
    if dt_s == 0.0 or (t1_s == math.inf and t2_s == math.inf):
        if not (t2_s <= 2.0 * t1_s and t2_s > 0.0 and dt_s >= 0.0):
            _checks.t1_t2("t1_s", t1_s, "t2_s", t2_s)
            _checks.nonnegative("dt_s", dt_s)
        _check(rho, qubit)
        return rho
    _check(rho, qubit)
    if not (0.0 < dt_s < math.inf and 0.0 < t2_s <= 2.0 * t1_s):
        _checks.finite_nonnegative("dt_s", dt_s)
        _checks.t1_t2("t1_s", t1_s, "t2_s", t2_s)
    gamma = -math.expm1(-dt_s / t1_s)
    return _phase_covariant(rho, qubit, 0.0, gamma, math.exp(-dt_s / t2_s))
