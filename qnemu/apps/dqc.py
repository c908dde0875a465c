"""Distributed quantum computing: a remote CNOT through one delivered pair.

The cat-entangler / disentangler protocol (Eisert, Jacobs, Papadopoulos and Plenio, PRA
62, 052317 (2000)): the source holds the control c and its half a of the pair, the
destination the target t and its half b.

1. source: CNOT(c -> a), measure a in Z -> m1, send m1;
2. destination, once m1 arrived: X^m1 on b, CNOT(b -> t), measure b in X -> m2, send m2;
3. source, once m2 arrived: Z^m2 on c. The gate is done.

Its quality is the average gate fidelity against the ideal CNOT, computed exactly from
the pair's true state (oracle side): c and t start maximally entangled with reference
qubits, the protocol runs on the six-qubit density matrix, every outcome branch is
summed with its correction (each reported bit flipped with its end's measurement error),
and the result's overlap with (CNOT (x) I)|Phi+>|Phi+> is the process fidelity F_pro;
F_avg = (4 F_pro + 1)/5. Under this evaluation both bits are uniformly distributed
whatever the pair, so the messages carry fair coin flips. A Werner pair of fidelity F
gives F_pro = F (docs/apps.md).

Six-qubit order: (R_c, c, a, b, t, R_t); pair order (a, b) = (source, destination).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnemu.physics import multiqubit as mq
from qnemu.physics.analytic import average_gate_fidelity

_IDEAL = mq.apply(mq.tensor(mq.PHI_PLUS, mq.PHI_PLUS), mq.CNOT, [1, 2])  # (R_c, c, t, R_t)
_IDEAL_VEC = np.linalg.eigh(_IDEAL)[1][:, -1]  # the pure ideal Choi state


def process_fidelity(rho_pair: np.ndarray, error_src: float = 0.0, error_dst: float = 0.0) -> float:
    """Process fidelity of the remote CNOT realized through ``rho_pair`` (outcome-averaged).

    The six-qubit evaluation is linear in the pair's state, so it runs once per pair of
    measurement errors on the 16 two-qubit Pauli operators (:func:`_pauli_response`);
    a pair's figure is then the Pauli expansion of its state against that response,
    exact and a few microseconds per delivered pair.
    """
    coefficients = np.einsum("kij,ji->k", _PAULI_BASIS, np.asarray(rho_pair)).real / 4.0
    return float(coefficients @ _pauli_response(float(error_src), float(error_dst)))


_PAULIS_1 = (np.eye(2), mq.X, np.array([[0, -1j], [1j, 0]]), mq.Z)
_PAULI_BASIS = np.array([np.kron(p, q) for p in _PAULIS_1 for q in _PAULIS_1], dtype=complex)


def prepare(error_src: float = 0.0, error_dst: float = 0.0) -> None:
    """Compute and cache the response :func:`process_fidelity` uses for these measurement
    errors (tens of milliseconds once per process; then every call is microseconds)."""
    _pauli_response(float(error_src), float(error_dst))


@functools.lru_cache(maxsize=64)
def _pauli_response(error_src: float, error_dst: float) -> np.ndarray:
    """The six-qubit evaluation of each two-qubit Pauli operator (Hermitian, so real)."""
    return np.array([_evaluate(p, error_src, error_dst) for p in _PAULI_BASIS])


def _evaluate(rho_pair: np.ndarray, error_src: float, error_dst: float) -> float:
    """The protocol on the six-qubit density matrix, every branch summed (linear in
    ``rho_pair``)."""
    state = mq.tensor(mq.PHI_PLUS, rho_pair, mq.PHI_PLUS)
    state = mq.apply(state, mq.CNOT, [1, 2])
    out = np.zeros((16, 16), dtype=complex)
    for m1 in (0, 1):
        after_a = mq.apply(state, mq.projector("Z", m1), [2])
        for r1 in (0, 1):
            w1 = 1.0 - error_src if r1 == m1 else error_src
            if w1 == 0.0:
                continue
            step = mq.apply(after_a, mq.X, [3]) if r1 else after_a
            step = mq.apply(step, mq.CNOT, [3, 4])
            for m2 in (0, 1):
                after_b = mq.apply(step, mq.projector("X", m2), [3])
                for r2 in (0, 1):
                    w2 = 1.0 - error_dst if r2 == m2 else error_dst
                    if w2 == 0.0:
                        continue
                    final = mq.apply(after_b, mq.Z, [1]) if r2 else after_b
                    out += w1 * w2 * mq.partial_trace(final, [0, 1, 4, 5])
    return mq.state_fidelity(out, _IDEAL_VEC)


def gate_fidelity(rho_pair: np.ndarray, error_src: float = 0.0, error_dst: float = 0.0) -> float:
    """Average gate fidelity (d = 4) of the remote CNOT through ``rho_pair``."""
    fp = min(1.0, max(0.0, process_fidelity(rho_pair, error_src, error_dst)))
    return average_gate_fidelity(fp, 4)


@dataclass
class DqcTally:
    """A tenant's remote gates: per-gate fidelity (oracle) and completion times (the
    source's clock when m2 arrived), grouped into circuits of ``gates_per_circuit``."""

    gates_per_circuit: int = 1
    fidelities: dict[str, float] = field(default_factory=dict)  # by pair
    done: dict[int, tuple[str, float, float]] = field(default_factory=dict)  # by gate index

    def add_fidelity(self, pair: str, fidelity: float) -> None:
        """The oracle's gate fidelity for the gate that used ``pair``."""
        self.fidelities[pair] = fidelity

    def add_done(self, index: int, pair: str, started_s: float, done_s: float) -> None:
        """Gate ``index`` (0, 1, ...) of the tenant finished at the source."""
        self.done[index] = (pair, started_s, done_s)

    def _circuits(self) -> tuple[list[float], list[float]]:
        """(completion time, product fidelity) of every complete circuit."""
        k, times, products = self.gates_per_circuit, [], []
        for c in range(len(self.done) // k):
            gates = [self.done.get(c * k + j) for j in range(k)]
            complete = [g for g in gates if g is not None and g[0] in self.fidelities]
            if len(complete) < k:
                continue
            times.append(complete[-1][2] - complete[0][1])
            products.append(float(np.prod([self.fidelities[g[0]] for g in complete])))
        return times, products

    def block(self) -> dict[str, Any]:
        """The tenant's ``dqc`` block of ``summary.json``."""
        values = list(self.fidelities.values())
        times, products = self._circuits()
        durations = [done - started for _, started, done in self.done.values()]
        return {
            "gates": len(self.done),
            "gate_fidelity_mean": float(np.mean(values)) if values else None,
            "gate_fidelity_se": _se(values),
            "gate_time_mean_s": float(np.mean(durations)) if durations else None,
            "gates_per_circuit": self.gates_per_circuit,
            "circuits_completed": len(times),
            "circuit_time_mean_s": float(np.mean(times)) if times else None,
            "circuit_fidelity_mean": float(np.mean(products)) if products else None,
        }


def _se(values: list[float]) -> float | None:
    if len(values) < 2:
        return None
    return float(np.std(values, ddof=1) / math.sqrt(len(values)))
