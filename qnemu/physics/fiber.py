"""Optical fiber: transmissivity, propagation delay and the repeaterless (PLOB) bound."""

from __future__ import annotations

import math

from qnemu.physics import _checks

#: Speed of light in vacuum (m/s), exact by SI definition.
SPEED_OF_LIGHT_M_S: float = 299_792_458.0
#: Group refractive index of standard single-mode fiber (SMF-28 at 1550 nm), dimensionless.
FIBER_REFRACTIVE_INDEX: float = 1.468


def transmissivity(length_km: float, attenuation_db_per_km: float = 0.2) -> float:
    """Fiber transmissivity eta = 10^(-alpha L / 10) (dimensionless, R11).

    ``length_km`` in kilometres, ``attenuation_db_per_km`` in dB/km (0.2 dB/km: telecom C band).
    """
    length_km = _checks.finite_nonnegative("length_km", length_km)
    alpha = _checks.finite_nonnegative("attenuation_db_per_km", attenuation_db_per_km)
    return 10.0 ** (-alpha * length_km / 10.0)


def propagation_delay_s(
    length_km: float, refractive_index: float = FIBER_REFRACTIVE_INDEX
) -> float:
    """One-way propagation delay (seconds) of light over ``length_km`` of fiber: L / (c/n).

    About 4.9 microseconds per km for n = 1.468 (R11).
    """
    length_km = _checks.finite_nonnegative("length_km", length_km)
    n = _checks.finite_positive("refractive_index", refractive_index)
    if n < 1.0:
        raise ValueError(f"refractive_index: must be >= 1, got {refractive_index!r}")
    return length_km * 1000.0 * n / SPEED_OF_LIGHT_M_S


def plob_capacity(eta: float) -> float:
    """PLOB bound -log2(1 - eta) (ebits per channel use) of a pure-loss channel (R11).

    Pirandola et al., Nat. Commun. 8, 15043 (2017); ``eta`` is the transmissivity in [0, 1]
    (``math.inf`` for eta = 1).
    """
    eta = _checks.probability("eta", eta)
    if eta == 1.0:
        return math.inf
    return -math.log1p(-eta) / math.log(2.0)
