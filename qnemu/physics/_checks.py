"""Input checks shared by the physics modules.

Each check raises ``ValueError`` whose message names the parameter and its value, in the
house format ``name: must be ..., got value``. NaN fails every check (comparisons with NaN
are false, so each test is written as ``not (condition)``).
"""

from __future__ import annotations

import math

import numpy as np


def probability(name: str, value: float) -> float:
    """Return ``value`` as a float if it lies in [0, 1], else raise ``ValueError``."""
    v = float(value)
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{name}: must be in [0, 1], got {value!r}")
    return v


def nonnegative(name: str, value: float) -> float:
    """Return ``value`` as a float if it is >= 0 (``math.inf`` allowed), else raise."""
    v = float(value)
    if not (v >= 0.0):
        raise ValueError(f"{name}: must be >= 0, got {value!r}")
    return v


def finite_nonnegative(name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite and >= 0, else raise ``ValueError``."""
    v = float(value)
    if not (0.0 <= v < math.inf):
        raise ValueError(f"{name}: must be finite and >= 0, got {value!r}")
    return v


def positive(name: str, value: float) -> float:
    """Return ``value`` as a float if it is > 0 (``math.inf`` allowed), else raise."""
    v = float(value)
    if not (v > 0.0):
        raise ValueError(f"{name}: must be > 0, got {value!r}")
    return v


def finite_positive(name: str, value: float) -> float:
    """Return ``value`` as a float if it is finite and > 0, else raise ``ValueError``."""
    v = float(value)
    if not (0.0 < v < math.inf):
        raise ValueError(f"{name}: must be finite and > 0, got {value!r}")
    return v


def qubit_index(name: str, value: int) -> int:
    """Return ``value`` if it is the qubit index 0 or 1 of a pair, else raise."""
    if value not in (0, 1) or isinstance(value, bool):
        raise ValueError(f"{name}: must be 0 or 1, got {value!r}")
    return int(value)


def positive_int(name: str, value: int) -> int:
    """Return ``value`` if it is an integer >= 1, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name}: must be an integer >= 1, got {value!r}")
    return int(value)


def t1_t2(t1_name: str, t1_s: float, t2_name: str, t2_s: float) -> tuple[float, float]:
    """Check a T1/T2 pair: both > 0 (``math.inf`` allowed) and T2 <= 2*T1."""
    t1 = positive(t1_name, t1_s)
    t2 = positive(t2_name, t2_s)
    if not (t2 <= 2.0 * t1):
        raise ValueError(f"{t2_name}: must be <= 2*{t1_name} ({2.0 * t1!r}), got {t2_s!r}")
    return t1, t2


def pair_matrix(name: str, rho: np.ndarray) -> np.ndarray:
    """Cheap check for hot paths: ``rho`` is a 4x4 array (a two-qubit density matrix).

    Hermiticity, trace and positivity are not re-checked here for speed; use
    ``states.validate_density_matrix`` where a state enters the emulator.
    """
    if not isinstance(rho, np.ndarray) or rho.shape != (4, 4):
        shape = getattr(rho, "shape", type(rho).__name__)
        raise ValueError(f"{name}: must be a 4x4 density matrix, got shape {shape!r}")
    return rho
