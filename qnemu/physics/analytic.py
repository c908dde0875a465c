"""Closed-form reference results (PHYSICS-REFERENCE.md, R1-R13) for tests and controllers.

Each function cites its row of the reference sheet. Fidelities, probabilities and Werner
parameters are dimensionless; times in seconds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from qnemu.physics import _checks


def _werner_w(f: float) -> float:
    return (4.0 * f - 1.0) / 3.0


def werner_swap_fidelity(f1: float, f2: float) -> float:
    """R1: fidelity after swapping two Werner pairs (perfect BSM): F1 F2 + (1-F1)(1-F2)/3."""
    f1 = _checks.probability("f1", f1)
    f2 = _checks.probability("f2", f2)
    return f1 * f2 + (1.0 - f1) * (1.0 - f2) / 3.0


def werner_chain_fidelity(fidelities: Iterable[float]) -> float:
    """R2: end-to-end fidelity of a chain of Werner links, no waiting: w = prod w_i."""
    fs = [_checks.probability(f"fidelities[{i}]", f) for i, f in enumerate(fidelities)]
    if not fs:
        raise ValueError("fidelities: must contain at least one fidelity, got []")
    w = math.prod(_werner_w(f) for f in fs)
    return (1.0 + 3.0 * w) / 4.0


def bbpssw_map(f1: float, f2: float) -> tuple[float, float]:
    """R6: BBPSSW on Werner inputs F1, F2 -> (p_success, output fidelity F')."""
    f1 = _checks.probability("f1", f1)
    f2 = _checks.probability("f2", f2)
    q1, q2 = (1.0 - f1) / 3.0, (1.0 - f2) / 3.0
    p = f1 * f2 + f1 * q2 + q1 * f2 + 5.0 * q1 * q2
    return p, (f1 * f2 + q1 * q2) / p


def dejmps_map(
    a: float, b: float, c: float, d: float
) -> tuple[float, tuple[float, float, float, float]]:
    """R7: DEJMPS on two equal Bell-diagonal pairs (A, B, C, D in the DEJMPS order).

    Returns (p, (A', B', C', D')) with N = (A+B)^2 + (C+D)^2, A' = (A^2+B^2)/N, B' = 2CD/N,
    C' = (C^2+D^2)/N, D' = 2AB/N, p = N.
    """
    a, b, c, d = (_checks.probability(n, v) for n, v in zip("abcd", (a, b, c, d), strict=True))
    if abs(a + b + c + d - 1.0) > 1e-9:
        raise ValueError(f"a+b+c+d: must equal 1, got {a + b + c + d!r}")
    n = (a + b) ** 2 + (c + d) ** 2
    return n, ((a * a + b * b) / n, 2.0 * c * d / n, (c * c + d * d) / n, 2.0 * a * b / n)


def dephased_fidelity(f0: float, t_s: float, t2_s: float, both_halves: bool = False) -> float:
    """R4: dephased Bell state F0 Phi+ + (1-F0) Phi- after pure dephasing for t_s seconds.

    F(t) = (1 + (2F0 - 1) exp(-k t/T2))/2 with k = 1 (one half stored) or 2 (both halves).
    """
    f0 = _checks.probability("f0", f0)
    t = _checks.nonnegative("t_s", t_s)
    t2 = _checks.positive("t2_s", t2_s)
    k = 2.0 if both_halves else 1.0
    return (1.0 + (2.0 * f0 - 1.0) * math.exp(-k * t / t2)) / 2.0


def amplitude_damped_fidelity(t_s: float, t1_s: float) -> float:
    """R5: Phi+ with both halves amplitude damped for t_s seconds: F = 1 - gamma + gamma^2/2,
    gamma = 1 - exp(-t/T1)."""
    t = _checks.nonnegative("t_s", t_s)
    t1 = _checks.positive("t1_s", t1_s)
    gamma = -math.expm1(-t / t1)
    return 1.0 - gamma + gamma * gamma / 2.0


def t_long_eb_dephased(f0: float, t2_s: float) -> float:
    """R10: time (seconds) until a dephased Bell state F0 with one half dephasing reaches 2/3:
    T2 ln(3(2F0 - 1)); 0.0 when F0 <= 2/3."""
    f0 = _checks.probability("f0", f0)
    t2 = _checks.positive("t2_s", t2_s)
    if f0 <= 2.0 / 3.0:
        return 0.0
    return t2 * math.log(3.0 * (2.0 * f0 - 1.0))


def depolarized_werner_parameter(w0: float, t_s: float, t_s_coherence: float) -> float:
    """R3: Werner parameter after depolarizing memory noise: w(t) = w0 exp(-t/T) (t, T in s)."""
    w0 = float(w0)
    if not (-1.0 / 3.0 <= w0 <= 1.0):
        raise ValueError(f"w0: must be in [-1/3, 1], got {w0!r}")
    t = _checks.nonnegative("t_s", t_s)
    tc = _checks.positive("t_s_coherence", t_s_coherence)
    return w0 * math.exp(-t / tc)


def two_segment_mean_wait_attempts(p: float) -> float:
    """R8: mean attempts until both of two geometric(p) links succeed: (3-2p)/(p(2-p))."""
    p = _checks.probability("p", p)
    if p == 0.0:
        raise ValueError("p: must be in (0, 1], got 0.0")
    return (3.0 - 2.0 * p) / (p * (2.0 - p))


def effective_eps(
    egr_hz: float, p_swap: float, eta: float, n_links: int, overhead: float = 1.0
) -> float:
    """Effective end-to-end entangled pairs per second (Hz) over ``n_links`` links.

    Model: EPS = EGR * eta * p_swap^(n_links - 1) / overhead, with the link generation rate
    EGR (Hz), delivery efficiency eta, swap success p_swap and a protocol overhead >= 1.
    """
    egr = _checks.finite_nonnegative("egr_hz", egr_hz)
    ps = _checks.probability("p_swap", p_swap)
    e = _checks.probability("eta", eta)
    n = _checks.positive_int("n_links", n_links)
    ov = _checks.finite_positive("overhead", overhead)
    if ov < 1.0:
        raise ValueError(f"overhead: must be >= 1, got {overhead!r}")
    return egr * e * ps ** (n - 1) / ov


def binary_entropy(q: float) -> float:
    """Binary entropy h(q) = -q log2 q - (1-q) log2(1-q) in bits; h(0) = h(1) = 0."""
    q = _checks.probability("q", q)
    if q in (0.0, 1.0):
        return 0.0
    return -(q * math.log2(q) + (1.0 - q) * math.log2(1.0 - q))


def qber_from_werner_fidelity(f: float) -> float:
    """R12: QBER of a Werner pair of fidelity F in either basis: Q = 2(1-F)/3."""
    f = _checks.probability("f", f)
    return 2.0 * (1.0 - f) / 3.0


def bb84_secret_fraction(qber: float, f_ec: float = 1.0) -> float:
    """R12: BB84 asymptotic secret fraction r = 1 - h(Q) - f_EC h(Q), floored at 0 (no key).

    ``f_ec`` >= 1 is the error-correction inefficiency (1 = Shannon limit).
    """
    q = _checks.probability("qber", qber)
    f = _checks.finite_positive("f_ec", f_ec)
    if f < 1.0:
        raise ValueError(f"f_ec: must be >= 1, got {f_ec!r}")
    h = binary_entropy(q)
    return max(0.0, 1.0 - h - f * h)


def synchronous_path_success(probs: Iterable[float]) -> float:
    """R13: success probability of a path without memories (all steps at once): prod p_i."""
    ps = [_checks.probability(f"probs[{i}]", p) for i, p in enumerate(probs)]
    if not ps:
        raise ValueError("probs: must contain at least one probability, got []")
    return math.prod(ps)


def renewal_link_rate_hz(p: float, period_s: float, hold_s: float, memory_pairs: int = 1) -> float:
    """Pair rate (Hz) of a link whose ``memory_pairs`` memory pairs attempt independently.

    Renewal model: a memory pair attempts every ``period_s`` (success ``p`` per attempt,
    geometric number K of attempts); the successful attempt's photon is emitted (K-1)
    periods after the pair was free, and the pair is free again ``hold_s`` after that
    emission (herald, use, free notice). Mean cycle ((1/p) - 1) period + hold; M pairs
    renew independently, so R = M / cycle (the textbook M / (period/p + B) with
    B = hold - period).
    """
    _checks.probability("p", p)
    _checks.positive_int("memory_pairs", memory_pairs)
    if p == 0.0:
        return 0.0
    cycle = (1.0 / p - 1.0) * period_s + hold_s
    return memory_pairs / cycle


# -- applications (docs/apps.md derives each) -----------------------------------------------


def combined_readout_error(error_a: float, error_b: float) -> float:
    """Probability that exactly one of two readouts (flip probabilities ``error_a``,
    ``error_b``) flips its bit, what readout adds to a QBER: e_a (1 - e_b) + e_b (1 - e_a)."""
    ea = _checks.probability("error_a", error_a)
    eb = _checks.probability("error_b", error_b)
    return ea * (1.0 - eb) + eb * (1.0 - ea)


def qber_with_measurement_error(qber: float, error_a: float, error_b: float) -> float:
    """Observed QBER when each end's outcome is flipped with probability ``error_a`` /
    ``error_b``: Q' = Q (1 - e) + (1 - Q) e, e = :func:`combined_readout_error`."""
    q = _checks.probability("qber", qber)
    e = combined_readout_error(error_a, error_b)
    return q * (1.0 - e) + (1.0 - q) * e


def shor_preskill_fraction(qber_x: float, qber_z: float) -> float:
    """Asymptotic secret bits per sifted bit of BBM92/BB84 (Shor and Preskill, PRL 85, 441
    (2000)): r = 1 - h(e_x) - h(e_z), floored at 0; e_x (e_z) is the QBER in X (Z)."""
    return max(0.0, 1.0 - binary_entropy(qber_x) - binary_entropy(qber_z))


def teleport_mean_fidelity(f: float) -> float:
    """Teleportation through a pair of fidelity F to Phi+ with the standard Bell measurement
    and Pauli corrections, averaged over Haar-random inputs: (2F + 1)/3 (Horodecki et al.,
    PRA 60, 1888 (1999); the protocol turns the pair into the Pauli channel of its
    Bell-diagonal weights, whose entanglement fidelity is F)."""
    f = _checks.probability("f", f)
    return (2.0 * f + 1.0) / 3.0


def average_gate_fidelity(process_fidelity: float, dim: int) -> float:
    """Average gate fidelity from the process (entanglement) fidelity of a channel on a
    ``dim``-dimensional system: (d F_pro + 1)/(d + 1) (Horodecki et al. 1999; Nielsen,
    Phys. Lett. A 303, 249 (2002))."""
    fp = _checks.probability("process_fidelity", process_fidelity)
    d = _checks.positive_int("dim", dim)
    return (d * fp + 1.0) / (d + 1.0)


def remote_cnot_average_fidelity(f: float) -> float:
    """Average gate fidelity of a remote CNOT (cat-entangler / disentangler, Eisert et al.,
    PRA 62, 052317 (2000)) through a Werner pair of fidelity F, ideal local operations:
    the pair's Pauli errors on the target-side half become X on the target, Z on the
    control or both, so F_pro = F and F_avg = (4F + 1)/5 (docs/apps.md)."""
    return average_gate_fidelity(_checks.probability("f", f), 4)


def ghz_fidelity_from_werner(fidelities: Iterable[float]) -> float:
    """Fidelity to the n-party GHZ state of the fusion (ideal, at a hub) of n Werner pairs
    of fidelities F_i: with q_i = (1 - F_i)/3,
    F_GHZ = [prod(F_i + q_i) + prod(F_i - q_i) + prod(2 q_i)] / 2 (docs/apps.md).

    Each pair leaves an independent Pauli error (I, X, Y, Z with F, q, q, q) on its party's
    qubit; the state survives exactly when the error is in the GHZ stabilizer group: no X
    part and an even number of Z parts, or an X part on every qubit and an even number of
    Z parts. n = 2 gives the swap of two Werner pairs (R1)."""
    fs = [_checks.probability(f"fidelities[{i}]", f) for i, f in enumerate(fidelities)]
    if len(fs) < 2:
        raise ValueError(f"fidelities: need at least 2 pairs, got {len(fs)}")
    qs = [(1.0 - f) / 3.0 for f in fs]
    plus = math.prod(f + q for f, q in zip(fs, qs, strict=True))
    minus = math.prod(f - q for f, q in zip(fs, qs, strict=True))
    flips = math.prod(2.0 * q for q in qs)
    return (plus + minus + flips) / 2.0


def phase_variance_limits(n: int, repetitions: int) -> tuple[float, float]:
    """(Heisenberg, standard quantum) limits on the variance of a phase estimated from
    ``repetitions`` probes of ``n`` qubits each: 1/(nu n^2) and 1/(nu n) (rad^2)."""
    parties = _checks.positive_int("n", n)
    nu = _checks.positive_int("repetitions", repetitions)
    return 1.0 / (nu * parties**2), 1.0 / (nu * parties)


def ghz_phase_variance(visibility: float, n: int, repetitions: int) -> float:
    """Variance (rad^2) of the phase estimated from the parity of ``repetitions`` n-qubit
    GHZ probes at the most sensitive point, parity <P> = V cos(n phi): error propagation
    gives 1/(nu n^2 V^2) (V = 1: the Heisenberg limit)."""
    v = _checks.probability("visibility", visibility)
    parties = _checks.positive_int("n", n)
    nu = _checks.positive_int("repetitions", repetitions)
    if v == 0.0:
        return math.inf
    return 1.0 / (nu * parties**2 * v**2)


def sync_round_time_mean(rates_hz: Iterable[float], pairs_per_round: int) -> float:
    """Mean time (s) of a synchronous QFL round: the server waits until every client has
    delivered ``pairs_per_round`` (m) pairs. Client i's pairs arrive as a Poisson process
    of rate lambda_i (Hz), so from the round's start it needs T_i ~ Gamma(m, lambda_i)
    (memoryless), and the round lasts max_i T_i:
    E[max T_i] = integral_0^inf (1 - prod_i P(m, lambda_i t)) dt, with P the regularized
    lower incomplete gamma function (the Erlang CDF). K = 1 gives m / lambda."""
    from scipy.integrate import quad  # scipy only when a model is evaluated (CLI start-up)
    from scipy.special import gammainc

    rates = [_checks.positive("rates_hz", r) for r in rates_hz]
    m = _checks.positive_int("pairs_per_round", pairs_per_round)
    if not rates:
        raise ValueError("rates_hz: need at least one client")
    scale = m / min(rates)  # the slowest client's mean: the integrand's time scale

    def survival(t: float) -> float:
        return 1.0 - math.prod(float(gammainc(m, r * t)) for r in rates)

    value, _ = quad(survival, 0.0, math.inf, limit=200, epsabs=1e-12 * scale)
    return float(value)


def async_round_time_mean(rates_hz: Iterable[float], pairs_per_round: int) -> float:
    """Mean time (s) between asynchronous QFL aggregations when no update is rejected:
    client i completes an update every m / lambda_i on average, so updates arrive at
    sum_i lambda_i / m and a round lasts m / sum_i lambda_i."""
    rates = [_checks.positive("rates_hz", r) for r in rates_hz]
    m = _checks.positive_int("pairs_per_round", pairs_per_round)
    if not rates:
        raise ValueError("rates_hz: need at least one client")
    return m / sum(rates)


#: Security parameters of the finite-key estimate: secrecy and correctness failure
#: probabilities (the values are a common choice, not from any standard).
FINITE_KEY_EPS_SEC = 1e-10
FINITE_KEY_EPS_COR = 1e-15


def finite_key_bits(
    n_key: int,
    k_test: int,
    qber_key: float,
    qber_test: float,
    eps_sec: float = FINITE_KEY_EPS_SEC,
    eps_cor: float = FINITE_KEY_EPS_COR,
    f_ec: float = 1.0,
) -> float:
    """Secret bits (>= 0) extractable from ``n_key`` sifted bits of one basis, whose phase
    errors are bounded by ``k_test`` sifted bits of the other (Tomamichel, Lim, Gisin and
    Renner, Nat. Commun. 3, 634 (2012), Eq. 2, with preparation quality q = 1):

    l = n [1 - h(Q_test + mu)] - leak_EC - log2(2 / (eps_sec^2 eps_cor)),
    mu = sqrt((n + k)/(n k) (k + 1)/k ln(2/eps_sec)) (the sampling bound on the key bits'
    phase-error rate), leak_EC = f_EC n h(Q_key) (error correction at efficiency f_EC).
    Zero without a test bit or a key bit, or when the bound leaves nothing."""
    n = int(n_key)
    k = int(k_test)
    q_key = _checks.probability("qber_key", qber_key)
    q_test = _checks.probability("qber_test", qber_test)
    if n <= 0 or k <= 0:
        return 0.0
    mu = math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2.0 / eps_sec))
    phase = min(0.5, q_test + mu)
    leak = f_ec * n * binary_entropy(q_key)
    length = n * (1.0 - binary_entropy(phase)) - leak - math.log2(2.0 / (eps_sec**2 * eps_cor))
    return max(0.0, length)
