"""Q-NUM: predicted end-to-end (R, F) of swap-ASAP on a path, and the choice that maximizes
a tenant's utility U = R q(F) over candidate paths and purification depths.

Prediction model (every formula is a ``physics.analytic`` call; the assumptions are here):

- Links start together; link i needs a geometric number of attempts (success p_i, one
  attempt every period_i s), mean m_i = period_i / p_i. Swaps are immediate and happen as
  soon as both neighboring links hold a pair (swap-ASAP); no cutoff.
- Mean time until every link holds a pair, E[T]: one link m_1; two links with equal (p,
  period) the exact R8 closed form ``two_segment_mean_wait_attempts``; otherwise link times
  are taken as exponential with rate r_i = p_i / period_i (small-p limit) and E[max_i T_i]
  is exact for that: inclusion-exclusion up to 12 links, numerical quadrature beyond.
  The pairwise waits at a swap node, E[max(T_i, T_i+1)], use the same two-link rules.
- Rate R = (parallel slot pairs) * prod(swap success at interior nodes) / E[T]: a failed swap
  restarts the attempt (pessimistic for long chains, exact for one interior node).
- Fidelity: Werner chain of the link fidelities (R2), then memory dephasing at each
  memory's T2 (R4) over the mean time each qubit is stored: a qubit waits from its link's
  success until its node's swap (interior) or until the last link is up plus the classical
  delay of the swap outcomes (end nodes). Pure dephasing is a Pauli channel, so every stored
  qubit's dephasing composes onto the end-to-end pair and one exponent tau = sum t_q / T2_q
  is exact given the mean waits (using the mean is Jensen-pessimistic). T2 already carries
  T1's share of coherence loss; T1 population decay is neglected (optimistic when T1 ~ T2).
  Swap gate and measurement errors are not included.
- Purification, end to end, 0-2 rounds: the first pair waits 1/R for the second (both end
  memories dephase), then DEJMPS (R7; the wait split evenly between the two pairs, since the
  map takes equal pairs) or BBPSSW (R6, exact for unequal Werner fidelities, output taken as
  Werner); the kept pair waits one classical delay for the outcome. R -> R p / 2 per round.

Units: seconds, hertz; fidelities and probabilities dimensionless.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from qnemu.physics.analytic import (
    bbpssw_map,
    dejmps_map,
    dephased_fidelity,
    two_segment_mean_wait_attempts,
    werner_chain_fidelity,
)

if TYPE_CHECKING:
    pass


#: Purification maps Q-NUM can predict with.
PURIFICATION_METHODS = ("dejmps", "bbpssw")
#: Deepest purification Q-NUM considers.
MAX_ROUNDS = 2
#: Above this many links E[max] uses quadrature instead of inclusion-exclusion.
_EXACT_MAX_LINKS = 12

Bell = tuple[float, float, float, float]


# ------------------------------------------------------------------------------- inputs


@dataclass(frozen=True)
class LinkParams:
    """What Q-NUM needs of one link: attempt success ``p_attempt`` per slot pair, attempt
    ``period_s``, heralded Werner ``fidelity``, parallel slot pairs ``modes``, one-way
    classical ``delay_s`` across it; ``length_km`` and ``transmissivity`` for additive costs."""

    p_attempt: float
    period_s: float
    fidelity: float
    modes: int = 1
    delay_s: float = 0.0
    length_km: float = 0.0
    transmissivity: float = 1.0

    def __post_init__(self) -> None:
        _unit("p_attempt", self.p_attempt)
        _unit("fidelity", self.fidelity)
        _unit("transmissivity", self.transmissivity)
        if not (0.0 < self.period_s < math.inf):
            raise ValueError(f"period_s: must be finite and > 0, got {self.period_s!r}")
        if not isinstance(self.modes, int) or isinstance(self.modes, bool) or self.modes < 1:
            raise ValueError(f"modes: must be an integer >= 1, got {self.modes!r}")
        for name in ("delay_s", "length_km"):
            if not (0.0 <= getattr(self, name) < math.inf):
                raise ValueError(f"{name}: must be finite and >= 0, got {getattr(self, name)!r}")

    @property
    def rate_hz(self) -> float:
        """Mean pair rate of one slot pair (Hz): p_attempt / period_s."""
        return self.p_attempt / self.period_s

    @property
    def mean_time_s(self) -> float:
        """Mean time to the first success of one slot pair (s); inf if p_attempt = 0."""
        return self.period_s / self.p_attempt if self.p_attempt > 0.0 else math.inf

    def scaled(self, share: float) -> LinkParams:
        """This link as seen by a tenant holding ``share`` in (0, 1] of its attempts."""
        s = float(share)
        if not (0.0 < s <= 1.0):
            raise ValueError(f"share: must be in (0, 1], got {share!r}")
        return self if s == 1.0 else replace(self, period_s=self.period_s / s)


@dataclass(frozen=True)
class NodeParams:
    """What Q-NUM needs of one node: memory ``t2_s`` (inf: perfect), ``swap_success``,
    memory slots (None: unlimited) and the cutoff (recorded; the prediction assumes none)."""

    t2_s: float = math.inf
    swap_success: float = 1.0
    memories: int | None = None
    cutoff_s: float = math.inf

    def __post_init__(self) -> None:
        if not (self.t2_s > 0.0):
            raise ValueError(f"t2_s: must be > 0, got {self.t2_s!r}")
        _unit("swap_success", self.swap_success)
        if self.memories is not None and (
            not isinstance(self.memories, int)
            or isinstance(self.memories, bool)
            or self.memories < 1
        ):
            raise ValueError(f"memories: must be an integer >= 1 or None, got {self.memories!r}")


def _unit(name: str, value: float) -> None:
    if not (0.0 <= value <= 1.0):
        raise ValueError(f"{name}: must be in [0, 1], got {value!r}")


@dataclass(frozen=True)
class Prediction:
    """Predicted delivery of one path: ``rate_hz`` and ``fidelity`` after ``rounds`` rounds of
    purification; ``wait_s`` the mean time until all links hold a pair; ``bell`` the
    Bell-diagonal coefficients (A, B, C, D) = (Phi+, Psi-, Psi+, Phi-)."""

    rate_hz: float
    fidelity: float
    rounds: int = 0
    wait_s: float = math.inf
    bell: Bell = (0.25, 0.25, 0.25, 0.25)

    def __str__(self) -> str:
        return f"R={self.rate_hz:.4g} Hz F={self.fidelity:.4f} ({self.rounds} rounds)"


NO_DELIVERY = Prediction(0.0, 0.0)


# ------------------------------------------------------------------------- mean waits


def _exp_max_mean(rates: Sequence[float]) -> float:
    """E[max of independent exponentials with ``rates``] (s)."""
    if len(rates) <= 6:  # inclusion-exclusion over subset sums, plain floats (fast for few)
        sums, signs = [0.0], [1.0]
        for r in rates:
            sums += [x + r for x in sums]
            signs += [-x for x in signs]
        return sum(-sg / sm for sg, sm in zip(signs[1:], sums[1:], strict=True))
    if len(rates) <= _EXACT_MAX_LINKS:
        subset_sums = np.zeros(1)
        subset_signs = np.ones(1)
        for r in rates:
            subset_sums = np.concatenate((subset_sums, subset_sums + r))
            subset_signs = np.concatenate((subset_signs, -subset_signs))
        return float(np.sum(-subset_signs[1:] / subset_sums[1:]))
    array = np.asarray(rates, dtype=float)
    t_max = (math.log(len(array)) + 40.0) / float(array.min())
    t = np.linspace(0.0, t_max, 8001)
    survival = 1.0 - np.prod(-np.expm1(-np.outer(t, array)), axis=1)
    return float(np.sum((survival[1:] + survival[:-1]) * 0.5) * (t[1] - t[0]))


def mean_pair_wait_s(a: LinkParams, b: LinkParams) -> float:
    """E[max(T_a, T_b)] (s) for two links attempting from the same moment.

    Equal (p, period): exact discrete R8, period * (3 - 2p)/(p (2 - p)). Otherwise the
    exponential (small-p) limit m_a + m_b - 1/(r_a + r_b).
    """
    if a.p_attempt == 0.0 or b.p_attempt == 0.0:
        return math.inf
    if a.p_attempt == b.p_attempt and a.period_s == b.period_s:
        return a.period_s * two_segment_mean_wait_attempts(a.p_attempt)
    return _exp_max_mean((a.rate_hz, b.rate_hz))


def mean_all_ready_s(links: Sequence[LinkParams]) -> float:
    """Mean time (s) until every link of ``links`` holds a pair (see the module notes)."""
    if not links:
        raise ValueError("links: must contain at least one link, got []")
    if any(link.p_attempt == 0.0 for link in links):
        return math.inf
    if len(links) == 1:
        return links[0].mean_time_s
    if len(links) == 2:
        return mean_pair_wait_s(links[0], links[1])
    return _exp_max_mean([link.rate_hz for link in links])


def storage_exponent(
    links: Sequence[LinkParams], nodes: Sequence[NodeParams], classical_delay_s: float
) -> float:
    """tau = sum over stored qubits of (mean storage time / T2) for one end-to-end pair."""
    inv = [1.0 / n.t2_s for n in nodes]
    means = [link.mean_time_s for link in links]
    t_all = mean_all_ready_s(links)
    tau = inv[0] * (t_all - means[0] + classical_delay_s)
    tau += inv[-1] * (t_all - means[-1] + classical_delay_s)
    for j in range(1, len(links)):
        if inv[j] > 0.0:
            both = mean_pair_wait_s(links[j - 1], links[j])
            tau += inv[j] * max(0.0, 2.0 * both - means[j - 1] - means[j])
    return max(0.0, tau)


# ---------------------------------------------------------------------------- states


def _werner_bell(f: float) -> Bell:
    q = (1.0 - f) / 3.0
    return (f, q, q, q)


def dephase_bell(bell: Bell, tau: float) -> Bell:
    """Bell-diagonal state after pure dephasing with total exponent tau = sum t/T2.

    Dephasing mixes Phi+ with Phi- and Psi- with Psi+; each pair follows R4, e.g.
    A(tau) = (A + D) * dephased_fidelity(A / (A + D), tau, T2 = 1).
    """
    if tau == 0.0:
        return bell
    a, b, c, d = bell
    ad, bc = a + d, b + c
    a2 = ad * dephased_fidelity(min(1.0, a / ad), tau, 1.0) if ad > 0.0 else 0.0
    b2 = bc * dephased_fidelity(min(1.0, b / bc), tau, 1.0) if bc > 0.0 else 0.0
    return (a2, b2, max(0.0, bc - b2), max(0.0, ad - a2))


def _purify(bell: Bell, method: str, tau_wait: float, tau_delay: float) -> tuple[float, Bell]:
    """One end-to-end purification round: (success probability, kept pair)."""
    if method == "dejmps":
        waited = dephase_bell(bell, tau_wait / 2.0)
        total = sum(waited)
        p, out = dejmps_map(*(x / total for x in waited))
    else:
        p, f = bbpssw_map(dephase_bell(bell, tau_wait)[0], bell[0])
        out = _werner_bell(f)
    return p, dephase_bell(out, tau_delay)


def _check_method(method: str) -> str:
    if method not in PURIFICATION_METHODS:
        raise ValueError(
            f"purification: unknown method {method!r} (valid: {', '.join(PURIFICATION_METHODS)})"
        )
    return method


def _check_rounds(rounds: int) -> int:
    if not isinstance(rounds, int) or isinstance(rounds, bool) or not 0 <= rounds <= MAX_ROUNDS:
        raise ValueError(
            f"purification_rounds: must be an integer in 0..{MAX_ROUNDS}, got {rounds!r}"
        )
    return rounds


# ------------------------------------------------------------------------- prediction


def predict_rounds(
    links: Sequence[LinkParams],
    nodes: Sequence[NodeParams],
    max_rounds: int = MAX_ROUNDS,
    method: str = "dejmps",
    classical_delay_s: float | None = None,
) -> list[Prediction]:
    """Predictions for 0..``max_rounds`` purification rounds on one path (index = rounds).

    ``links`` in path order, ``nodes`` the len(links) + 1 nodes along it.
    ``classical_delay_s`` (s): how long the end memories wait for swap / purification
    outcomes; default the sum of the links' one-way delays.
    """
    _check_rounds(max_rounds)
    _check_method(method)
    if not links or len(nodes) != len(links) + 1:
        raise ValueError(
            f"nodes: need len(links) + 1 = {len(links) + 1} nodes for {len(links)} links, "
            f"got {len(nodes)}"
        )
    delay = sum(link.delay_s for link in links) if classical_delay_s is None else classical_delay_s
    if not (0.0 <= delay < math.inf):
        raise ValueError(f"classical_delay_s: must be finite and >= 0, got {delay!r}")
    t_all = mean_all_ready_s(links)
    p_swap = math.prod(n.swap_success for n in nodes[1:-1])
    if t_all == math.inf or p_swap == 0.0:
        return [replace(NO_DELIVERY, rounds=k) for k in range(max_rounds + 1)]
    rate = min(link.modes for link in links) * p_swap / t_all
    tau = storage_exponent(links, nodes, delay)
    bell = dephase_bell(_werner_bell(werner_chain_fidelity(link.fidelity for link in links)), tau)
    out = [Prediction(rate, bell[0], 0, t_all, bell)]
    end_inv = 1.0 / nodes[0].t2_s + 1.0 / nodes[-1].t2_s
    for k in range(1, max_rounds + 1):
        p, bell = _purify(bell, method, end_inv / rate, end_inv * delay)
        rate *= p / 2.0
        out.append(Prediction(rate, bell[0], k, t_all, bell))
    return out


def predict(
    links: Sequence[LinkParams],
    nodes: Sequence[NodeParams],
    purification_rounds: int = 0,
    method: str = "dejmps",
    classical_delay_s: float | None = None,
) -> Prediction:
    """Predicted (R, F) of swap-ASAP on one path with explicit inputs (see predict_rounds)."""
    rounds = _check_rounds(purification_rounds)
    return predict_rounds(links, nodes, rounds, method, classical_delay_s)[rounds]
