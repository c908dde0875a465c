"""The plain logic of one quantum node: memories, heralds, cutoffs, swaps on instruction.

The link layer (``linklayer.py``) and the end-node side (``endnode.py``: corrections,
purification, delivery) are mixed in. A :class:`Node` knows only what classical messages
told it (heralds, swap outcomes, discards, free modes, instructions) and its own memory
slots. It asks its host's ground-truth store to carry out quantum operations on its own
qubits, and never reads a true state. Nothing here imports Ray: the same class runs under
the virtual-time scheduler in tests and in a Ray actor under the real-time one.
"""

from __future__ import annotations

import math
from collections import deque
from typing import Any

import numpy as np

from qnemu.control.api import PairHeralded, PairReleased, RequestArrived, tenant_roles
from qnemu.node.end_node import EndNode, EndPair
from qnemu.node.environment import Environment, Scheduled
from qnemu.node.link_layer import LinkGenerator, LinkLayer
from qnemu.node.memory import HeldQubit
from qnemu.planning.plan import NetworkPlan
from qnemu.truth.store import (
    PairRecord,
    swap_records,
)
from qnemu.wire.messages import (
    Discard,
    DiscardInstruction,
    Herald,
    Message,
    ModeFree,
    OutcomeAck,
    PathReady,
    PathSetup,
    PurifyRequest,
    PurifyResult,
    Report,
    SwapInstruction,
    SwapOutcome,
)

#: A lost path setup is resent after this many round trips without an acknowledgement.
RESEND_FACTOR = 2.0


