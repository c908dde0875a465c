"""The network's estimate of a tenant's pair fidelity, from what its end nodes measured.

The northbound status (``GET /v1/requests/NAME``) reports the fidelity the network can
know, never the oracle's ground truth. What each application measures:

- ``qkd`` (BBM92): both ends measure every pair in Z or X and publish the sifted bits'
  disagreements (parameter estimation). The QBER of basis B is e_B = P(bits differ);
  for the pair's state, e_Z = p_X + p_Y, e_X = p_Z + p_Y and e_Y = p_Z + p_X, where p_P
  is the weight of the Pauli error P on one half (the Bell-diagonal part), so
  F = p_I = 1 − (e_X + e_Y + e_Z)/2. Z and X do not give e_Y. Every noise qnemu applies
  is symmetric about the Z axis (depolarizing, dephasing, amplitude damping, and their
  compositions through swaps and Pauli corrections): p_X = p_Y, so e_Y = e_X and

      F̂ = 1 − ê_X − ê_Z / 2,

  which reduces to 1 − 3/2·ē for a Werner pair (e_X = e_Z = e_Y). Each end's readout
  error (its hardware's calibrated ``measurement_error``, e_a and e_b) is taken out first:
  the observed rate is q(1 − 2e) + e with e = e_a(1 − e_b) + e_b(1 − e_a), so
  ê = (q_obs − e)/(1 − 2e). Standard error: the binomial one of each basis
  (q̃ = (k + 1)/(n + 2), so a basis without errors yet does not claim certainty),
  SE² = [Var ê_X + Var ê_Z / 4] / (1 − 2e)². Null until each basis has
  :data:`MIN_SIFTED` sifted bits.
- ``teleport``, ``dqc``: the end nodes measure Bell outcomes and cat-entangler bits,
  which are uniform whatever the pair (docs/apps.md); the teleported qubit or the gate's
  output is the user's, not measured. Nothing measured depends on the fidelity, so the
  estimate is null (the model's prediction is reported apart, as ``predicted_fidelity``).
- any other app (a quality function only): nothing is measured; null.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from qnemu.apps.qkd import QkdTally
from qnemu.physics.analytic import combined_readout_error

#: Sifted bits each basis needs before the QKD estimate is given.
MIN_SIFTED = 20

#: Why a tenant of each app has no estimate (the status says it).
UNMEASURED = {
    "teleport": "teleport: Bell outcomes are uniform whatever the pair; nothing measured",
    "dqc": "dqc: cat-entangler bits are uniform whatever the pair; nothing measured",
}


@dataclass
class QkdFidelity:
    """A QKD tenant's sifted bits (its :class:`~qnemu.apps.qkd.QkdTally`) and the fidelity
    estimate they give."""

    readout: float  # combined readout error of its two ends (probability)
    tally: QkdTally = field(default_factory=QkdTally)

    def add(self, app: Mapping[str, Any]) -> None:
        """One measured pair (a ``delivered`` record's ``app`` field)."""
        self.tally.add(app["basis_src"], app["basis_dst"], app["bit_src"], app["bit_dst"])

    def _qber(self, basis: str) -> tuple[float, float]:
        """Readout-corrected QBER of ``basis`` and its variance (before the correction's
        1/(1 − 2e)² factor, applied by the caller)."""
        n, k = self.tally.sifted[basis], self.tally.errors[basis]
        corrected = (k / n - self.readout) / (1.0 - 2.0 * self.readout)
        smoothed = (k + 1.0) / (n + 2.0)
        return corrected, smoothed * (1.0 - smoothed) / n

    def estimate(self) -> dict[str, Any]:
        """``fidelity_estimate`` (F̂), ``fidelity_estimate_se`` and what they came from."""
        z, x = self.tally.sifted["Z"], self.tally.sifted["X"]
        basis = f"qkd: {z} Z and {x} X sifted bits, F = 1 - e_X - e_Z/2"
        if min(z, x) < MIN_SIFTED:
            return _none(f"{basis} (needs {MIN_SIFTED} of each)")
        e_z, var_z = self._qber("Z")
        e_x, var_x = self._qber("X")
        se = math.sqrt(var_x + var_z / 4.0) / (1.0 - 2.0 * self.readout)
        return {
            "fidelity_estimate": 1.0 - e_x - e_z / 2.0,
            "fidelity_estimate_se": se,
            "fidelity_estimate_from": basis,
        }


def _none(reason: str) -> dict[str, Any]:
    return {
        "fidelity_estimate": None,
        "fidelity_estimate_se": None,
        "fidelity_estimate_from": reason,
    }


class FidelityEstimates:
    """Every tenant's network fidelity estimate, folded from ``delivered`` records.

    Args:
        readout: each node's readout error (its hardware's ``measurement_error``).
    """

    def __init__(self, readout: Mapping[str, float]) -> None:
        self.readout = dict(readout)
        self.qkd: dict[str, QkdFidelity] = {}
        self.apps: dict[str, str] = {}

    def observe(self, delivered: Mapping[str, Any]) -> None:
        """Fold in one ``delivered`` record (plain)."""
        app = delivered.get("app")
        tenant = delivered["tenant"]
        if not app:
            return
        self.apps[tenant] = app["name"]
        if app["name"] == "qkd":
            tally = self.qkd.get(tenant)
            if tally is None:
                error = combined_readout_error(
                    self.readout.get(delivered["src"], 0.0), self.readout.get(delivered["dst"], 0.0)
                )
                tally = self.qkd[tenant] = QkdFidelity(error)
            tally.add(app)

    def fields(self, tenant: str, app: str | None) -> dict[str, Any]:
        """The status fields of ``tenant`` (``app``: its application, when known)."""
        if tenant in self.qkd:
            return self.qkd[tenant].estimate()
        app = self.apps.get(tenant, app)
        if app == "qkd":
            return _none(f"qkd: 0 sifted bits (needs {MIN_SIFTED} per basis)")
        return _none(UNMEASURED.get(app or "", f"{app}: nothing measured at the end nodes"))
