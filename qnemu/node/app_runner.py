"""The tenants' applications at an end node: what each does with its half of a pair.

An :class:`AppRunner` lives beside the node's :class:`~qnemu.node.end_node.EndNode`. When
the end node hands a half to the tenant (``on_use``, inside the ground-truth operation
at this node), the application acts on it and sends its classical messages; when both
halves have been used, the oracle side (``complete``) turns the pair's true state into
the application's result, which goes into the pair's ``delivered`` record. The apps
(physics in :mod:`qnemu.apps`):

- ``qkd`` (BBM92): each end picks Z or X at random and announces it (``BasisAnnounce``);
  the joint outcome is drawn from the pair's true state when both halves are used
  (frozen qubits do not change, and nothing observable depends on the bits earlier).
- ``teleport``: the source Bell-measures a Haar-random data qubit with its half (the
  outcome drawn from the true state at that moment) and sends the two bits
  (``TeleportBits``); the destination holds its half, decohering, until they arrive.
- ``dqc``: a remote CNOT. The source's cat-entangler bit (``CatBit`` step 1) must reach
  the destination before it uses its half; its disentangler bit (step 2) ends the gate
  at the source (a ``gate_done`` event). With ``circuit: {gates: K}`` the source starts
  a gate only once the previous one is done.

- ``ghz`` / ``sensing`` (sub-tenants hub -> party): the hub uses one finished pair of
  every party at once (a fusion, :meth:`begin_fusion`) and sends each party its
  correction bit (``FusionBits``); each party holds its half, decohering, until it
  arrives. The pair's record carries its frozen matrix; the results side joins a
  fusion's pairs into the GHZ state (:class:`qnemu.apps.ghz.GhzTally`).
- ``qfl`` (sub-tenants client -> server): each client teleports a parameter (as
  ``teleport``); the server's :class:`qnemu.apps.qfl.Aggregator` turns arrivals into
  updates and rounds (``qfl_update``, ``qfl_round`` events).

Other apps (``dqs``, a custom quality function) only use the pair, as before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from qnemu import records
from qnemu.apps import dqc, ghz, qfl, qkd, teleport
from qnemu.node.dispatch import receives
from qnemu.node.environment import Environment
from qnemu.node.memory import HeldQubit
from qnemu.physics import exchange_qubits
from qnemu.planning.plan import NetworkPlan
from qnemu.scenario.spec import TenantSpec
from qnemu.truth.store import PairRecord
from qnemu.wire.messages import BasisAnnounce, CatBit, FusionBits, Message, TeleportBits

#: Apps whose destination waits for a message from the source before using its half.
WAITS_FOR_SOURCE = ("teleport", "dqc", "ghz", "sensing", "qfl")
#: Apps whose hub fuses its sub-tenants' pairs into one GHZ state.
FUSED_APPS = ("ghz", "sensing")

Send = Callable[..., None]


@dataclass
class Parked:
    """A destination half complete but waiting for the source's bits."""

    held: HeldQubit
    corrections: list[int]
    chain: list[list[str]]