class Node(LinkLayer, EndNode):
    """One quantum node: its memory slots, the links it owns, swap-ASAP for its tenants."""

    def __init__(self, node_id: str, plan: NetworkPlan, env: Environment,
                 rng: np.random.Generator) -> None:
        self.id = node_id
        self.plan = plan
        self.me = plan.nodes[node_id]
        self.env = env
        self.rng = rng
        self.held: dict[int, HeldQubit] = {}
        self.generators = {lp.name: LinkGenerator(lp) for lp in self.me.links.values()
                           if lp.a == node_id}
        self.roles = tenant_roles(plan.paths, node_id)
        self._outcomes: dict[str, dict[str, list[SwapOutcome]]] = {t: {} for t in self.roles}
        self.site = plan.site_of[node_id]
        self.active: set[str] = set()  # tenants whose path setup reached this node
        self._news: tuple[list[list], list[list]] = ([], [])  # for the next report
        self._report_due: Scheduled | None = None
        self._expired: set[str] = set()  # link pairs this end dropped at its cutoff
        self._end_pairs: dict[str, dict[str, EndPair]] = {t: {} for t in self.roles}
        self._deferred: dict[str, list[PurifyRequest]] = {t: [] for t in self.roles}
        self._links_started: set[str] = set()  # links whose memories this end has freed
        self._unready: dict[str, dict[str, None]] = {}  # tenant -> nodes yet to acknowledge
        self._set_up: set[str] = set()  # tenants whose setup reached this node
        self._unconfirmed: dict[tuple[str, str, str], dict[str, Any]] = {}  # sent outcomes
        self._seen_outcomes: set[tuple[str, str, str]] = set()  # outcomes received here
        self._specs = {t.name: t for t in plan.scenario.tenants}
        sources = [t for t, path in plan.paths.items() if path[0] == node_id]
        self._requests: dict[str, deque[float]] = {t: deque() for t in sources}
        self._stock: dict[str, list[tuple[HeldQubit, list[list[str]]]]] = {
            t: [] for t in sources}

    # -- start ---------------------------------------------------------------------------
    def start(self) -> None:
        """Announce the paths this node's controller routes; links start once set up;
        the tenants this node is the source of start asking for pairs."""
        for tenant in self._requests:
            self._next_request(tenant)
        for tenant, path in self.plan.paths.items():
            if self.plan.setup_node[tenant] != self.id:
                continue
            targets = dict.fromkeys(path)
            targets.update(dict.fromkeys(self.plan.site_of[n].location for n in path))
            self._unready[tenant] = dict.fromkeys(targets)  # ordered: runs reproduce
            self._announce_path(tenant)

    def _announce_path(self, tenant: str) -> None:
        """(Re)send a path setup to every node that has not acknowledged it, and check
        again after the longest round trip among them (lost setups are resent)."""
        waiting = self._unready.get(tenant)
        if not waiting:
            return
        path = self.plan.paths[tenant]
        for target in waiting:
            self._send(PathSetup, target, tenant=tenant, path=list(path),
                       rounds=self.plan.rounds[tenant])
        if self.plan.classical.loss > 0.0:
            round_trip = max(2.0 * self.plan.classical.delay_s(self.id, t) for t in waiting)
            self.env.schedule(self.env.now() + RESEND_FACTOR * round_trip
                              + self.plan.classical.processing_s, self._announce_path, tenant)

    def _on_path_setup(self, message: PathSetup) -> None:
        now = self.env.now()
        if self.plan.classical.loss > 0.0:  # the announcer resends until it hears this
            self._send(PathReady, message.src, tenant=message.tenant)
        if message.tenant in self._set_up:
            return  # a resent setup whose first copy arrived
        self._set_up.add(message.tenant)
        self.env.emit({"event": "path_setup", "t_s": now, "node": self.id,
                       "tenant": message.tenant, "path": message.path})
        for host in self.env.local_controllers():
            if host.site.location == self.id and host.site.served & set(message.path):
                host.dispatch([RequestArrived(now, message.tenant, tuple(message.path))])
        if self.id not in message.path or message.tenant in self.active:
            return
        self.active.add(message.tenant)
        self._start_links(message.tenant)

    # -- resending swap outcomes (only when classical messages can be lost) ---------------------
    def _schedule_resend(self, key: tuple[str, str, str], give_up_s: float) -> None:
        end = key[0]
        round_trip = 2.0 * self.plan.classical.delay_s(self.id, end)
        at = self.env.now() + RESEND_FACTOR * round_trip + self.plan.classical.processing_s
        if at <= give_up_s:
            self.env.schedule(at, self._resend_outcome, key, give_up_s)
        else:
            self._unconfirmed.pop(key, None)

    def _resend_outcome(self, key: tuple[str, str, str], give_up_s: float) -> None:
        fields = self._unconfirmed.get(key)
        if fields is None:
            return  # confirmed
        self._send(SwapOutcome, key[0], **fields)
        self._schedule_resend(key, give_up_s)

    def _on_path_ready(self, message: PathReady) -> None:
        self._unready.get(message.tenant, {}).pop(message.src, None)

    def _release_slot(self, held: HeldQubit, reason: str) -> None:
        """Free a memory slot, tell the link's owner and this node's controller."""
        self.held.pop(held.slot, None)
        self._announce(released=[held.link_pair, reason])
        if held.cutoff is not None:
            held.cutoff.cancel()
        lp = self.me.links[held.neighbor]
        self._free_mode(lp, lp.slots_at(self.id).index(held.slot))

    # -- messages --------------------------------------------------------------------------
    def receive(self, message: Message) -> None:
        """Act on a classical message released at its delivery time."""
        if isinstance(message, Herald):
            self._on_herald(message)
        elif isinstance(message, SwapOutcome):
            self._on_outcome(message)
        elif isinstance(message, ModeFree):
            self._on_mode_free(message)
        elif isinstance(message, Discard):
            self._on_discard(message)
        elif isinstance(message, SwapInstruction):
            self._on_instruction(message)
        elif isinstance(message, DiscardInstruction):
            held = self._holding(message.link_pair)
            if held is not None and not held.busy:
                self._discard(held, "controller")
        elif isinstance(message, PathSetup):
            self._on_path_setup(message)
        elif isinstance(message, PathReady):
            self._on_path_ready(message)
        elif isinstance(message, OutcomeAck):
            self._unconfirmed.pop((message.src, message.left_pair, message.right_pair), None)
        elif isinstance(message, PurifyRequest):
            self._on_purify_request(message)
        elif isinstance(message, PurifyResult):
            self._on_purify_result(message)
        else:
            raise TypeError(f"node {self.id}: no handler for {type(message).__name__}")

    def _send(self, cls: type[Message], dst: str, at: float | None = None,
              **fields: Any) -> None:
        """Send at emulated time ``at`` (default: now); operations that completed after a
        ground-truth hand-over still send at the time the node decided."""
        now = self.env.now() if at is None else at
        delay = self.plan.classical.sample_delay_s(self.rng, self.id, dst)
        if delay is None:
            self.env.emit({"event": "message_lost", "t_s": now, "node": self.id, "dst": dst,
                           "kind": cls.__name__})
            return
        self.env.send(cls(src=self.id, dst=dst, sent_at_s=now, deliver_at_s=now + delay,
                          **fields))

    def _on_herald(self, message: Herald) -> None:
        now = self.env.now()
        held = HeldQubit(message.slot, message.link_pair, message.neighbor, message.tenant,
                         message.created_at_s, now)
        self.held[held.slot] = held
        self.env.store.expect((self.id, held.link_pair), message.owner_host)
        self.env.emit({"event": "herald", "t_s": now, "node": self.id, "pair": held.link_pair,
                       "created_s": held.created_at_s, "tenant": held.tenant,
                       "occupied": len(self.held)})
        expiry = held.created_at_s + self.me.links[held.neighbor].cutoff_s
        if now >= expiry:
            self._violation("herald_late", held.tenant, waited_s=now - held.created_at_s)
            self._discard(held, "herald_late")
            return
        if math.isfinite(expiry):
            held.cutoff = self.env.schedule(expiry, self._on_cutoff, held)
        self._announce(heralded=held)
        self._progress(held.tenant)

    def _on_cutoff(self, held: HeldQubit) -> None:
        held.cutoff = None
        if self.held.get(held.slot) is not held:
            return
        if held.busy and not held.complete:  # being swapped or used: too late to drop
            return
        if self._unstock(held):  # complete, but no request came for it in time
            self._discard(held, "unrequested", tell_partner=False)
            return
        if None in self.roles[held.tenant]:
            self._expired.add(held.link_pair)
        if self.me.links[held.neighbor].expires_by == "timeout":
            self._discard(held, "timeout")  # a lost message, not decoherence
            return
        self._violation("cutoff_expired", held.tenant, waited_s=self.env.now() - held.created_at_s)
        self._discard(held, "cutoff")

    def _on_discard(self, message: Discard) -> None:
        for held in list(self.held.values()):
            if held.link_pair == message.link_pair and not held.busy:
                self._discard(held, f"partner_{message.reason}", tell_partner=False)

    def _discard(self, held: HeldQubit, reason: str, tell_partner: bool = True) -> None:
        self._unstock(held)
        for pairs in self._end_pairs.values():
            for key, pair in list(pairs.items()):
                if pair.held is held:
                    del pairs[key]
        held.busy = True
        now = self.env.now()
        qubit = (self.id, held.link_pair)

        def reset(record: PairRecord) -> None:
            record.advance(record.index(qubit), now)
            record.frozen[record.index(qubit)] = True
            record.broken = True
            if all(record.frozen):
                self.env.store.remove(record)
            self.env.store.forget_qubit(qubit)

        self.env.store.operate([qubit], reset)
        self._release_slot(held, reason)
        self.env.emit({"event": "discard", "t_s": now, "node": self.id, "pair": held.link_pair,
                       "tenant": held.tenant, "reason": reason,
                       "waited_s": now - held.created_at_s, "occupied": len(self.held)})
        if tell_partner:
            self._send(Discard, held.neighbor, link_pair=held.link_pair, reason=reason)

    def _violation(self, kind: str, tenant: str, **detail: Any) -> None:
        self.env.emit({"event": "violation", "kind": kind, "t_s": self.env.now(), "node": self.id,
                       "tenant": tenant, "site": self.site.name,
                       "controller": self.plan.scenario.control.architecture, **detail})

    # -- the controller's side -----------------------------------------------------------------
    def _announce(self, heralded: HeldQubit | None = None,
                  released: list | None = None) -> None:
        """Tell this node's controller: at once if it runs here, else in the next report."""
        now = self.env.now()
        if self.site.location == self.id:
            if heralded is not None:
                event = PairHeralded(now, self.id, heralded.link_pair, heralded.neighbor,
                                     heralded.tenant, heralded.created_at_s, heralded.known_at_s)
            else:
                event = PairReleased(now, self.id, released[0], released[1])
            self.env.controller(self.site.name).dispatch([event])
            return
        if heralded is not None:
            self._news[0].append([heralded.link_pair, heralded.neighbor, heralded.tenant,
                                  heralded.created_at_s, heralded.known_at_s])
        else:
            self._news[1].append(released)
        if self._report_due is None:
            interval = self.plan.scenario.control.report_interval_s
            self._report_due = self.env.schedule(now + interval, self._report)

    def _report(self) -> None:
        self._report_due = None
        heralded, released = self._news
        self._news = ([], [])
        self._send(Report, self.site.location, site=self.site.name, heralded=heralded,
                   released=released, occupied=len(self.held))

    def _holding(self, link_pair: str) -> HeldQubit | None:
        return next((h for h in self.held.values() if h.link_pair == link_pair), None)

    def _on_instruction(self, message: SwapInstruction) -> None:
        now = self.env.now()
        left, right = self._holding(message.left_pair), self._holding(message.right_pair)
        if left is None or right is None or left.busy or right.busy:
            missing = [p for p, h in ((message.left_pair, left), (message.right_pair, right))
                       if h is None or h.busy]
            self._violation("controller_late", message.tenant, missing=missing)
            for survivor in (left, right):
                if survivor is not None and not survivor.busy:
                    self._announce(heralded=survivor)  # back into the controller's view
            return
        self.env.emit({"event": "decision", "t_s": now, "node": self.id,
                       "controller": message.site, "tenant": message.tenant,
                       "latency_s": now - max(left.known_at_s, right.known_at_s),
                       "compute_s": message.compute_s})
        self._swap(message.tenant, left, right)

    def _swap(self, tenant: str, left: HeldQubit, right: HeldQubit) -> None:
        left.busy = right.busy = True
        now = self.env.now()
        success = self.rng.random() < self.me.swap_success
        profile = self.me.profile
        q_left, q_right = (self.id, left.link_pair), (self.id, right.link_pair)
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
                outcome, merged = swap_records(rec_left, q_left, rec_right, q_right, now,
                                               self.rng, profile.gate_error,
                                               profile.measurement_error)
                merged.broken = merged.broken or not success
                if not all(merged.frozen):
                    store.add(merged)
            store.forget_qubit(q_left)
            store.forget_qubit(q_right)
            for end in (src, dst):
                fields = {"tenant": tenant, "repeater": self.id, "left_pair": left.link_pair,
                          "right_pair": right.link_pair, "outcome": outcome,
                          "success": success_here}
                self._send(SwapOutcome, end, at=now, **fields)
                if self.plan.classical.loss > 0.0:  # resent until the end confirms it
                    key = (end, left.link_pair, right.link_pair)
                    self._unconfirmed[key] = fields
                    # worth resending while an end may still hold the qubit it completes
                    # (its link's cutoff, finite whenever messages can be lost)
                    self._schedule_resend(key, now + self.me.longest_cutoff_s)

        self.env.store.operate([q_left, q_right], operation)
        self._release_slot(left, "swapped")
        self._release_slot(right, "swapped")
        self.env.emit({"event": "swap", "t_s": now, "node": self.id, "tenant": tenant,
                       "left_pair": left.link_pair, "right_pair": right.link_pair,
                       "left_known_s": left.known_at_s, "right_known_s": right.known_at_s,
                       "ages_s": [now - left.created_at_s, now - right.created_at_s],
                       "success": success, "occupied": len(self.held)})
