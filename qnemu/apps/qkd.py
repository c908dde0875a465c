"""Entanglement-based QKD (BBM92, Bennett, Brassard and Mermin, PRL 68, 557 (1992)).

Each end measures its half of every delivered pair in a random basis, Z or X (the
outcome flipped with its hardware's measurement error); the ends announce their bases
in timed classical messages and keep the bits of the pairs measured in the same basis
(sifting). The QBER of each basis is estimated from every sifted bit (a real system
would publish a sample of them; the estimate is then the same in expectation), and the
asymptotic key is the Shor-Preskill rate: sifted rate x (1 - h(e_x) - h(e_z)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnemu.physics import qber_x, qber_z
from qnemu.physics.analytic import (
    finite_key_bits,
    qber_with_measurement_error,
    shor_preskill_fraction,
)
from qnemu.physics.operations import measure

BASES: tuple[str, str] = ("Z", "X")


def choose_basis(rng: np.random.Generator) -> str:
    """Z or X with probability 1/2 each (the BBM92 choice)."""
    return BASES[int(rng.integers(2))]


def measure_pair(
    rho: np.ndarray,
    basis_src: str,
    basis_dst: str,
    rng: np.random.Generator,
    error_src: float = 0.0,
    error_dst: float = 0.0,
) -> tuple[int, int]:
    """Born-rule outcomes (bit_src, bit_dst) of measuring qubit 0 (source) in ``basis_src``
    and qubit 1 in ``basis_dst``; each reported bit is flipped with its end's error."""
    bit_src, post = measure(rho, 0, basis_src, rng)
    bit_dst, _ = measure(post, 1, basis_dst, rng)
    if error_src and rng.random() < error_src:
        bit_src ^= 1
    if error_dst and rng.random() < error_dst:
        bit_dst ^= 1
    return bit_src, bit_dst


def error_probability(rho: np.ndarray, basis: str, error_src: float, error_dst: float) -> float:
    """Oracle: probability that a pair measured in ``basis`` at both ends gives different
    bits (its QBER in that basis, measurement errors included)."""
    q = qber_z(rho) if basis == "Z" else qber_x(rho)
    return qber_with_measurement_error(min(1.0, max(0.0, q)), error_src, error_dst)


@dataclass
class QkdTally:
    """A tenant's QKD figures, folded from its per-pair results."""

    pairs: int = 0
    sifted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BASES, 0))
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(BASES, 0))

    def add(self, basis_src: str, basis_dst: str, bit_src: int, bit_dst: int) -> None:
        """One measured pair."""
        self.pairs += 1
        if basis_src == basis_dst:
            self.sifted[basis_src] += 1
            self.errors[basis_src] += int(bit_src != bit_dst)

    def qber(self, basis: str) -> float | None:
        """Measured QBER of ``basis`` (None before a sifted bit)."""
        n = self.sifted[basis]
        return self.errors[basis] / n if n else None

    def qber_se(self, basis: str) -> float | None:
        """Binomial standard error of :meth:`qber`."""
        q, n = self.qber(basis), self.sifted[basis]
        return None if q is None else math.sqrt(q * (1.0 - q) / n)

    def block(self, duration_s: float) -> dict[str, Any]:
        """The tenant's ``qkd`` block of ``summary.json``."""
        sifted = sum(self.sifted.values())
        e_x, e_z = self.qber("X"), self.qber("Z")
        fraction = None if e_x is None or e_z is None else shor_preskill_fraction(e_x, e_z)
        rate = sifted / duration_s if duration_s > 0 else 0.0
        return {
            "pairs_measured": self.pairs,
            "sifted_bits": sifted,
            "qber_z": e_z,
            "qber_x": e_x,
            "qber_z_se": self.qber_se("Z"),
            "qber_x_se": self.qber_se("X"),
            "secret_fraction": fraction,
            "secret_key_rate_bps": None if fraction is None else rate * fraction,
            "secret_key_bits": None if fraction is None else sifted * fraction,
            **self._finite_key(duration_s),
        }

    def _finite_key(self, duration_s: float) -> dict[str, Any]:
        """The finite-key estimate: the Z-sifted bits are the key, the X-sifted bits test
        its phase errors (:func:`qnemu.physics.analytic.finite_key_bits`)."""
        e_x, e_z = self.qber("X"), self.qber("Z")
        if e_x is None or e_z is None:
            return {"finite_key_bits": None, "finite_key_rate_bps": None}
        bits = finite_key_bits(self.sifted["Z"], self.sifted["X"], e_z, e_x)
        return {
            "finite_key_bits": bits,
            "finite_key_rate_bps": bits / duration_s if duration_s > 0 else 0.0,
        }
