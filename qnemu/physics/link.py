"""Heralded link-level entanglement generation between two memories.

Geometry: a heralding station (linear-optics Bell-state measurement) at the midpoint; each
memory emits a photon that crosses L/2 of fiber. The number of attempts to the first success
is geometric, so the success time is sampled directly instead of emulating every attempt.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from qnemu.physics import _checks
from qnemu.physics.fiber import FIBER_REFRACTIVE_INDEX, propagation_delay_s, transmissivity
from qnemu.physics.hardware import HardwareProfile
from qnemu.physics.operations import swap_success_probability
from qnemu.physics.states import werner

#: Linear-optics Bell-state measurement success at the midpoint station (Psi+/Psi- only).
MIDPOINT_BSM_SUCCESS: float = 0.5
#: Default end-to-end efficiency loss of a quantum frequency converter, dB (~50 % devices,
#: e.g. van Leent et al., Nature 607, 69 (2022): 780 nm -> 1517 nm).
DEFAULT_CONVERSION_LOSS_DB: float = 3.0
#: Default fidelity factor of a conversion stage (Raman / pump noise photons).
DEFAULT_CONVERSION_FIDELITY_FACTOR: float = 0.99


def attempt_success_probability(
    *,
    fiber_transmissivity: float,
    source_efficiency: float = 1.0,
    coupling_efficiency: float = 1.0,
    memory_efficiency: float = 1.0,
    detector_efficiency: float = 1.0,
    bsm_success: float = 0.5,
) -> float:
    """Success probability of one attempt: the product of all efficiencies (dimensionless).

    Model: independent loss stages along one photon's path, times the BSM success probability.
    """
    p = _checks.probability("bsm_success", bsm_success)
    for name, value in (
        ("fiber_transmissivity", fiber_transmissivity),
        ("source_efficiency", source_efficiency),
        ("coupling_efficiency", coupling_efficiency),
        ("memory_efficiency", memory_efficiency),
        ("detector_efficiency", detector_efficiency),
    ):
        p *= _checks.probability(name, value)
    return p


def attempt_period_s(
    attempt_rate_hz: float, round_trip_s: float = 0.0, single_mode: bool = True
) -> float:
    """Time between attempts (seconds): max(1/rate, round trip if the memory waits for it).

    A single-mode emission-based memory cannot retry before the herald returns.
    """
    rate = _checks.finite_positive("attempt_rate_hz", attempt_rate_hz)
    rt = _checks.finite_nonnegative("round_trip_s", round_trip_s)
    return max(1.0 / rate, rt) if single_mode else 1.0 / rate


def multiplexed_success_probability(p: float, modes: int) -> float:
    """Probability that at least one of ``modes`` independent modes succeeds: 1 - (1-p)^modes."""
    p = _checks.probability("p", p)
    m = _checks.positive_int("modes", modes)
    if p == 1.0:
        return 1.0
    return -math.expm1(m * math.log1p(-p))


def sample_time_to_success(
    rng: np.random.Generator, p: float, period_s: float, modes: int = 1
) -> float:
    """Sampled time (seconds) to the first successful attempt, period_s per attempt.

    Model: attempts are independent; the number of attempts is geometric with success
    probability p_M = 1 - (1-p)^modes (multiplexed modes race). Mean period_s / p_M.
    ``p == 0`` never succeeds and returns ``math.inf``.
    """
    period = _checks.finite_positive("period_s", period_s)
    p_m = p if modes == 1 and 0.0 < p <= 1.0 else multiplexed_success_probability(p, modes)
    if p_m == 0.0:
        return math.inf
    return float(rng.geometric(p_m)) * period


def initial_pair_state(source_fidelity: float) -> np.ndarray:
    """Freshly heralded pair: a Werner state of fidelity ``source_fidelity`` (4x4 rho)."""
    return werner(_checks.probability("source_fidelity", source_fidelity))


def conversion_penalty(
    memory_wavelength_nm: float,
    fiber_band_nm: tuple[float, float] = (1260.0, 1625.0),
    loss_db: float = DEFAULT_CONVERSION_LOSS_DB,
    fidelity_factor: float = DEFAULT_CONVERSION_FIDELITY_FACTOR,
) -> tuple[float, float]:
    """Quantum frequency conversion cost: (extra_loss_db, fidelity_factor).

    Model: a memory emitting inside the low-loss fiber band (O to U band, nm) needs no
    converter -> (0.0, 1.0); otherwise a converter adds ``loss_db`` (dB) and multiplies the
    pair fidelity by ``fidelity_factor`` (dimensionless, (0, 1]).
    """
    wl = _checks.finite_positive("memory_wavelength_nm", memory_wavelength_nm)
    lo, hi = (float(x) for x in fiber_band_nm)
    if not (0.0 < lo < hi < math.inf):
        raise ValueError(
            f"fiber_band_nm: must be (low, high) with 0 < low < high, got {fiber_band_nm!r}"
        )
    loss = _checks.finite_nonnegative("loss_db", loss_db)
    factor = _checks.probability("fidelity_factor", fidelity_factor)
    if factor == 0.0:
        raise ValueError(f"fidelity_factor: must be in (0, 1], got {fidelity_factor!r}")
    if lo <= wl <= hi:
        return 0.0, 1.0
    return loss, factor


@dataclass(frozen=True)
class LinkModel:
    """Derived parameters of one heralded link (midpoint station).

    ``fiber_transmissivity`` is that of the whole length L (each photon crosses L/2, so
    eta(L/2)^2 = eta(L)); ``p_attempt`` is the success probability per attempt for one memory
    slot pair, multiplexing over the modes included; ``period_s`` the time between attempts;
    ``herald_delay_s`` the midpoint-to-end delay of the herald; ``initial_fidelity`` the
    fidelity of the heralded (Werner) pair.
    """

    length_km: float
    fiber_transmissivity: float
    p_attempt: float
    period_s: float
    herald_delay_s: float
    initial_fidelity: float

    @property
    def expected_rate_hz(self) -> float:
        """Mean pair rate (pairs per second per memory slot pair): p_attempt / period_s."""
        return self.p_attempt / self.period_s

    def initial_state(self) -> np.ndarray:
        """Density matrix (4x4) of a freshly heralded pair: Werner at ``initial_fidelity``."""
        return initial_pair_state(self.initial_fidelity)


def _end_efficiency(profile: HardwareProfile, half_eta: float) -> tuple[float, float]:
    """(success probability of one end's photon reaching the station, fidelity factor)."""
    loss_db, factor = conversion_penalty(
        profile.wavelength_nm,
        loss_db=profile.conversion_loss_db,
        fidelity_factor=profile.conversion_fidelity_factor,
    )
    p = attempt_success_probability(
        fiber_transmissivity=half_eta * 10.0 ** (-loss_db / 10.0),
        source_efficiency=profile.source_efficiency,
        coupling_efficiency=profile.coupling_efficiency,
        memory_efficiency=profile.memory_efficiency,
        detector_efficiency=profile.detector_efficiency,
        bsm_success=1.0,
    )
    return p, factor


def link_model(
    profile_a: HardwareProfile,
    profile_b: HardwareProfile,
    length_km: float,
    attenuation_db_per_km: float = 0.2,
) -> LinkModel:
    """Link-layer model between memories ``profile_a`` and ``profile_b`` over ``length_km``.

    Model: two-photon heralding at the midpoint. Per attempt and mode,
    p = p_BSM * prod_ends(source * coupling * memory * detector * eta(L/2) * conversion);
    p_BSM = 0.5 (linear optics) times the Gaussian timing-overlap penalty of the two
    photons (jitters added in quadrature, the shorter wavepacket). Modes = min of both ends,
    multiplexed. Period = 1/slower attempt rate, at least the round trip L/(c/n) if either
    memory waits for the herald. Fidelity: Werner parameters multiply (w = w_a w_b), times
    each end's conversion fidelity factor. Units: km, dB/km, seconds.
    """
    length = _checks.finite_nonnegative("length_km", length_km)
    half_eta = transmissivity(length / 2.0, attenuation_db_per_km)
    p_a, f_a = _end_efficiency(profile_a, half_eta)
    p_b, f_b = _end_efficiency(profile_b, half_eta)
    bsm = swap_success_probability(
        MIDPOINT_BSM_SUCCESS,
        math.hypot(profile_a.timing_jitter_s, profile_b.timing_jitter_s),
        min(profile_a.wavepacket_s, profile_b.wavepacket_s),
    )
    modes = min(profile_a.modes, profile_b.modes)
    p_attempt = multiplexed_success_probability(bsm * p_a * p_b, modes)
    waits = profile_a.herald_round_trip or profile_b.herald_round_trip
    period = attempt_period_s(
        min(profile_a.attempt_rate_hz, profile_b.attempt_rate_hz),
        round_trip_s=propagation_delay_s(length, FIBER_REFRACTIVE_INDEX),
        single_mode=waits,
    )
    w = _werner_parameter(profile_a.source_fidelity) * _werner_parameter(profile_b.source_fidelity)
    return LinkModel(
        length_km=length,
        fiber_transmissivity=half_eta * half_eta,
        p_attempt=p_attempt,
        period_s=period,
        herald_delay_s=propagation_delay_s(length / 2.0, FIBER_REFRACTIVE_INDEX),
        initial_fidelity=min(1.0, (1.0 + 3.0 * w) / 4.0 * f_a * f_b),
    )


def _werner_parameter(f: float) -> float:
    return (4.0 * f - 1.0) / 3.0
