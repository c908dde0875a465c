"""Quantum-memory hardware profiles and the derived entanglement-breaking time T_longEB.

Each profile takes every value from one real platform (no "Frankenstein" memory); sources
are given per profile. Values are representative of the cited experiments, rounded.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnemu.physics import _checks
from qnemu.physics.channels import decohere
from qnemu.physics.states import fidelity, werner

#: Fidelity below which a pair is no longer useful (entanglement-breaking bound used here).
T_LONG_EB_THRESHOLD: float = 2.0 / 3.0


@dataclass(frozen=True)
class HardwareProfile:
    """A quantum-memory platform: coherence, photon interface, attempt clock, gate quality.

    Units: seconds (t1_s, t2_s, timing_jitter_s, wavepacket_s), hertz (attempt_rate_hz),
    nanometres (wavelength_nm), dB (conversion_loss_db); efficiencies, fidelities and error
    probabilities are dimensionless in [0, 1]. ``math.inf`` T1 means no energy relaxation.
    ``herald_round_trip``: a single-mode emission-based memory waits for the herald before
    its next attempt. ``swap_success``: 1.0 for deterministic gates, 0.5 for linear optics.
    ``conversion_loss_db`` / ``conversion_fidelity_factor``: this platform's frequency
    converter, used only when ``wavelength_nm`` is outside the telecom band.
    """

    name: str
    t1_s: float
    t2_s: float
    source_fidelity: float
    source_efficiency: float
    coupling_efficiency: float
    memory_efficiency: float
    detector_efficiency: float
    modes: int
    attempt_rate_hz: float
    herald_round_trip: bool
    wavelength_nm: float
    gate_error: float
    measurement_error: float
    swap_success: float
    timing_jitter_s: float
    wavepacket_s: float
    conversion_loss_db: float = 3.0
    conversion_fidelity_factor: float = 0.99

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"name: must be a non-empty string, got {self.name!r}")
        _checks.t1_t2("t1_s", self.t1_s, "t2_s", self.t2_s)
        for field in (
            "source_fidelity",
            "source_efficiency",
            "coupling_efficiency",
            "memory_efficiency",
            "detector_efficiency",
            "gate_error",
            "measurement_error",
            "swap_success",
            "conversion_fidelity_factor",
        ):
            _checks.probability(field, getattr(self, field))
        _checks.positive_int("modes", self.modes)
        _checks.finite_positive("attempt_rate_hz", self.attempt_rate_hz)
        if not isinstance(self.herald_round_trip, (bool, np.bool_)):
            raise ValueError(f"herald_round_trip: must be a bool, got {self.herald_round_trip!r}")
        _checks.finite_positive("wavelength_nm", self.wavelength_nm)
        _checks.finite_nonnegative("timing_jitter_s", self.timing_jitter_s)
        _checks.finite_positive("wavepacket_s", self.wavepacket_s)
        _checks.finite_nonnegative("conversion_loss_db", self.conversion_loss_db)
        if self.conversion_fidelity_factor == 0.0:
            raise ValueError("conversion_fidelity_factor: must be in (0, 1], got 0.0")

    def replace(self, **overrides: Any) -> HardwareProfile:
        """A validated copy with ``overrides`` applied; unknown field names raise ValueError."""
        valid = [f.name for f in dataclasses.fields(self)]
        unknown = sorted(set(overrides) - set(valid))
        if unknown:
            raise ValueError(f"{unknown[0]}: unknown HardwareProfile field, valid fields: {valid}")
        return dataclasses.replace(self, **overrides)


PROFILES: dict[str, HardwareProfile] = {
    # 40Ca+ ion in an optical cavity, Innsbruck: Krutyanskiy et al., PRL 130, 050803 (2023)
    # (ion-ion entanglement over 230 m) and PRL 130, 213601 (2023) (telecom repeater node);
    # 854 nm photons converted to 1550 nm (Krutyanskiy et al., npj Quantum Inf. 5, 72 (2019):
    # ~25 % device efficiency). Qubit in S1/2-D5/2: T1 limited by the D5/2 lifetime (1.17 s).
    "trapped_ion": HardwareProfile(
        name="trapped_ion",
        t1_s=1.17,
        t2_s=0.1,
        source_fidelity=0.97,
        source_efficiency=0.5,
        coupling_efficiency=0.6,
        memory_efficiency=1.0,
        detector_efficiency=0.85,
        modes=1,
        attempt_rate_hz=20e3,
        herald_round_trip=True,
        wavelength_nm=854.0,
        gate_error=0.005,
        measurement_error=0.001,
        swap_success=1.0,
        timing_jitter_s=1e-9,
        wavepacket_s=10e-6,
        conversion_loss_db=6.0,
        conversion_fidelity_factor=0.99,
    ),
    # NV center, Delft; the memory is the ELECTRON spin (communication qubit), not a 13C
    # nuclear spin. Photonics and gates: Hensen et al., Nature 526, 682 (2015); Pompili et al.,
    # Science 372, 259 (2021); ~4e-4 photon detection probability per attempt (ZPL fraction
    # ~3 %, collection, filtering). Electron coherence under dynamical decoupling ~1 s and
    # T1 ~ 1 h: Abobeih et al., Nat. Commun. 9, 2552 (2018). 637 nm -> 1588 nm conversion
    # ~17 % efficiency: Tchebotareva et al., PRL 123, 063601 (2019); 10 km metropolitan link:
    # Stolk et al., Sci. Adv. 10, eadp6442 (2024).
    "nv_center": HardwareProfile(
        name="nv_center",
        t1_s=3600.0,
        t2_s=1.0,
        source_fidelity=0.93,
        source_efficiency=0.03,
        coupling_efficiency=0.02,
        memory_efficiency=1.0,
        detector_efficiency=0.8,
        modes=1,
        attempt_rate_hz=200e3,
        herald_round_trip=True,
        wavelength_nm=637.0,
        gate_error=0.02,
        measurement_error=0.02,
        swap_success=1.0,
        timing_jitter_s=0.3e-9,
        wavepacket_s=12e-9,
        conversion_loss_db=7.7,
        conversion_fidelity_factor=0.98,
    ),
    # Cold 87Rb ensembles, DLCZ with spatial multiplexing: Pu et al., Nat. Commun. 8, 15359
    # (2017) (225 modes); field link with 795 nm -> 1342 nm conversion: Yu et al., Nature 578,
    # 240 (2020). Spin-wave coherence ~1 ms (atomic motion): modeled as pure dephasing
    # (T1 = inf); loss of the stored excitation is in memory_efficiency (retrieval).
    # Low write probability (source_efficiency) keeps multi-excitation noise down.
    # Swap by linear optics (0.5).
    "atomic_ensemble": HardwareProfile(
        name="atomic_ensemble",
        t1_s=math.inf,
        t2_s=1e-3,
        source_fidelity=0.9,
        source_efficiency=0.05,
        coupling_efficiency=0.5,
        memory_efficiency=0.5,
        detector_efficiency=0.6,
        modes=100,
        attempt_rate_hz=100e3,
        herald_round_trip=False,
        wavelength_nm=795.0,
        gate_error=0.01,
        measurement_error=0.01,
        swap_success=0.5,
        timing_jitter_s=0.5e-9,
        wavepacket_s=30e-9,
        conversion_loss_db=5.0,
        conversion_fidelity_factor=0.98,
    ),
    # Transmon qubit with electro-optic microwave-to-optical transduction, ISTA: Sahu et al.,
    # Science 380, 718 (2023) (entangled microwave-optical photons) and Nat. Commun. 13, 1276
    # (2022); ~1e-3 transduction efficiency, pulsed at low repetition rate (pump heating).
    # Transmon T1 ~ T2 ~ 100 us. The optical photon leaves the transducer at 1550 nm.
    "superconducting_transduction": HardwareProfile(
        name="superconducting_transduction",
        t1_s=100e-6,
        t2_s=100e-6,
        source_fidelity=0.9,
        source_efficiency=1e-3,
        coupling_efficiency=0.5,
        memory_efficiency=1.0,
        detector_efficiency=0.8,
        modes=1,
        attempt_rate_hz=1e3,
        herald_round_trip=True,
        wavelength_nm=1550.0,
        gate_error=0.005,
        measurement_error=0.02,
        swap_success=1.0,
        timing_jitter_s=50e-12,
        wavepacket_s=100e-9,
    ),
    # Er3+:Y2SiO5 atomic-frequency-comb memory at 1536 nm (telecom C band, no conversion),
    # temporally multimode, loaded from an SPDC pair source: optical T1 11.4 ms (Böttger et al.,
    # PRB 74, 075107 (2006)), optical T2 up to 4.4 ms at high field (Böttger et al., PRB 79,
    # 115104 (2009)); low AFC efficiency at 1536 nm (~10 %). Swap by linear optics (0.5).
    # Attempts: batches of 100 time bins (~1 ns each) from a pulsed SPDC source every 1 us; an
    # absorptive multimode memory does not wait for the herald before the next batch.
    "er_telecom": HardwareProfile(
        name="er_telecom",
        t1_s=11.4e-3,
        t2_s=4.4e-3,
        source_fidelity=0.95,
        source_efficiency=0.05,
        coupling_efficiency=0.7,
        memory_efficiency=0.1,
        detector_efficiency=0.85,
        modes=100,
        attempt_rate_hz=1e6,
        herald_round_trip=False,
        wavelength_nm=1536.0,
        gate_error=0.01,
        measurement_error=0.01,
        swap_success=0.5,
        timing_jitter_s=50e-12,
        wavepacket_s=1e-9,
    ),
}


def get_profile(name: str) -> HardwareProfile:
    """The built-in hardware profile ``name``; unknown names raise ValueError listing them."""
    try:
        return PROFILES[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"profile: unknown name {name!r}, valid names: {sorted(PROFILES)}"
        ) from None


def _stored_fidelity(
    rho0: np.ndarray,
    t: float,
    t1_s: float,
    t2_s: float,
    t1_other_s: float = math.inf,
    t2_other_s: float = math.inf,
) -> float:
    rho = decohere(rho0, 1, t, t1_s, t2_s)
    if min(t1_other_s, t2_other_s) < math.inf:
        rho = decohere(rho, 0, t, t1_other_s, t2_other_s)
    return fidelity(rho)


def t_long_eb(
    rho0: np.ndarray,
    t1_s: float,
    t2_s: float,
    t1_other_s: float = math.inf,
    t2_other_s: float = math.inf,
) -> float:
    """T_longEB (seconds): time until the pair's fidelity falls to 2/3 while it is stored.

    Model: qubit 1 of ``rho0`` decoheres under ``decohere`` (T1 amplitude damping + pure
    dephasing, seconds); qubit 0 under ``t1_other_s``/``t2_other_s`` (default: ideal, the
    textbook one-half-stored figure). First crossing found on a logarithmic time grid,
    refined with brentq. 0.0 if F(0) <= 2/3; ``math.inf`` if F never reaches 2/3.
    """
    from scipy.optimize import brentq  # scipy only when a root is found (CLI start-up)

    _checks.pair_matrix("rho0", rho0)
    t1, t2 = _checks.t1_t2("t1_s", t1_s, "t2_s", t2_s)
    t1_o, t2_o = _checks.t1_t2("t1_other_s", t1_other_s, "t2_other_s", t2_other_s)
    if fidelity(rho0) <= T_LONG_EB_THRESHOLD:
        return 0.0
    if min(t1, t2, t1_o, t2_o) == math.inf:
        return math.inf

    def stored(t: float) -> float:
        return _stored_fidelity(rho0, t, t1, t2, t1_o, t2_o)

    scale = min(t1, t2, t1_o, t2_o)
    prev = 0.0
    for t in scale * np.logspace(-6.0, 3.0, 181):
        if stored(float(t)) <= T_LONG_EB_THRESHOLD:
            return float(
                brentq(
                    lambda x: stored(x) - T_LONG_EB_THRESHOLD,
                    prev,
                    float(t),
                    xtol=1e-15 * scale,
                    rtol=1e-13,
                )
            )
        prev = float(t)
    return math.inf


def pair_t_long_eb(
    rho0: np.ndarray, profile_a: HardwareProfile, profile_b: HardwareProfile
) -> float:
    """T_longEB (seconds) of a link pair with both halves stored: qubit 0 in ``profile_a``'s
    memory, qubit 1 in ``profile_b``'s. Both halves decohere, so this is shorter than the
    one-half figure of :func:`profile_t_long_eb` (about half for equal memories)."""
    return t_long_eb(rho0, profile_b.t1_s, profile_b.t2_s, profile_a.t1_s, profile_a.t2_s)


def profile_t_long_eb(profile: HardwareProfile) -> float:
    """T_longEB (seconds) of the profile's own initial Werner pair (source fidelity), one half
    stored in the profile's memory (see ``t_long_eb``)."""
    return t_long_eb(werner(profile.source_fidelity), profile.t1_s, profile.t2_s)
