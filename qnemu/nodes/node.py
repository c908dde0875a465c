"""The plain logic of one quantum node: link layer, swap-ASAP, corrections, cutoffs.

A :class:`Node` knows only what classical messages told it (heralds, swap outcomes,
discards, free modes) and its own memory slots. It asks its host's ground-truth store to
carry out quantum operations on its own qubits, and never reads a true state. Nothing
here imports Ray: the same class runs under the virtual-time scheduler in tests and in a
Ray actor under the real-time one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from qnemu.controller.base import PairHeralded, PairReleased, RequestArrived
from qnemu.messages import (
    Discard,
    Herald,
    Message,
    ModeFree,
    PathSetup,
    PurifyRequest,
    PurifyResult,
    Report,
    SwapInstruction,
    SwapOutcome,
)
from qnemu.nodes.groundtruth import (
    GroundTruthStore,
    PairRecord,
    correct_qubit,
    purify_records,
    swap_records,
    true_fidelity,
    use_qubit,
)
from qnemu.nodes.plan import LinkPlan, NetworkPlan
from qnemu.physics.link import multiplexed_success_probability, sample_time_to_success
from qnemu.runtime.scheduler import Event


class Environment(Protocol):
    """What a node needs from the host that runs it."""

    host_id: int
    store: GroundTruthStore

    def now(self) -> float: ...
    def schedule(self, time_s: float, callback: Any, *args: Any) -> Event: ...
    def send(self, message: Message) -> None: ...
    def emit(self, event: dict[str, Any]) -> None: ...
    def host_of(self, node: str) -> int: ...
    def controller(self, site: str) -> Any: ...
    def local_controllers(self) -> list[Any]: ...


@dataclass
class HeldQubit:
    """A memory slot holding one half of a heralded link pair, as the node knows it."""

    slot: int
    link_pair: str
    neighbor: str
    tenant: str
    created_at_s: float
    known_at_s: float
    cutoff: Event | None = None
    busy: bool = False
    complete: bool = False  # an end node knows the whole end-to-end pair it belongs to


@dataclass
class EndPair:
    """An end node's half of a complete end-to-end pair awaiting purification.

    ``key`` names the pair at both ends (its first hop's link pair); ``level`` counts the
    purification rounds it has survived.
    """

    key: str
    held: HeldQubit
    level: int
    chain: list[list[str]]


class _LinkGenerator:
    """The owner's side of a link: which mode pairs are free, the next sampled success."""

    def __init__(self, plan: LinkPlan) -> None:
        self.plan = plan
        self.mine_free = [True] * plan.modes
        self.theirs_free = [True] * plan.modes
        self.pending: Event | None = None
        self.sequence = 0
        self.round_robin = 0
        self.attempts = 0  # attempts the pending success took (for the record)

    def free_modes(self) -> list[int]:
        return [j for j in range(self.plan.modes) if self.mine_free[j] and self.theirs_free[j]]

    def next_tenant(self, active: set[str]) -> str | None:
        """Round-robin over the link's tenants whose path is set up."""
        ready = [t for t in self.plan.tenants if t in active]
        if not ready:
            return None
        self.round_robin += 1
        return ready[(self.round_robin - 1) % len(ready)]


class Node:
    """One quantum node: its memory slots, the links it owns, swap-ASAP for its tenants."""

    def __init__(self, node_id: str, plan: NetworkPlan, env: Environment,
                 rng: np.random.Generator) -> None:
        self.id = node_id
        self.plan = plan
        self.me = plan.nodes[node_id]
        self.env = env
        self.rng = rng
        self.held: dict[int, HeldQubit] = {}
        self.generators = {lp.name: _LinkGenerator(lp) for lp in self.me.links.values()
                           if lp.a == node_id}
        self.roles: dict[str, tuple[str | None, str | None]] = {}
        for tenant, path in plan.paths.items():
            if node_id in path:
                i = path.index(node_id)
                self.roles[tenant] = (path[i - 1] if i > 0 else None,
                                      path[i + 1] if i + 1 < len(path) else None)
        self._outcomes: dict[str, dict[str, list[SwapOutcome]]] = {t: {} for t in self.roles}
        self.site = plan.site_of[node_id]
        self.active: set[str] = set()  # tenants whose path setup reached this node
        self._news: tuple[list[list], list[list]] = ([], [])  # for the next report
        self._report_due: Event | None = None
        self._expired: set[str] = set()  # link pairs this end dropped at its cutoff
        self._end_pairs: dict[str, dict[str, EndPair]] = {t: {} for t in self.roles}
        self._deferred: dict[str, list[PurifyRequest]] = {t: [] for t in self.roles}

    # -- start ---------------------------------------------------------------------------
    def start(self) -> None:
        """Announce the paths this node's controller routes; links start once set up."""
        for tenant, path in self.plan.paths.items():
            if self.plan.setup_node[tenant] != self.id:
                continue
            targets = dict.fromkeys(path)
            targets.update(dict.fromkeys(self.plan.site_of[n].location for n in path))
            for target in targets:
                self._send(PathSetup, target, tenant=tenant, path=list(path),
                           rounds=self.plan.rounds[tenant])

    def _on_path_setup(self, message: PathSetup) -> None:
        now = self.env.now()
        self.env.emit({"event": "path_setup", "t_s": now, "node": self.id,
                       "tenant": message.tenant, "path": message.path})
        for host in self.env.local_controllers():
            if host.site.location == self.id and host.site.served & set(message.path):
                host.dispatch([RequestArrived(now, message.tenant, tuple(message.path))])
        if self.id not in message.path or message.tenant in self.active:
            return
        self.active.add(message.tenant)
        for generator in self.generators.values():
            if message.tenant in generator.plan.tenants:
                self._generate(generator)

    # -- link layer (owner side) -----------------------------------------------------------
    def _generate(self, generator: _LinkGenerator) -> None:
        if generator.pending is not None:
            generator.pending.cancel()
            generator.pending = None
        free = generator.free_modes()
        if not free or not any(t in self.active for t in generator.plan.tenants):
            return
        model = generator.plan.model
        now = self.env.now()
        slot = self.plan.slot_s
        if slot is None:
            wait = sample_time_to_success(self.rng, model.p_attempt, model.period_s,
                                          modes=len(free))
            generator.attempts = round(wait / model.period_s)
            at = now + wait
        else:  # synchronous: one attempt per free mode at each slot boundary
            slots = int(self.rng.geometric(multiplexed_success_probability(model.p_attempt,
                                                                            len(free))))
            generator.attempts = slots
            at = (math.ceil(now / slot - 1e-9) + slots - 1) * slot
        generator.pending = self.env.schedule(at, self._link_success, generator)

    def _link_success(self, generator: _LinkGenerator) -> None:
        generator.pending = None
        lp = generator.plan
        mode = generator.free_modes()[0]
        tenant = generator.next_tenant(self.active)
        generator.mine_free[mode] = generator.theirs_free[mode] = False
        generator.sequence += 1
        pair = f"{lp.name}#{generator.sequence}"
        now = self.env.now()
        if self.plan.slot_s is not None:  # the far end drops its half by the slot's end
            self.env.schedule(now + self.plan.slot_s, self._mode_freed, lp.name, mode, False)
        a_profile, b_profile = self.plan.nodes[lp.a].profile, self.plan.nodes[lp.b].profile
        holder = self.env.host_of(self._first_user(lp, tenant))
        self.env.store.place(PairRecord(
            pair_id=pair, qubits=[(lp.a, pair), (lp.b, pair)], rho=lp.model.initial_state(),
            updated_at_s=[now, now], t1_s=[a_profile.t1_s, b_profile.t1_s],
            t2_s=[a_profile.t2_s, b_profile.t2_s], link_pairs=[pair], created_at_s=now,
        ), holder)
        self.env.emit({"event": "pair_generated", "t_s": now, "link": lp.name, "pair": pair,
                       "tenant": tenant, "attempts": generator.attempts})
        arrive = now + lp.model.herald_delay_s + self.plan.classical.processing_s
        for end, slot in ((lp.a, lp.slots_a[mode]), (lp.b, lp.slots_b[mode])):
            self.env.send(Herald(src=self.id, dst=end, sent_at_s=now, deliver_at_s=arrive,
                                 link_pair=pair, neighbor=lp.other(end), slot=slot,
                                 tenant=tenant, created_at_s=now, owner_host=holder))
        self._generate(generator)

    def _first_user(self, lp: LinkPlan, tenant: str) -> str:
        """The end of a new link pair likely to operate on it first: a repeater swaps
        before an end node uses, so the true state starts where it will be needed."""
        repeaters = self.plan.paths[tenant][1:-1]
        if lp.a not in repeaters and lp.b in repeaters:
            return lp.b
        return lp.a

    def _mode_freed(self, link: str, mode: int, mine: bool, by_message: bool = False) -> None:
        if by_message and self.plan.slot_s is not None:
            return  # synchronous: the owner frees the far half at the slot's end itself
        generator = self.generators[link]
        if mine:
            generator.mine_free[mode] = True
        else:
            generator.theirs_free[mode] = True
        self._generate(generator)

    def _release_slot(self, held: HeldQubit, reason: str) -> None:
        """Free a memory slot, tell the link's owner and this node's controller."""
        self.held.pop(held.slot, None)
        self._announce(released=[held.link_pair, reason])
        if held.cutoff is not None:
            held.cutoff.cancel()
        lp = self.me.links[held.neighbor]
        mode = lp.slots_at(self.id).index(held.slot)
        if lp.a == self.id:
            self._mode_freed(lp.name, mode, mine=True)
        else:
            self._send(ModeFree, lp.a, link=lp.name, mode=mode)

    # -- messages --------------------------------------------------------------------------
    def receive(self, message: Message) -> None:
        """Act on a classical message released at its delivery time."""
        if isinstance(message, Herald):
            self._on_herald(message)
        elif isinstance(message, SwapOutcome):
            self._on_outcome(message)
        elif isinstance(message, ModeFree):
            self._mode_freed(message.link, message.mode, mine=False, by_message=True)
        elif isinstance(message, Discard):
            self._on_discard(message)
        elif isinstance(message, SwapInstruction):
            self._on_instruction(message)
        elif isinstance(message, PathSetup):
            self._on_path_setup(message)
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
        expiry = held.created_at_s + self.me.cutoff_s
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
        self._violation("cutoff_expired", held.tenant, waited_s=self.env.now() - held.created_at_s)
        if None in self.roles[held.tenant]:
            self._expired.add(held.link_pair)
        self._discard(held, "cutoff")

    def _on_discard(self, message: Discard) -> None:
        for held in list(self.held.values()):
            if held.link_pair == message.link_pair and not held.busy:
                self._discard(held, f"partner_{message.reason}", tell_partner=False)

    def _discard(self, held: HeldQubit, reason: str, tell_partner: bool = True) -> None:
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

    # -- swap-ASAP -------------------------------------------------------------------------
    def _progress(self, tenant: str) -> None:
        """End nodes deliver what is complete; repeaters wait for their controller."""
        if None not in self.roles[tenant]:
            return
        for held in list(self.held.values()):
            if held.tenant == tenant and not held.busy and not held.complete:
                self._try_deliver(tenant, held)

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
                self._send(SwapOutcome, end, at=now, tenant=tenant, repeater=self.id,
                           left_pair=left.link_pair, right_pair=right.link_pair,
                           outcome=outcome, success=success_here)

        self.env.store.operate([q_left, q_right], operation)
        self._release_slot(left, "swapped")
        self._release_slot(right, "swapped")
        self.env.emit({"event": "swap", "t_s": now, "node": self.id, "tenant": tenant,
                       "left_pair": left.link_pair, "right_pair": right.link_pair,
                       "left_known_s": left.known_at_s, "right_known_s": right.known_at_s,
                       "ages_s": [now - left.created_at_s, now - right.created_at_s],
                       "success": success, "occupied": len(self.held)})

    # -- end nodes -------------------------------------------------------------------------
    def _on_outcome(self, message: SwapOutcome) -> None:
        for pair in (message.left_pair, message.right_pair):
            if pair in self._expired:
                self._expired.discard(pair)
                self._violation("correction_late", message.tenant, pair=pair)
        book = self._outcomes[message.tenant]
        book.setdefault(message.left_pair, []).append(message)
        book.setdefault(message.right_pair, []).append(message)
        self.env.emit({"event": "outcome_received", "t_s": self.env.now(), "node": self.id,
                       "tenant": message.tenant, "repeater": message.repeater,
                       "left_pair": message.left_pair, "right_pair": message.right_pair})
        self._progress(message.tenant)

    def _chain(self, tenant: str, link_pair: str) -> list[SwapOutcome]:
        """Every swap outcome connected to ``link_pair`` through shared link pairs."""
        book = self._outcomes[tenant]
        seen_pairs, seen, frontier = {link_pair}, [], [link_pair]
        while frontier:
            for message in book.get(frontier.pop(), []):
                if message in seen:
                    continue
                seen.append(message)
                for pair in (message.left_pair, message.right_pair):
                    if pair not in seen_pairs:
                        seen_pairs.add(pair)
                        frontier.append(pair)
        return seen

    def _try_deliver(self, tenant: str, held: HeldQubit) -> None:
        path = self.plan.paths[tenant]
        chain = self._chain(tenant, held.link_pair)
        if any(not m.success for m in chain):
            self._forget_chain(tenant, chain)
            self._discard(held, "swap_failed", tell_partner=False)
            return
        if len(chain) < len(path) - 2:
            return
        self._forget_chain(tenant, chain)
        held.complete = True
        corrections = [] if self.id == path[0] else [m.outcome for m in chain]
        described = [[m.repeater, m.left_pair, m.right_pair] for m in chain]
        if self.plan.rounds.get(tenant, 0) == 0:
            self._use(tenant, held, corrections, described)
        else:
            self._to_purify(tenant, held, corrections, described)

    def _use(self, tenant: str, held: HeldQubit, corrections: list[int],
             chain: list[list[str]]) -> None:
        """Hand this end's half of a finished pair to the tenant (it measures it now)."""
        held.busy = True
        now = self.env.now()
        path = self.plan.paths[tenant]
        qubit = (self.id, held.link_pair)
        role = "src" if self.id == path[0] else "dst"
        waited = now - held.created_at_s

        def operation(record: PairRecord) -> None:
            use_qubit(record, qubit, now, corrections)
            record.uses[role] = [now, waited]
            self.env.store.forget_qubit(qubit)
            if all(record.frozen):
                self.env.store.remove(record)
                if not record.broken and "src" in record.uses and "dst" in record.uses:
                    self._deliver(tenant, record)

        self.env.store.operate([qubit], operation)
        self._release_slot(held, "used")
        self.env.emit({"event": "use", "t_s": now, "node": self.id, "tenant": tenant,
                       "role": role, "pair": held.link_pair,
                       "repeaters": [repeater for repeater, _, _ in chain], "waited_s": waited,
                       "chain": chain, "occupied": len(self.held)})

    # -- end-to-end purification (the source end leads) -------------------------------------------
    def _to_purify(self, tenant: str, held: HeldQubit, corrections: list[int],
                   chain: list[list[str]]) -> None:
        path = self.plan.paths[tenant]
        key = next((left for repeater, left, _ in chain if repeater == path[1]),
                   held.link_pair)  # the first hop's link pair: both ends know it
        if corrections:
            qubit, now = (self.id, held.link_pair), self.env.now()
            self.env.store.operate([qubit], lambda r: correct_qubit(r, qubit, now, corrections))
        self._end_pairs[tenant][key] = EndPair(key, held, 0, chain)
        if self.id == path[0]:
            self._lead_purification(tenant)
        else:
            self._serve_deferred(tenant)

    def _lead_purification(self, tenant: str) -> None:
        by_level: dict[int, list[EndPair]] = {}
        for pair in self._end_pairs[tenant].values():
            if not pair.held.busy:
                by_level.setdefault(pair.level, []).append(pair)
        for level, pairs in by_level.items():
            pairs.sort(key=lambda p: p.held.created_at_s)
            for keep, sacrifice in zip(pairs[0::2], pairs[1::2], strict=False):
                keep.held.busy = True
                self._end_pairs[tenant].pop(sacrifice.key)
                sacrifice.held.busy = True
                self._release_slot(sacrifice.held, "purification")  # measured now
                self._send(PurifyRequest, self.plan.paths[tenant][-1], tenant=tenant,
                           keep=keep.key, sacrifice=sacrifice.key, level=level,
                           src_time_s=self.env.now())

    def _on_purify_request(self, message: PurifyRequest) -> None:
        self._deferred[message.tenant].append(message)
        self._serve_deferred(message.tenant)

    def _serve_deferred(self, tenant: str) -> None:
        """Answer the source's requests whose two pairs this end also knows complete."""
        still = []
        patience = self.me.cutoff_s  # after that the source has given its pair up too
        for request in self._deferred[tenant]:
            if self.env.now() - request.src_time_s > patience:
                continue
            mine = self._end_pairs[tenant]
            keep, sacrifice = mine.get(request.keep), mine.get(request.sacrifice)
            if keep is None or sacrifice is None:
                still.append(request)  # not complete here yet, or lost to a cutoff
                continue
            self._purify_here(request, keep, sacrifice)
        self._deferred[tenant] = still

    def _purify_here(self, request: PurifyRequest, keep: EndPair,
                     sacrifice: EndPair) -> None:
        tenant, now = request.tenant, self.env.now()
        src = self.plan.paths[tenant][0]
        rng, method = self.rng, self.plan.scenario.control.purification
        self._end_pairs[tenant].pop(sacrifice.key)
        keep.held.busy = sacrifice.held.busy = True
        q_keep, q_sacrifice = (self.id, keep.held.link_pair), (self.id, sacrifice.held.link_pair)

        def operation(kept: PairRecord, spent: PairRecord) -> None:
            store = self.env.store
            store.remove(spent)
            for qubit in spent.qubits:
                store.forget_qubit(tuple(qubit))
            success = purify_records(kept, spent, src, request.src_time_s, now, rng, method)
            self._send(PurifyResult, src, at=now, tenant=tenant, keep=request.keep,
                       sacrifice=request.sacrifice, level=request.level, success=success)
            self.env.emit({"event": "purification", "t_s": now, "node": self.id,
                           "tenant": tenant, "level": request.level, "success": success})
            self._after_round(tenant, keep, success)

        self._release_slot(sacrifice.held, "purification")
        self.env.store.operate([q_keep, q_sacrifice], operation)

    def _on_purify_result(self, message: PurifyResult) -> None:
        keep = self._end_pairs[message.tenant].get(message.keep)
        if keep is not None:
            self._after_round(message.tenant, keep, message.success)

    def _after_round(self, tenant: str, keep: EndPair, success: bool) -> None:
        if not success:
            self._end_pairs[tenant].pop(keep.key, None)
            keep.held.busy = False
            self._discard(keep.held, "purification_failed", tell_partner=False)
            return
        keep.level += 1
        keep.held.busy = False
        if keep.level >= self.plan.rounds[tenant]:
            self._end_pairs[tenant].pop(keep.key, None)
            self._use(tenant, keep.held, [], keep.chain)
        elif self.id == self.plan.paths[tenant][0]:
            self._lead_purification(tenant)


    def _forget_chain(self, tenant: str, chain: list[SwapOutcome]) -> None:
        book = self._outcomes[tenant]
        for message in chain:
            book.pop(message.left_pair, None)
            book.pop(message.right_pair, None)

    def _deliver(self, tenant: str, record: PairRecord) -> None:
        """Oracle side: both ends used the pair; record what was truly delivered."""
        spec = next(t for t in self.plan.scenario.tenants if t.name == tenant)
        (t_src, wait_src), (t_dst, wait_dst) = record.uses["src"], record.uses["dst"]
        delivered_at = max(t_src, t_dst)
        value = true_fidelity(record)
        self.env.emit({
            "event": "delivered", "tenant": tenant, "src": spec.src, "dst": spec.dst,
            "t_delivered_s": delivered_at, "fidelity": value,
            "latency_s": delivered_at - record.created_at_s, "link_pairs": record.link_pairs,
            "src_used_s": t_src, "dst_used_s": t_dst, "src_waited_s": wait_src,
            "dst_waited_s": wait_dst,
        })
        if value < spec.f_min:
            self.env.emit({"event": "violation", "kind": "below_threshold",
                           "t_s": delivered_at, "node": spec.dst, "tenant": tenant,
                           "fidelity": value})