class AppRunner:
    """The applications of the tenants that end at one node.

    Args:
        node_id: the node.
        plan: the network plan (tenants, paths, hardware).
        env: the host (clock, events).
        rng: the node's generator (bases, data states, outcomes).
        send: the node's ``send(cls, dst, at=None, **fields)``.
        use: the end node's ``_use(tenant, held, corrections, chain)``.
        serve: the end node's ``_serve(tenant)`` (matching requests with pairs).
    """

    def __init__(
        self,
        node_id: str,
        plan: NetworkPlan,
        env: Environment,
        rng: np.random.Generator,
        send: Send,
        use: Callable[[str, HeldQubit, list[int], list[list[str]]], None],
        serve: Callable[[str], None],
    ) -> None:
        self.node_id = node_id
        self.plan = plan
        self.env = env
        self.rng = rng
        self._send = send
        self._use = use
        self._serve = serve
        self._specs: dict[str, TenantSpec] = {t.name: t for t in plan.scenario.tenants}
        self._parked: dict[tuple[str, str], Parked] = {}  # (tenant, pair key)
        self._arrived: dict[tuple[str, str], Message] = {}  # bits before the half was ready
        self._gates: dict[str, int] = {}  # next gate index, per dqc tenant at its source
        self._in_flight: dict[tuple[str, str], tuple[int, float]] = {}  # gate, started_s
        self._busy: set[str] = set()  # circuit tenants with a gate in flight
        self._fusion: dict[str, int] = {}  # GHZ group: the fusion under way at its hub
        self._aggregators: dict[str, qfl.Aggregator] = {}  # qfl group, at its server
        self.announced = 0  # basis announcements received
        self._prepare()

    def _prepare(self) -> None:
        """Compute now, while the host starts, what the first delivered pair would otherwise
        compute mid-run: a DQC tenant's six-qubit response (tens of ms, cached per process),
        which in real time would hold back every event of this actor behind it."""
        for spec in self._specs.values():
            if spec.app == "dqc" and self.node_id in (spec.src, spec.dst):
                dqc.prepare(
                    self.plan.nodes[spec.src].profile.measurement_error,
                    self.plan.nodes[spec.dst].profile.measurement_error,
                )

    # -- the end node asks --------------------------------------------------------------
    def app(self, tenant: str) -> str:
        """The tenant's app name."""
        return self._specs[tenant].app

    def busy(self, tenant: str) -> bool:
        """A circuit tenant's source starts no gate while one is in flight."""
        return tenant in self._busy

    def begin_fusion(self, group: str) -> int:
        """At a GHZ hub: the pairs used next belong to a new fusion; its index."""
        self._fusion[group] = self._fusion.get(group, -1) + 1
        return self._fusion[group]

    def hold(
        self, tenant: str, key: str, held: HeldQubit, corrections: list[int], chain: list[list[str]]
    ) -> bool:
        """At the destination: keep the half until the source's bits arrive. True when
        parked (the runner uses it later); False to use it now."""
        if self.app(tenant) not in WAITS_FOR_SOURCE or (tenant, key) in self._arrived:
            return False
        self._parked[(tenant, key)] = Parked(held, corrections, chain)
        return True

    def forget(self, held: HeldQubit) -> None:
        """The node discards ``held``: it no longer waits for bits."""
        for where, parked in list(self._parked.items()):
            if parked.held is held:
                del self._parked[where]

    def on_use(self, tenant: str, role: str, key: str, record: PairRecord, now: float) -> None:
        """This end's application acts on its (corrected, frozen) half at ``now``, inside
        the ground-truth operation at this node."""
        spec = self._specs[tenant]
        other = spec.dst if role == "src" else spec.src
        match spec.app:
            case "qkd":
                basis = qkd.choose_basis(self.rng)
                record.uses[f"basis_{role}"] = basis
                self._send(BasisAnnounce, other, at=now, tenant=tenant, pair=key, basis=basis)
            case "ghz" | "sensing" if role == "src":
                assert spec.group is not None
                member = spec.group.members.index(spec.dst)
                record.uses["ghz"] = [self._fusion[spec.group.name], member]
                record.uses["key"] = key
                self._send(
                    FusionBits,
                    other,
                    at=now,
                    tenant=tenant,
                    pair=key,
                    bit=int(self.rng.integers(2)),  # uniform; the oracle sums both branches
                    correction="Z" if member == 0 else "X",
                )
            case "qfl" if role == "dst":
                self._qfl_arrival(spec, key, now)
            case "teleport" | "qfl" if role == "src":
                rho = _source_first(record, spec.src)
                psi = teleport.haar_state(self.rng)
                outcome = teleport.sample_outcome(rho, psi, self.rng)
                record.uses["teleport"] = [*psi.real.tolist(), *psi.imag.tolist(), outcome]
                record.uses["key"] = key
                self._send(TeleportBits, other, at=now, tenant=tenant, pair=key, outcome=outcome)
            case "dqc" if role == "src":
                gate = self._gates.get(tenant, 0)
                self._gates[tenant] = gate + 1
                self._in_flight[(tenant, key)] = (gate, now)
                if spec.circuit is not None:
                    self._busy.add(tenant)
                record.uses["gate"] = gate
                record.uses["key"] = key
                bit = int(self.rng.integers(2))  # uniform under the process evaluation
                self._send(
                    CatBit, other, at=now, tenant=tenant, pair=key, step=1, bit=bit, gate=gate
                )
            case "dqc":
                message = self._arrived.pop((tenant, key), None)
                gate = message.gate if isinstance(message, CatBit) else -1
                bit = int(self.rng.integers(2))
                self._send(
                    CatBit, other, at=now, tenant=tenant, pair=key, step=2, bit=bit, gate=gate
                )
            case _:
                pass
        if role == "dst":
            self._arrived.pop((tenant, key), None)

    def complete(self, tenant: str, record: PairRecord) -> dict[str, Any] | None:
        """Oracle side, both halves used: the application's result for ``delivered``."""
        spec = self._specs[tenant]
        if spec.app not in ("qkd", "teleport", "dqc", "ghz", "sensing", "qfl"):
            return None
        rho = _source_first(record, spec.src)
        e_src = self.plan.nodes[spec.src].profile.measurement_error
        e_dst = self.plan.nodes[spec.dst].profile.measurement_error
        uses = record.uses
        if spec.app == "qkd":
            b_src, b_dst = uses["basis_src"], uses["basis_dst"]
            bits = qkd.measure_pair(rho, b_src, b_dst, self.rng, e_src, e_dst)
            sifted = b_src == b_dst
            return {
                "name": "qkd",
                "basis_src": b_src,
                "basis_dst": b_dst,
                "bit_src": bits[0],
                "bit_dst": bits[1],
                "sifted": sifted,
                "error_probability": qkd.error_probability(rho, b_src, e_src, e_dst)
                if sifted
                else None,
            }
        if spec.app in ("teleport", "qfl"):
            re0, re1, im0, im1, outcome = uses["teleport"]
            psi = np.array([re0 + 1j * im0, re1 + 1j * im1])
            result = {
                "name": spec.app,
                "outcome": int(outcome),
                "fidelity": teleport.output_fidelity(rho, psi, int(outcome)),
            }
            if spec.group is None:
                return result
            return {**result, "group": spec.group.name, "client": spec.src, "pair": uses["key"]}
        if spec.app in FUSED_APPS:
            assert spec.group is not None
            fusion, member = uses["ghz"]
            center = spec.group.center
            members = spec.group.members
            return {
                "name": spec.app,
                "group": spec.group.name,
                "fusion": fusion,
                "member": member,
                "n": len(members),
                "hub_member": members.index(center) if center in members else None,
                "pair": uses["key"],
                "rho": ghz.matrix_values(rho),  # hub half first, frozen at the two uses
            }
        gates = None if spec.circuit is None else spec.circuit["gates"]
        return {
            "name": "dqc",
            "gate": uses.get("gate"),
            "pair": uses.get("key"),
            "gate_fidelity": dqc.gate_fidelity(rho, e_src, e_dst),
            "circuit_gates": gates,
        }

    # -- messages -----------------------------------------------------------------------
    @receives(BasisAnnounce)
    def _on_basis(self, message: BasisAnnounce) -> None:
        # sifting: this end now knows both bases; the oracle keeps the bits (see complete)
        self.announced += 1

    @receives(TeleportBits)
    def _on_teleport_bits(self, message: TeleportBits) -> None:
        self._bits_arrived(message.tenant, message.pair, message)

    @receives(FusionBits)
    def _on_fusion_bits(self, message: FusionBits) -> None:
        self._bits_arrived(message.tenant, message.pair, message)

    def _qfl_arrival(self, spec: TenantSpec, key: str, now: float) -> None:
        """At a QFL server: a client's teleported parameter has arrived (its half is
        corrected now); the aggregator says which updates and rounds it completes."""
        group = spec.group
        assert group is not None
        aggregator = self._aggregators.get(group.name)
        if aggregator is None:
            aggregator = self._aggregators[group.name] = qfl.Aggregator(group, spec.at_s)
        for event in aggregator.arrival(spec.src, key, now):
            self.env.emit(event)

    @receives(CatBit)
    def _on_cat_bit(self, message: CatBit) -> None:
        if message.step == 1:
            self._bits_arrived(message.tenant, message.pair, message)
            return
        gate, started = self._in_flight.pop(
            (message.tenant, message.pair), (message.gate, message.sent_at_s)
        )
        self.env.emit(
            records.GateDone(
                t_s=self.env.now(),
                tenant=message.tenant,
                pair=message.pair,
                gate=gate,
                started_s=started,
            )
        )
        if message.tenant in self._busy:
            self._busy.discard(message.tenant)
            self._serve(message.tenant)

    def _bits_arrived(self, tenant: str, key: str, message: Message) -> None:
        self._arrived[(tenant, key)] = message
        parked = self._parked.pop((tenant, key), None)
        if parked is not None:
            self._use(tenant, parked.held, parked.corrections, parked.chain)


def _source_first(record: PairRecord, src: str) -> np.ndarray:
    """The pair's matrix with the source's qubit first."""
    return record.rho if record.qubits[0][0] == src else exchange_qubits(record.rho)
