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
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnemu.physics import analytic
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


# -- the tenant's results: GHZ states joined from its sub-tenants' pairs (oracle side) ------


def pair_matrix(values: Sequence[float]) -> np.ndarray:
    """A 4x4 pair matrix from its ``app.rho`` list (16 real parts, then 16 imaginary)."""
    flat = np.asarray(values[:16], dtype=float) + 1j * np.asarray(values[16:], dtype=float)
    return flat.reshape(4, 4)


def matrix_values(rho: np.ndarray) -> list[float]:
    """The ``app.rho`` list of a 4x4 pair matrix (inverse of :func:`pair_matrix`)."""
    flat = np.asarray(rho, dtype=complex).reshape(16)
    return [*flat.real.tolist(), *flat.imag.tolist()]


@dataclass
class GhzState:
    """One fused GHZ state: the parties' matrix and its fidelity (oracle)."""

    rho: np.ndarray
    fidelity: float
    visibility: float
    parity: int | None = None  # sensing: the measured parity (+1/-1)


@dataclass
class GhzTally:
    """A ghz or sensing tenant's states, joined from the delivered pairs of one fusion.

    Each pair's ``app`` names its ``fusion`` and ``member`` (index in ``parties``); when
    every party's pair of a fusion is in (the hub's own party, if any, holds a local
    qubit: an ideal Phi+ stands for it), :func:`fuse` gives the parties' state.
    """

    app: str = "ghz"
    n: int = 0
    pending: dict[int, dict[int, np.ndarray]] = field(default_factory=dict)
    keys: dict[int, list[str]] = field(default_factory=dict)
    states: list[GhzState] = field(default_factory=list)

    def add(self, app: Mapping[str, Any]) -> GhzState | None:
        """Fold in one delivered pair's ``app`` field; the state it completes, if any."""
        self.app, self.n = app["name"], int(app["n"])
        fusion = int(app["fusion"])
        pairs = self.pending.setdefault(fusion, {})
        pairs[int(app["member"])] = pair_matrix(app["rho"])
        self.keys.setdefault(fusion, []).append(str(app["pair"]))
        hub = app.get("hub_member")
        if len(pairs) < self.n - (hub is not None):
            return None
        del self.pending[fusion]
        keys = sorted(self.keys.pop(fusion))
        if hub is not None:
            pairs[int(hub)] = mq.PHI_PLUS
        rho = fuse([pairs[i] for i in range(self.n)])
        state = GhzState(rho, ghz_fidelity(rho), visibility(rho))
        if self.app == "sensing":
            seed = zlib.crc32(f"{app['group']}:{fusion}:{keys}".encode())
            state.parity = sample_parity(rho, sensing_phase(self.n), np.random.default_rng(seed))
        self.states.append(state)
        return state

    def block(self) -> dict[str, Any]:
        """The tenant's ``ghz`` block: states fused, their fidelity (mean, SE), and the
        fusions still missing a party's pair at the end."""
        values = [s.fidelity for s in self.states]
        return {
            "parties": self.n,
            "states": len(values),
            "fidelity_mean": float(np.mean(values)) if values else None,
            "fidelity_se": (
                float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else None
            ),
            "visibility_mean": float(np.mean([s.visibility for s in self.states]))
            if values
            else None,
            "incomplete": len(self.pending),
        }

    def sensing_block(self) -> dict[str, Any]:
        """The ``sensing`` block: the phase estimated from the parities, the estimator's
        variance (error propagation with the states' mean visibility) and the limits."""
        parities = [s.parity for s in self.states if s.parity is not None]
        nu, n, phase = len(parities), self.n, sensing_phase(self.n)
        if nu < 2:
            return {"states": nu, "phase_rad": phase}
        v = float(np.mean([s.visibility for s in self.states]))
        mean = float(np.mean(parities))
        estimate = math.acos(min(1.0, max(-1.0, mean / v))) / n if v > 0 else math.nan
        slope = n * v * math.sin(n * estimate)
        variance = float(np.var(parities, ddof=1)) / nu / slope**2 if slope else math.inf
        heisenberg, sql = analytic.phase_variance_limits(n, nu)
        return {
            "states": nu,
            "phase_rad": phase,
            "phase_estimate_rad": estimate,
            "parity_mean": mean,
            "visibility_mean": v,
            "estimator_variance_rad2": variance,
            "model_variance_rad2": analytic.ghz_phase_variance(v, n, nu),
            "heisenberg_limit_rad2": heisenberg,
            "standard_quantum_limit_rad2": sql,
        }


def sensing_phase(n: int) -> float:
    """The common phase the sensing parties imprint (rad): pi / (2n), the most sensitive
    point of the parity V cos(n phi)."""
    return math.pi / (2 * n)


def sample_parity(rho: np.ndarray, phase: float, rng: np.random.Generator) -> int:
    """A parity (+1 or -1) of the n parties' X outcomes after imprinting ``phase``, drawn
    with its Born probability (1 + <X^(x)n>) / 2."""
    p_plus = min(1.0, max(0.0, (1.0 + parity_mean(rho, phase)) / 2.0))
    return 1 if rng.random() < p_plus else -1
