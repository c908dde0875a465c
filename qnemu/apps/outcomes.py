"""What a tenant's application got, folded from its run's records for ``summary.json``.

Each delivered pair's record carries ``app`` (what the application did with it, see
:mod:`qnemu.node.app_runner`); remote gates also end with a ``gate_done`` event at the
source. :class:`AppOutcomes` keeps one tally per app and writes the tenant's block:
``qkd: {...}``, ``teleport: {...}`` or ``dqc: {...}``; a multi-node tenant's (its
sub-tenants' results joined) ``ghz``, ``sensing`` or ``qfl`` (docs/apps.md lists the fields).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnemu import records
from qnemu.apps.dqc import DqcTally
from qnemu.apps.ghz import GhzTally
from qnemu.apps.qfl import QflTally
from qnemu.apps.qkd import QkdTally


@dataclass
class TeleportTally:
    """Fidelities of the teleported qubits (oracle side)."""

    fidelities: list[float] = field(default_factory=list)

    def block(self) -> dict[str, Any]:
        """The tenant's ``teleport`` block."""
        values = self.fidelities
        return {
            "count": len(values),
            "fidelity_mean": float(np.mean(values)) if values else None,
            "fidelity_se": (
                float(np.std(values, ddof=1) / math.sqrt(len(values))) if len(values) > 1 else None
            ),
        }


@dataclass
class AppOutcomes:
    """One tenant's application results."""

    qkd: QkdTally | None = None
    teleport: TeleportTally | None = None
    dqc: DqcTally | None = None
    ghz: GhzTally | None = None  # a ghz or sensing tenant (its sub-tenants' pairs joined)
    qfl: QflTally | None = None

    def add(self, app: Mapping[str, Any]) -> None:
        """Fold in a delivered pair's ``app`` field."""
        match app.get("name"):
            case "qkd":
                self.qkd = self.qkd or QkdTally()
                self.qkd.add(app["basis_src"], app["basis_dst"], app["bit_src"], app["bit_dst"])
            case "teleport":
                self.teleport = self.teleport or TeleportTally()
                self.teleport.fidelities.append(app["fidelity"])
            case "dqc":
                self._dqc(app.get("circuit_gates")).add_fidelity(app["pair"], app["gate_fidelity"])
            case "ghz" | "sensing":
                self.ghz = self.ghz or GhzTally()
                self.ghz.add(app)
            case "qfl":
                self.qfl = self.qfl or QflTally()
                self.qfl.add_fidelity(app["pair"], app["fidelity"])

    def qfl_event(self, event: records.QflRound | records.QflUpdate) -> None:
        """A qfl tenant's update or round (events of its server)."""
        self.qfl = self.qfl or QflTally()
        if isinstance(event, records.QflRound):
            self.qfl.rounds.append(event)
        else:
            self.qfl.updates.append(event)

    def gate_done(self, gate: int, pair: str, started_s: float, done_s: float) -> None:
        """A remote gate ended at the source."""
        self._dqc(None).add_done(gate, pair, started_s, done_s)

    def _dqc(self, gates: int | None) -> DqcTally:
        if self.dqc is None:
            self.dqc = DqcTally()
        if gates:
            self.dqc.gates_per_circuit = int(gates)
        return self.dqc

    def blocks(self, duration_s: float) -> dict[str, Any]:
        """The app blocks of the tenant's summary (none for an app without results)."""
        out: dict[str, Any] = {}
        if self.qkd is not None:
            out["qkd"] = self.qkd.block(duration_s)
        if self.teleport is not None:
            out["teleport"] = self.teleport.block()
        if self.dqc is not None:
            out["dqc"] = self.dqc.block()
        if self.ghz is not None:
            out["ghz"] = self.ghz.block()
            if self.ghz.app == "sensing":
                out["sensing"] = self.ghz.sensing_block()
        if self.qfl is not None:
            out["qfl"] = self.qfl.block()
        return out
