"""The plain logic of one quantum node: memories, heralds, cutoffs, swaps on instruction.

A :class:`Node` is composed of collaborators with explicit constructor arguments: its
:class:`~qnemu.node.memory.Memory` (the slots it knows to be full), its
:class:`~qnemu.node.link_layer.LinkLayer` (pair generation, and the heralding stations
it hosts) and its :class:`~qnemu.node.end_node.EndNode` side (corrections, purification,
delivery), which calls back only through the narrow
:class:`~qnemu.node.end_node.NodeServices`. The node itself keeps path setup, heralds,
cutoffs, discards, swaps its controller instructs, and the reports to that controller.

A node knows only what classical messages told it (heralds, swap outcomes, discards, free
modes, instructions) and its own memory slots. It asks its host's ground-truth store to
carry out quantum operations on its own qubits, and never reads a true state. Nothing
here imports Ray: the same class runs under the virtual-time scheduler in tests and in a
Ray actor under the real-time one.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

import numpy as np

from qnemu import records
from qnemu.control.api import PairHeralded, PairReleased, RequestArrived
from qnemu.node.announce import Announcer
from qnemu.node.dispatch import Handler, handler_table, receives
from qnemu.node.end_node import EndNode
from qnemu.node.environment import Environment, Scheduled
from qnemu.node.link_layer import LinkLayer
from qnemu.node.memory import HeldQubit, Memory
from qnemu.node.recovery import Recovery
from qnemu.planning.plan import NetworkPlan, NodePlan
from qnemu.scenario.service import tenant_from_dict
from qnemu.truth.store import (
    PairRecord,
    swap_records,
)
from qnemu.wire.messages import (
    Discard,
    DiscardInstruction,
    Herald,
    Message,
    OutcomeAck,
    PathReady,
    PathSetup,
    Report,
    SwapInstruction,
    SwapOutcome,
    TenantJoin,
    TenantLeave,
    TenantLeft,
)

#: A lost path setup is resent after this many round trips without an acknowledgement.
RESEND_FACTOR = 2.0


class Node:
    """One quantum node: its memory slots, the links it owns, the swaps its controller
    instructs (it never swaps on its own initiative), and its tenants' end-node side.

    Args:
        node_id: the node's name in the scenario.
        plan: the network plan (paths, links, controller sites, classical timing).
        env: the host running the node (clock, timers, sends, events, ground truth).
        rng: the node's own generator; its link layer and end-node side draw from it too,
            in the order events happen, so runs reproduce.

    ``ignored`` counts messages that changed nothing, by (reason, message type): a type
    with no handler here ("unknown"), a resent copy of one already handled ("duplicate"),
    an acknowledgement of nothing outstanding ("stale"). Counted rather than raised: a
    resent copy is normal when messages can be lost, and a stray message from a peer must
    not stop the node.
    """

    def __init__(
        self, node_id: str, plan: NetworkPlan, env: Environment, rng: np.random.Generator
    ) -> None:
        self.node_id = node_id
        plan = plan.node_view()  # this node's own view: tenants added live join it
        if plan.scenario.recovery:  # and its own routing, as it learns of faults
            plan = plan.own_routing()
        self.plan = plan
        self.me: NodePlan = plan.nodes[node_id]
        self.env = env
        self.rng = rng
        self.site = plan.site_of[node_id]
        self.memory = Memory()
        self.link_layer = LinkLayer(node_id, plan, env, rng)
        self.end_node = EndNode(node_id, plan, env, rng, self.memory, self)
        self.ignored: Counter[tuple[str, str]] = Counter()
        self.recovery = Recovery(self) if plan.scenario.recovery else None
        self._handlers: dict[type[Message], Handler] = handler_table(
            self,
            self.link_layer,
            self.end_node,
            self.end_node.apps,
            *(self.recovery.parts() if self.recovery is not None else ()),
        )
        self._news: tuple[list[list[Any]], list[list[Any]]] = ([], [])  # for the next report
        self._report_due: Scheduled | None = None
        self._unready: dict[str, dict[str, None]] = {}  # tenant -> nodes yet to acknowledge
        self._set_up: set[str] = set()  # tenants whose setup reached this node
        self._unconfirmed: dict[tuple[str, str, str], dict[str, Any]] = {}  # sent outcomes
        self._departed: set[str] = set()  # tenants that left (the service layer)
        self.announcer = Announcer(node_id, plan, env, self.send)  # live joins and leaves

    # -- start ---------------------------------------------------------------------------
    def start(self) -> None:
        """Announce the paths this node's controller routes; links start once set up;
        the tenants this node is the source of start asking for pairs."""
        self.end_node.start()
        if self.recovery is not None:
            self.recovery.start()
        for tenant, path in self.plan.paths.items():
            if self.plan.setup_node[tenant] != self.node_id:
                continue
            targets = dict.fromkeys(path)
            targets.update(dict.fromkeys(self.plan.site_of[n].location for n in path))
            self._unready[tenant] = dict.fromkeys(targets)  # ordered: runs reproduce
            self._arrive(tenant)

    # -- tenants arriving and leaving (the service layer) -----------------------------------
    def _arrive(self, tenant: str) -> None:
        """Announce a routed tenant's path at its ``at_s``; at its ``until_s`` tell the
        path it left. A tenant without either is announced at once, as always."""
        spec = self.end_node.spec(tenant)
        if spec.at_s <= 0.0 and spec.until_s is None:
            self._announce_path(tenant)
            return
        self.env.schedule(max(spec.at_s, self.env.now()), self._arrive_now, tenant, "scenario")
        if spec.until_s is not None:
            self.env.schedule(spec.until_s, self.remove_tenant, tenant, "scenario")

    def _arrive_now(self, tenant: str, origin: str) -> None:
        spec = self.end_node.spec(tenant)
        self.env.emit(
            records.TenantAdded(
                t_s=self.env.now(),
                node=self.node_id,
                tenant=tenant,
                origin=origin,
                app=spec.app,
                f_min=spec.f_min,
                path=list(self.plan.paths[tenant]),
                slice=spec.slice,
            )
        )
        self._announce_path(tenant)

    def add_tenant(self, spec: dict[str, Any], path: list[str], rounds: int) -> None:
        """The northbound API admitted a tenant that this node's controller routes: learn
        it, then announce it to its path with a :class:`TenantJoin` that carries its spec
        (the other nodes learn it from that message alone)."""
        tenant = spec["name"]
        self._learn_tenant(tenant, path, rounds, spec)
        targets = dict.fromkeys(path)
        targets.update(dict.fromkeys(self.plan.site_of[n].location for n in path))
        now = self.env.now()
        self.env.emit(
            records.TenantAdded(
                t_s=now,
                node=self.node_id,
                tenant=tenant,
                origin="api",
                app=spec["app"],
                f_min=spec["f_min"],
                path=list(path),
                slice=spec.get("slice"),
            )
        )
        self.announcer.announce(
            TenantJoin, tenant, targets, path=list(path), rounds=rounds, spec=spec
        )
        if spec.get("until_s") is not None:
            self.env.schedule(max(now, spec["until_s"]), self.remove_tenant, tenant, "api")

    def _learn_tenant(self, tenant: str, path: list[str], rounds: int, spec: dict) -> None:
        """Take a tenant added live into this node's own view of the plan."""
        if tenant in self.plan.paths:
            return
        self.plan.paths[tenant] = list(path)
        self.plan.rounds[tenant] = rounds
        self.plan.setup_node[tenant] = spec.get("setup_node", path[0])
        self.link_layer.learn_tenant(tenant, path, spec.get("slice"))
        self.end_node.learn_tenant(tenant_from_dict(spec), path)

    @receives(TenantJoin)
    def _on_tenant_join(self, message: TenantJoin) -> None:
        self._learn_tenant(message.tenant, list(message.path), message.rounds, message.spec)
        self._on_path_setup(
            PathSetup(
                src=message.src,
                dst=message.dst,
                sent_at_s=message.sent_at_s,
                deliver_at_s=message.deliver_at_s,
                tenant=message.tenant,
                path=list(message.path),
                rounds=message.rounds,
            )
        )

    def remove_tenant(self, tenant: str, origin: str) -> bool:
        """Tell ``tenant``'s path (and its controllers' nodes) that it left; False when
        this node does not route it or it left already."""
        if tenant not in self.plan.paths or tenant in self._departed:
            return False
        self._unready.pop(tenant, None)  # stop resending its setup
        self.announcer.cancel(TenantJoin.__name__, tenant)
        path = self.plan.paths[tenant]
        targets = dict.fromkeys(path)
        targets.update(dict.fromkeys(self.plan.site_of[n].location for n in path))
        self.env.emit(
            records.TenantRemoved(
                t_s=self.env.now(), node=self.node_id, tenant=tenant, origin=origin
            )
        )
        self.announcer.announce(TenantLeave, tenant, targets)
        if self.node_id not in targets:
            self._departed.add(tenant)
        return True

    @receives(TenantLeave)
    def _on_tenant_leave(self, message: TenantLeave) -> None:
        if self.plan.classical.loss > 0.0:  # the announcer resends until it hears this
            self.send(TenantLeft, message.src, tenant=message.tenant)
        if message.tenant in self._departed:
            self.ignore(message, "duplicate")
            return
        self._departed.add(message.tenant)
        self.link_layer.deactivate(message.tenant)
        self.end_node.leave(message.tenant)
        for held in list(self.memory.qubits()):
            if held.tenant == message.tenant and not held.busy:
                self.discard(held, "departed")

    @receives(TenantLeft)
    def _on_tenant_left(self, message: TenantLeft) -> None:
        if not self.announcer.acknowledged(TenantLeave.__name__, message.tenant, message.src):
            self.ignore(message, "stale")  # acknowledges a leave already acknowledged

    def _announce_path(self, tenant: str) -> None:
        """(Re)send a path setup to every node that has not acknowledged it, and check
        again after the longest round trip among them (lost setups are resent)."""
        waiting = self._unready.get(tenant)
        if not waiting:
            return
        path = self.plan.paths[tenant]
        for target in waiting:
            self.send(
                PathSetup, target, tenant=tenant, path=list(path), rounds=self.plan.rounds[tenant]
            )
        if self.plan.classical.loss > 0.0:
            round_trip = max(2.0 * self.plan.classical.delay_s(self.node_id, t) for t in waiting)
            self.env.schedule(
                self.env.now() + RESEND_FACTOR * round_trip + self.plan.classical.processing_s,
                self._announce_path,
                tenant,
            )

    @receives(PathSetup)
    def _on_path_setup(self, message: PathSetup) -> None:
        if message.epoch > 0 and self.recovery is not None:  # a re-route (faults)
            self.recovery.on_new_path(message)
            return
        now = self.env.now()
        if self.plan.classical.loss > 0.0:  # the announcer resends until it hears this
            self.send(PathReady, message.src, tenant=message.tenant)
        if message.tenant in self._set_up:
            self.ignore(message, "duplicate")  # a resent setup whose first copy arrived
            return
        self._set_up.add(message.tenant)
        self.env.emit(
            records.PathSetup(
                t_s=now, node=self.node_id, tenant=message.tenant, path=list(message.path)
            )
        )
        for host in self.env.local_controllers():
            if host.site.location == self.node_id and host.site.served & set(message.path):
                host.dispatch([RequestArrived(now, message.tenant, tuple(message.path))])
        if self.node_id in message.path:
            self.link_layer.activate(message.tenant)

    # -- resending swap outcomes (only when classical messages can be lost) ---------------------
    def _schedule_resend(self, key: tuple[str, str, str], give_up_s: float) -> None:
        end = key[0]
        round_trip = 2.0 * self.plan.classical.delay_s(self.node_id, end)
        at = self.env.now() + RESEND_FACTOR * round_trip + self.plan.classical.processing_s
        if at <= give_up_s:
            self.env.schedule(at, self._resend_outcome, key, give_up_s)
        else:
            self._unconfirmed.pop(key, None)

    def _resend_outcome(self, key: tuple[str, str, str], give_up_s: float) -> None:
        fields = self._unconfirmed.get(key)
        if fields is None:
            return  # confirmed
        self.send(SwapOutcome, key[0], **fields)
        self._schedule_resend(key, give_up_s)

    @receives(PathReady)
    def _on_path_ready(self, message: PathReady) -> None:
        if message.epoch > 0 and self.recovery is not None:  # acknowledges a re-route
            self.recovery.on_ready(message)
            return
        if self.announcer.acknowledged(TenantJoin.__name__, message.tenant, message.src):
            return  # a live tenant's join
        waiting = self._unready.get(message.tenant, {})
        if message.src not in waiting:
            self.ignore(message, "stale")  # acknowledges a setup already acknowledged
            return
        del waiting[message.src]

    @receives(OutcomeAck)
    def _on_outcome_ack(self, message: OutcomeAck) -> None:
        key = (message.src, message.left_pair, message.right_pair)
        if self._unconfirmed.pop(key, None) is None:
            self.ignore(message, "stale")  # confirmed already, or given up on

    def release_slot(self, held: HeldQubit, reason: str) -> None:
        """Free a memory slot, tell the link's owner and this node's controller."""
        self.memory.release(held)
        self._announce_released(held.link_pair, reason)
        if held.cutoff is not None:
            held.cutoff.cancel()
        self.link_layer.free_slot(held.neighbor, held.slot)

    # -- messages --------------------------------------------------------------------------
    def receive(self, message: Message) -> None:
        """Act on a classical message released at its delivery time."""
        handler = self._handlers.get(type(message))
        if handler is None:
            self.ignore(message, "unknown")
            return
        handler(message)

    def ignore(self, message: Message, reason: str) -> None:
        """Count a message that changes nothing here (see ``ignored``)."""
        self.ignored[reason, type(message).__name__] += 1

    def send(self, cls: type[Message], dst: str, at: float | None = None, **fields: Any) -> None:
        """Send at emulated time ``at`` (default: now); operations that completed after a
        ground-truth hand-over still send at the time the node decided."""
        now = self.env.now() if at is None else at
        delay = self.plan.classical.sample_delay_s(self.rng, self.node_id, dst)
        if delay is not None and self.recovery is not None and not self.recovery.carries(dst):
            delay = None  # a fault on its route (the route is this node's choice)
        if delay is None:
            self.env.emit(
                records.MessageLost(t_s=now, node=self.node_id, dst=dst, kind=cls.__name__)
            )
            return
        self.env.send(
            cls(src=self.node_id, dst=dst, sent_at_s=now, deliver_at_s=now + delay, **fields)
        )

    @receives(Herald)
    def _on_herald(self, message: Herald) -> None:
        now = self.env.now()
        held = HeldQubit(
            message.slot,
            message.link_pair,
            message.neighbor,
            message.tenant,
            message.created_at_s,
            now,
        )
        self.memory.hold(held)
        self.env.store.expect((self.node_id, held.link_pair), message.owner_host)
        self.env.emit(
            records.Herald(
                t_s=now,
                node=self.node_id,
                pair=held.link_pair,
                created_s=held.created_at_s,
                tenant=held.tenant,
                occupied=self.memory.occupied,
            )
        )
        expiry = held.created_at_s + self.me.links[held.neighbor].cutoff_s
        if now >= expiry:
            self.violation("herald_late", held.tenant, waited_s=now - held.created_at_s)
            self.discard(held, "herald_late")
            return
        if math.isfinite(expiry):
            held.cutoff = self.env.schedule(expiry, self._on_cutoff, held)
        self._announce_heralded(held)
        self.end_node.progress(held.tenant, held.link_pair)

    def _on_cutoff(self, held: HeldQubit) -> None:
        held.cutoff = None
        if self.memory.at(held.slot) is not held:
            return
        if held.busy and not held.complete:  # being swapped or used: too late to drop
            return
        if self.end_node.unstock(held):  # complete, but no request came for it in time
            self.discard(held, "unrequested", tell_partner=False)
            return
        self.end_node.dropped_at_cutoff(held)
        if self.me.links[held.neighbor].expires_by == "timeout":
            self.discard(held, "timeout")  # a lost message, not decoherence
            return
        self.violation("cutoff_expired", held.tenant, waited_s=self.env.now() - held.created_at_s)
        self.discard(held, "cutoff")

    @receives(DiscardInstruction)
    def _on_discard_instruction(self, message: DiscardInstruction) -> None:
        held = self.memory.holding(message.link_pair)
        if held is not None and not held.busy:
            self.discard(held, "controller")

    @receives(Discard)
    def _on_discard(self, message: Discard) -> None:
        for held in self.memory.qubits():
            if held.link_pair == message.link_pair and not held.busy:
                self.discard(held, f"partner_{message.reason}", tell_partner=False)

    def discard(self, held: HeldQubit, reason: str, tell_partner: bool = True) -> None:
        """Drop the qubit of ``held``: measure it out of its pair in the ground truth, free
        its slot, and (unless the partner told us) tell the link partner."""
        self.end_node.forget(held)
        held.busy = True
        now = self.env.now()
        qubit = (self.node_id, held.link_pair)

        def reset(record: PairRecord) -> None:
            record.advance(record.index(qubit), now)
            record.frozen[record.index(qubit)] = True
            record.broken = True
            if all(record.frozen):
                self.env.store.remove(record)
            self.env.store.forget_qubit(qubit)

        self.env.store.operate([qubit], reset)
        self.release_slot(held, reason)
        self.env.emit(
            records.Discard(
                t_s=now,
                node=self.node_id,
                pair=held.link_pair,
                tenant=held.tenant,
                reason=reason,
                waited_s=now - held.created_at_s,
                occupied=self.memory.occupied,
            )
        )
        if tell_partner:
            self.send(Discard, held.neighbor, link_pair=held.link_pair, reason=reason)

    def violation(self, kind: str, tenant: str | None, **detail: Any) -> None:
        """Record a violation observed here, with this node's controller site; ``detail``:
        the :class:`~qnemu.records.Violation` fields the kind has."""
        self.env.emit(
            records.Violation(
                t_s=self.env.now(),
                kind=kind,
                node=self.node_id,
                tenant=tenant,
                site=self.site.name,
                controller=self.plan.scenario.control.architecture,
                **detail,
            )
        )

    # -- the controller's side -----------------------------------------------------------------
    def _announce_heralded(self, held: HeldQubit) -> None:
        """Tell this node's controller ``held`` is ready to swap: at once if it runs here,
        else in the next report."""
        now = self.env.now()
        if self.site.location == self.node_id:
            self.env.controller(self.site.name).dispatch(
                [
                    PairHeralded(
                        now,
                        self.node_id,
                        held.link_pair,
                        held.neighbor,
                        held.tenant,
                        held.created_at_s,
                        held.known_at_s,
                    )
                ]
            )
            return
        self._news[0].append(
            [held.link_pair, held.neighbor, held.tenant, held.created_at_s, held.known_at_s]
        )
        self._report_by(now)

    def _announce_released(self, link_pair: str, reason: str) -> None:
        """Tell this node's controller a slot emptied: at once if it runs here, else in the
        next report."""
        now = self.env.now()
        if self.site.location == self.node_id:
            self.env.controller(self.site.name).dispatch(
                [PairReleased(now, self.node_id, link_pair, reason)]
            )
            return
        self._news[1].append([link_pair, reason])
        self._report_by(now)

    def _report_by(self, now: float) -> None:
        """Send the news in one report an interval after the first of it."""
        if self._report_due is None:
            interval = self.plan.scenario.control.report_interval_s
            self._report_due = self.env.schedule(now + interval, self._report)

    def _report(self) -> None:
        self._report_due = None
        heralded, released = self._news
        self._news = ([], [])
        self.send(
            Report,
            self.site.location,
            site=self.site.name,
            heralded=heralded,
            released=released,
            occupied=self.memory.occupied,
        )

    @receives(SwapInstruction)
    def _on_instruction(self, message: SwapInstruction) -> None:
        now = self.env.now()
        left = self.memory.holding(message.left_pair)
        right = self.memory.holding(message.right_pair)
        if left is None or right is None or left.busy or right.busy:
            missing = [
                p
                for p, h in ((message.left_pair, left), (message.right_pair, right))
                if h is None or h.busy
            ]
            self.violation("controller_late", message.tenant, missing=missing)
            for survivor in (left, right):
                if survivor is not None and not survivor.busy:
                    self._announce_heralded(survivor)  # back into the controller's view
            return
        self.env.emit(
            records.Decision(
                t_s=now,
                node=self.node_id,
                site=message.site,
                controller=self.plan.scenario.control.architecture,
                tenant=message.tenant,
                latency_s=now - max(left.known_at_s, right.known_at_s),
                compute_s=message.compute_s,
            )
        )
        self._swap(message.tenant, left, right)

    def _swap(self, tenant: str, left: HeldQubit, right: HeldQubit) -> None:
        left.busy = right.busy = True
        now = self.env.now()
        success = self.rng.random() < self.me.swap_success
        profile = self.me.profile
        q_left, q_right = (self.node_id, left.link_pair), (self.node_id, right.link_pair)
        src, dst = self.plan.paths[tenant][0], self.plan.paths[tenant][-1]

        def operation(rec_left: PairRecord, rec_right: PairRecord) -> None:
            store = self.env.store
            store.remove(rec_left)
            store.remove(rec_right)
            outcome = 0
            if rec_left is rec_right:  # both halves of one pair: a loop, nothing to extend
                success_here = False
            else:
                success_here = success
                outcome, merged = swap_records(
                    rec_left,
                    q_left,
                    rec_right,
                    q_right,
                    now,
                    self.rng,
                    profile.gate_error,
                    profile.measurement_error,
                )
                merged.broken = merged.broken or not success
                if not all(merged.frozen):
                    store.add(merged)
            store.forget_qubit(q_left)
            store.forget_qubit(q_right)
            for end in (src, dst):
                fields = {
                    "tenant": tenant,
                    "repeater": self.node_id,
                    "left_pair": left.link_pair,
                    "right_pair": right.link_pair,
                    "outcome": outcome,
                    "success": success_here,
                }
                self.send(SwapOutcome, end, at=now, **fields)
                if self.plan.classical.loss > 0.0:  # resent until the end confirms it
                    key = (end, left.link_pair, right.link_pair)
                    self._unconfirmed[key] = fields
                    # worth resending while an end may still hold the qubit it completes
                    # (its link's cutoff, finite whenever messages can be lost)
                    self._schedule_resend(key, now + self.me.longest_cutoff_s)

        self.env.store.operate([q_left, q_right], operation)
        self.release_slot(left, "swapped")
        self.release_slot(right, "swapped")
        self.env.emit(
            records.Swap(
                t_s=now,
                node=self.node_id,
                tenant=tenant,
                left_pair=left.link_pair,
                right_pair=right.link_pair,
                left_known_s=left.known_at_s,
                right_known_s=right.known_at_s,
                ages_s=[now - left.created_at_s, now - right.created_at_s],
                success=success,
                occupied=self.memory.occupied,
            )
        )
