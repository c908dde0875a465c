"""Tenant quality functions q(F) and the Q-NUM utility U = R * q(F).

A quality function maps the fidelity F of a delivered pair (to Phi+) to a value in [0, 1];
the framework sets q = 0 below the tenant's ``f_min``. Built-ins:

- ``qkd``: BB84 asymptotic secret fraction at the QBER a Werner pair of fidelity F implies
  (PHYSICS-REFERENCE R12, ``physics.analytic``); 0 once the QBER exceeds ~11 % (F < 0.835).
- ``dqc``: a step, 1 at or above ``f_min`` (a distributed gate either works or it does not).
- ``dqs`` / ``sensing``: steep, exp(-k (1 - F)) with k = :data:`SENSING_STEEPNESS`.
- custom: any ``fn(fidelity) -> float in [0, 1]``, registered by name or given inline as a
  dotted path ``package.module:function``.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable, Iterator, Mapping

from qnemu.physics.analytic import (
    bb84_secret_fraction,
    qber_from_werner_fidelity,
    teleport_mean_fidelity,
)

QualityFn = Callable[[float], float]

#: k of the sensing quality exp(-k (1 - F)): F = 0.99 -> 0.90, F = 0.9 -> 0.37.
SENSING_STEEPNESS: float = 10.0


def qkd_quality(fidelity: float) -> float:
    """BB84 secret fraction (bits per pair) at the Werner QBER of ``fidelity`` (R12)."""
    return bb84_secret_fraction(qber_from_werner_fidelity(fidelity))


def dqc_quality(fidelity: float) -> float:
    """Step: every pair at or above the tenant's floor is worth one gate (the floor is
    applied by :func:`quality`)."""
    return 1.0


def teleport_quality(fidelity: float) -> float:
    """Mean fidelity of a Haar-random qubit teleported through the pair: (2F + 1)/3."""
    return teleport_mean_fidelity(fidelity)


def sensing_quality(fidelity: float) -> float:
    """Steep in F: exp(-k (1 - F)), k = SENSING_STEEPNESS (a distributed-sensing proxy)."""
    return math.exp(-SENSING_STEEPNESS * (1.0 - fidelity))


class AppRegistry(Mapping[str, QualityFn]):
    """Named quality functions. Registration fails loudly on a non-callable or a duplicate."""

    def __init__(self, builtins: Mapping[str, QualityFn] | None = None) -> None:
        self._fns: dict[str, QualityFn] = {}
        for name, fn in (builtins or {}).items():
            self.register(name, fn)

    def register(self, name: str, fn: QualityFn | str) -> QualityFn:
        """Add ``fn`` (a callable or a ``package.module:function`` path) under ``name``."""
        if not isinstance(name, str) or not name or ":" in name:
            raise ValueError(f"app: name must be a non-empty string without ':', got {name!r}")
        if name in self._fns:
            raise ValueError(f"app: {name!r} is already registered (registered: {self.names()})")
        resolved = load_quality(fn) if isinstance(fn, str) else fn
        if not callable(resolved):
            raise TypeError(f"app {name!r}: quality function must be callable, got {fn!r}")
        self._fns[name] = resolved
        return resolved

    def resolve(self, app: str) -> QualityFn:
        """The quality function for a registered name or a dotted path."""
        if isinstance(app, str) and ":" in app:
            return load_quality(app)
        try:
            return self._fns[app]
        except (KeyError, TypeError):
            raise ValueError(
                f"app: unknown app {app!r} (valid: {', '.join(self.names())}, "
                f"or package.module:function)"
            ) from None

    def names(self) -> list[str]:
        """Registered names, in registration order."""
        return list(self._fns)

    def __getitem__(self, name: str) -> QualityFn:
        return self._fns[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fns)

    def __len__(self) -> int:
        return len(self._fns)


def load_quality(path: str) -> QualityFn:
    """Import ``package.module:function``; ValueError naming the problem otherwise."""
    module_name, sep, attr = path.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"app: dotted path must look like package.module:function, got {path!r}")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ValueError(f"app: cannot import {module_name!r} from {path!r}: {exc}") from None
    fn = getattr(module, attr, None)
    if fn is None:
        raise ValueError(f"app: module {module_name!r} has no attribute {attr!r} ({path!r})")
    if not callable(fn) or isinstance(fn, type):
        raise ValueError(f"app: {path!r} is not a quality function, got {type(fn).__name__}")
    return fn


#: The default registry: the built-in apps; :func:`register_app` adds to it.
APPS = AppRegistry(
    {
        "qkd": qkd_quality,
        "dqc": dqc_quality,
        "dqs": sensing_quality,
        "sensing": sensing_quality,
        "teleport": teleport_quality,
        # multi-node tenants: Q-NUM ranks each sub-tenant's Bell pairs (docs/apps.md)
        "ghz": sensing_quality,
        "qfl": teleport_quality,
    }
)


def register_app(name: str, fn: QualityFn | str) -> QualityFn:
    """Register a custom quality function (callable or dotted path) in :data:`APPS`."""
    return APPS.register(name, fn)


def _fraction(name: str, value: float) -> float:
    v = float(value)
    if not (0.0 <= v <= 1.0):
        raise ValueError(f"{name}: must be in [0, 1], got {value!r}")
    return v


def quality(app: str, fidelity: float, f_min: float, registry: AppRegistry = APPS) -> float:
    """q(F) in [0, 1] of tenant app ``app``; 0 below ``f_min``."""
    fn = registry.resolve(app)
    f = _fraction("fidelity", fidelity)
    floor = _fraction("f_min", f_min)
    if f < floor:
        return 0.0
    q = float(fn(f))
    if not (0.0 <= q <= 1.0):
        raise ValueError(f"app {app!r}: quality must be in [0, 1], got {q!r} at F = {f:.6g}")
    return q


def utility(
    app: str, rate_hz: float, fidelity: float, f_min: float, registry: AppRegistry = APPS
) -> float:
    """Q-NUM utility U = R q(F) (useful pairs per second; bits per second for QKD)."""
    r = float(rate_hz)
    if not (0.0 <= r < math.inf):
        raise ValueError(f"rate_hz: must be finite and >= 0, got {rate_hz!r}")
    return r * quality(app, fidelity, f_min, registry) if r > 0.0 else 0.0


def realized_utility(quality_sum: float, duration_s: float) -> float:
    """The utility a tenant actually got over ``duration_s`` emulated seconds: its delivered
    rate times the mean quality of what it got, (1 / T) Σ q(F_i), from ``quality_sum`` =
    Σ q(F_i) over delivered pairs (one definition for the summary, telemetry and compare)."""
    return quality_sum / duration_s if duration_s > 0 else 0.0
