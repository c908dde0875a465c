"""The end nodes' side of a tenant: corrections, end-to-end purification, delivery.

An end node collects the swap outcomes of every repeater on the path; once the chain of
link pairs from its own pair to the other end is complete it applies the Pauli frame,
purifies end to end if the plan chose rounds for the tenant (the source end leads, each
round a classical exchange), and hands its half to the tenant. The oracle records the
delivered pair's true fidelity when both ends have used it.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from qnemu import records
from qnemu.apps.requests import request_gap_s
from qnemu.control.api import tenant_roles
from qnemu.node.app_runner import FUSED_APPS, AppRunner
from qnemu.node.dispatch import receives
from qnemu.node.environment import Environment
from qnemu.node.memory import HeldQubit, Memory
from qnemu.planning.plan import NetworkPlan
from qnemu.scenario.spec import TenantSpec
from qnemu.truth.store import (
    PairRecord,
    correct_qubit,
    purify_records,
    true_fidelity,
    use_qubit,
)
from qnemu.wire.messages import Discard as DiscardMessage
from qnemu.wire.messages import Message, OutcomeAck, PurifyRequest, PurifyResult, SwapOutcome

#: Finished pairs a GHZ hub keeps per party while it waits for the other parties' pairs.
FUSION_STOCK = 1


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


class NodeServices(Protocol):
    """What the end-node side asks of the node it belongs to (implemented by
    :class:`~qnemu.node.node.Node`)."""

    def send(self, cls: type[Message], dst: str, at: float | None = None, **fields: Any) -> None:
        """Send a classical message (delay and loss drawn by the node)."""
        ...

    def violation(self, kind: str, tenant: str, **detail: Any) -> None:
        """Record a violation observed at this node."""
        ...

    def release_slot(self, held: HeldQubit, reason: str) -> None:
        """Free the memory slot of ``held`` (its qubit was used or measured)."""
        ...

    def discard(self, held: HeldQubit, reason: str, tell_partner: bool = True) -> None:
        """Drop the qubit of ``held`` and free its slot."""
        ...

    def ignore(self, message: Message, reason: str) -> None:
        """Count a message that changes nothing here (a resent copy, say)."""
        ...


class EndNode:
    """What a tenant's end nodes do at one node: collect swap outcomes, correct, purify
    end to end, serve requests, use pairs, and record what was truly delivered.

    Every node has one; where the node ends no tenant's path it never completes a pair.

    Args:
        node_id: the node this side belongs to.
        plan: the network plan (paths, purification rounds, tenants, classical timing).
        env: the host running the node (clock, timers, events, ground-truth store).
        rng: the node's generator (request gaps and purification are drawn from it).
        memory: the node's memory slots (read here; emptied only through ``node``).
        node: the node's services this side calls back into.
    """

    def __init__(
        self,
        node_id: str,
        plan: NetworkPlan,
        env: Environment,
        rng: np.random.Generator,
        memory: Memory,
        node: NodeServices,
    ) -> None:
        self.node_id = node_id
        self.plan = plan
        self.env = env
        self.rng = rng
        self.memory = memory
        self.node = node
        self.roles = tenant_roles(plan.paths, node_id)
        self._specs: dict[str, TenantSpec] = {t.name: t for t in plan.scenario.tenants}
        self._outcomes: dict[str, dict[str, list[SwapOutcome]]] = {t: {} for t in self.roles}
        # per link pair, the set of link pairs the outcomes in ``_outcomes`` join it to (one
        # shared set per chain, merged as outcomes arrive)
        self._joined: dict[str, dict[str, set[str]]] = {t: {} for t in self.roles}
        self._seen_outcomes: set[tuple[str, str, str]] = set()  # outcomes received here
        self._expired: set[str] = set()  # link pairs this end dropped at its cutoff
        self._end_pairs: dict[str, dict[str, EndPair]] = {t: {} for t in self.roles}
        self._deferred: dict[str, list[PurifyRequest]] = {t: [] for t in self.roles}
        sources = [t for t, path in plan.paths.items() if path[0] == node_id]
        self._requests: dict[str, deque[float]] = {t: deque() for t in sources}
        self._stock: dict[str, list[tuple[HeldQubit, list[list[str]]]]] = {t: [] for t in sources}
        self._departed: set[str] = set()  # tenants that left (the service layer)
        # tenants whose path changed since their held qubits were last all tried
        self._rerouted: set[str] = set()
        self.apps = AppRunner(node_id, plan, env, rng, node.send, self._use, self._serve)

    def start(self) -> None:
        """The tenants this node is the source of start asking for pairs (at their
        ``at_s``)."""
        for tenant in self._requests:
            self._start_requests(tenant)

    def _start_requests(self, tenant: str) -> None:
        at = self._specs[tenant].at_s
        if at > self.env.now():
            self.env.schedule(at, self._next_request, tenant)
        else:
            self._next_request(tenant)

    # -- tenants arriving and leaving (the service layer) -----------------------------------
    def spec(self, tenant: str) -> TenantSpec:
        """The spec of a tenant this node knows (from the scenario, or learned live)."""
        return self._specs[tenant]

    def learn_tenant(self, spec: TenantSpec, path: list[str]) -> None:
        """A tenant added live (its path already in this node's plan view): take its
        place here (source, destination or repeater) and, at its source, start its
        requests."""
        tenant = spec.name
        self._specs[tenant] = spec
        self.apps._specs[tenant] = spec  # the app runner reads the same specs (issue 14's)
        self.roles.update(tenant_roles({tenant: path}, self.node_id))
        self._outcomes[tenant] = {}
        self._joined[tenant] = {}
        self._end_pairs[tenant] = {}
        self._deferred[tenant] = []
        if path[0] == self.node_id:
            self._requests[tenant] = deque()
            self._stock[tenant] = []
            self._start_requests(tenant)

    def reroute(self, tenant: str) -> None:
        """``tenant``'s path changed (faults): this node's place on it follows (a node off
        the new path keeps its last place, with nothing left to do there)."""
        path = self.plan.paths[tenant]
        self.roles.update(tenant_roles({tenant: path}, self.node_id))
        self._rerouted.add(tenant)  # a chain may be complete on the new path
        self._outcomes.setdefault(tenant, {})
        self._joined.setdefault(tenant, {})
        self._end_pairs.setdefault(tenant, {})
        self._deferred.setdefault(tenant, [])

    def leave(self, tenant: str) -> None:
        """``tenant`` left: no more requests; waiting ones are dropped."""
        self._departed.add(tenant)
        if tenant in self._requests:
            self._requests[tenant].clear()

    def progress(self, tenant: str, link_pair: str | None = None) -> None:
        """End nodes deliver what is complete; repeaters wait for their controller.

        ``link_pair`` names what just changed (a herald, or an outcome about that pair):
        only the qubits whose chain of outcomes reaches it are tried, since nothing else
        changed since they were last tried (after a reroute every qubit is tried again)."""
        if None not in self.roles[tenant]:
            return
        reach = None
        if link_pair is not None and tenant not in self._rerouted:
            reach = self._joined[tenant].get(link_pair, {link_pair})
        self._rerouted.discard(tenant)
        for held in self.memory.qubits():
            if held.tenant != tenant or held.busy or held.complete:
                continue
            if reach is None or held.link_pair in reach:
                self._try_deliver(tenant, held)

    def dropped_at_cutoff(self, held: HeldQubit) -> None:
        """The node dropped ``held`` at its cutoff: an end node notes it, so that an
        outcome arriving for it later is reported as late."""
        if None in self.roles[held.tenant]:
            self._expired.add(held.link_pair)

    def forget(self, held: HeldQubit) -> None:
        """The node is discarding ``held``: take it out of the stock and of the pairs
        awaiting purification."""
        self.unstock(held)
        self.apps.forget(held)
        for pairs in self._end_pairs.values():
            for key, pair in list(pairs.items()):
                if pair.held is held:
                    del pairs[key]

    # -- end nodes -------------------------------------------------------------------------
    @receives(SwapOutcome)
    def _on_outcome(self, message: SwapOutcome) -> None:
        key = (message.repeater, message.left_pair, message.right_pair)
        if self.plan.classical.loss > 0.0:  # the repeater resends until it hears this
            self.node.send(
                OutcomeAck,
                message.src,
                tenant=message.tenant,
                left_pair=message.left_pair,
                right_pair=message.right_pair,
            )
            if key in self._seen_outcomes:
                self.node.ignore(message, "duplicate")  # a resent copy of one that arrived
                return
            self._seen_outcomes.add(key)
        for pair in (message.left_pair, message.right_pair):
            if pair in self._expired:
                self._expired.discard(pair)
                self.node.violation("correction_late", message.tenant, pair=pair)
        book = self._outcomes[message.tenant]
        book.setdefault(message.left_pair, []).append(message)
        book.setdefault(message.right_pair, []).append(message)
        self._join(message.tenant, message.left_pair, message.right_pair)
        self.env.emit(
            records.OutcomeReceived(
                t_s=self.env.now(),
                node=self.node_id,
                tenant=message.tenant,
                repeater=message.repeater,
                left_pair=message.left_pair,
                right_pair=message.right_pair,
            )
        )
        self.progress(message.tenant, message.left_pair)

    def _join(self, tenant: str, left: str, right: str) -> None:
        """An outcome joined ``left`` and ``right``: their chains become one (the smaller
        set merges into the larger, so each pair moves O(log n) times)."""
        joined = self._joined[tenant]
        big, small = joined.get(left) or {left}, joined.get(right) or {right}
        if big is not small:
            if len(big) < len(small):
                big, small = small, big
            big |= small
            for pair in small:
                joined[pair] = big
        joined[left] = joined[right] = big

    def _chain(self, tenant: str, link_pair: str) -> list[SwapOutcome]:
        """Every swap outcome connected to ``link_pair`` through shared link pairs."""
        book = self._outcomes[tenant]
        seen: dict[int, SwapOutcome] = {}
        seen_pairs, frontier = {link_pair}, [link_pair]
        while frontier:
            for message in book.get(frontier.pop(), []):
                if id(message) in seen:  # identity: equal-valued outcomes are distinct
                    continue
                seen[id(message)] = message
                for pair in (message.left_pair, message.right_pair):
                    if pair not in seen_pairs:
                        seen_pairs.add(pair)
                        frontier.append(pair)
        return list(seen.values())

    def _try_deliver(self, tenant: str, held: HeldQubit) -> None:
        path = self.plan.paths[tenant]
        chain = self._chain(tenant, held.link_pair)
        if any(not m.success for m in chain):
            self._forget_chain(tenant, chain)
            self.node.discard(held, "swap_failed", tell_partner=False)
            return
        if len(chain) < len(path) - 2:
            return
        self._forget_chain(tenant, chain)
        held.complete = True
        corrections = [] if self.node_id == path[0] else [m.outcome for m in chain]
        described = [[m.repeater, m.left_pair, m.right_pair] for m in chain]
        if self.plan.rounds.get(tenant, 0) == 0:
            self._ready(tenant, held, corrections, described)
        else:
            self._to_purify(tenant, held, corrections, described)

    # -- demand: the source serves requests with finished pairs --------------------------------
    def _ready(
        self, tenant: str, held: HeldQubit, corrections: list[int], chain: list[list[str]]
    ) -> None:
        """A finished pair at this end: the destination's application takes its half at
        once; the source keeps its half until a request of the tenant is waiting."""
        if tenant not in self._stock:  # the destination (its app may wait for the source)
            key = _pair_key(self.plan.paths[tenant], held, chain)
            if not self.apps.hold(tenant, key, held, corrections, chain):
                self._use(tenant, held, corrections, chain)
            return
        stock = self._stock[tenant]
        stock.append((held, chain))
        stock.sort(key=lambda item: item[0].created_at_s)  # freshest last
        if self._fusion_members(tenant) is not None:
            while len(stock) > FUSION_STOCK:  # a GHZ hub keeps each party's freshest pair
                self._drop_unfused(tenant, *stock.pop(0))
        self._serve(tenant)

    def _drop_unfused(self, tenant: str, held: HeldQubit, chain: list[list[str]]) -> None:
        """At a GHZ hub: drop a party's older finished pair (a fresher one replaced it)
        and tell the party, whose half waits for fusion bits, to drop its own."""
        path = self.plan.paths[tenant]
        far = next((right for repeater, _, right in chain if repeater == path[-2]), None)
        self.node.discard(held, "unrequested", tell_partner=False)
        self.node.send(
            DiscardMessage, path[-1], link_pair=far or held.link_pair, reason="unrequested"
        )

    def _fusion_members(self, tenant: str) -> list[str] | None:
        """At a GHZ hub: the sub-tenants whose pairs one fusion joins (``tenant``'s group,
        in party order); None for a tenant that is not fused here."""
        group = self._specs[tenant].group
        if group is None or group.app not in FUSED_APPS or group.center != self.node_id:
            return None
        return [group.member_tenant(m) for m in group.members if m != group.center]

    def _next_request(self, tenant: str) -> None:
        spec = self._specs[tenant]
        if tenant in self._departed:
            return
        members = self._fusion_members(tenant)
        if members is not None and tenant != members[0]:
            return  # a GHZ state is one request: its first party's stream asks for all
        gap = request_gap_s(self.rng, spec.rate_hz, spec.arrivals)
        if spec.until_s is not None and self.env.now() + gap >= spec.until_s:
            return
        if math.isfinite(gap):
            self.env.schedule(self.env.now() + gap, self._on_request, tenant)

    def _on_request(self, tenant: str) -> None:
        now = self.env.now()
        for member in self._fusion_members(tenant) or [tenant]:
            if member in self._requests:
                self.env.emit(records.Request(t_s=now, tenant=member))
                self._requests[member].append(now)
        self._next_request(tenant)
        self._serve(tenant)

    def _serve(self, tenant: str) -> None:
        """Match waiting requests (oldest first) with finished pairs (freshest first)."""
        members = self._fusion_members(tenant)
        if members is not None:
            self._serve_fusion(members)
            return
        stock, waiting = self._stock[tenant], self._requests[tenant]
        if self._specs[tenant].arrivals == "backlog":  # a request is always waiting
            while stock and not self.apps.busy(tenant):
                self.env.emit(records.Request(t_s=self.env.now(), tenant=tenant))
                waiting.append(self.env.now())
                self._serve_one(tenant, *stock.pop())
            return
        while stock and waiting and not self.apps.busy(tenant):  # a circuit: one gate at a time
            self._serve_one(tenant, *stock.pop())

    def _serve_fusion(self, members: list[str]) -> None:
        """At a GHZ hub: once a pair of every party is finished (and a request waits),
        use them together; the app fuses them (one fusion per GHZ state)."""
        if any(m not in self._stock for m in members):
            return  # a party's sub-tenant is not served here (rejected, or left)
        backlog = self._specs[members[0]].arrivals == "backlog"
        while all(self._stock[m] for m in members) and (
            backlog or all(self._requests[m] for m in members)
        ):
            group = self._specs[members[0]].group
            assert group is not None
            self.apps.begin_fusion(group.name)
            for member in members:
                if backlog:
                    self.env.emit(records.Request(t_s=self.env.now(), tenant=member))
                    self._requests[member].append(self.env.now())
                self._serve_one(member, *self._stock[member].pop())

    def _serve_one(self, tenant: str, held: HeldQubit, chain: list[list[str]]) -> None:
        now = self.env.now()
        self.env.emit(
            records.Served(
                t_s=now,
                tenant=tenant,
                pair=held.link_pair,
                waited_s=now - self._requests[tenant].popleft(),
            )
        )
        self._use(tenant, held, [], chain)

    def unstock(self, held: HeldQubit) -> bool:
        """Take ``held`` out of the source's stock of finished pairs, if it is there."""
        for stock in self._stock.values():
            for i, (candidate, _) in enumerate(stock):
                if candidate is held:
                    del stock[i]
                    return True
        return False

    def _use(
        self, tenant: str, held: HeldQubit, corrections: list[int], chain: list[list[str]]
    ) -> None:
        """Hand this end's half of a finished pair to the tenant (it measures it now)."""
        held.busy = True
        now = self.env.now()
        path = self.plan.paths[tenant]
        qubit = (self.node_id, held.link_pair)
        role = "src" if self.node_id == path[0] else "dst"
        waited = now - held.created_at_s
        key = _pair_key(path, held, chain)

        def operation(record: PairRecord) -> None:
            use_qubit(record, qubit, now, corrections)
            record.uses[role] = [now, waited]
            self.apps.on_use(tenant, role, key, record, now)
            self.env.store.forget_qubit(qubit)
            if all(record.frozen):
                self.env.store.remove(record)
                if not record.broken and "src" in record.uses and "dst" in record.uses:
                    self._deliver(tenant, record)

        self.env.store.operate([qubit], operation)
        self.node.release_slot(held, "used")
        self.env.emit(
            records.Use(
                t_s=now,
                node=self.node_id,
                tenant=tenant,
                role=role,
                pair=held.link_pair,
                repeaters=[repeater for repeater, _, _ in chain],
                waited_s=waited,
                chain=chain,
                occupied=self.memory.occupied,
            )
        )

    # -- end-to-end purification (the source end leads) -------------------------------------------
    def _to_purify(
        self, tenant: str, held: HeldQubit, corrections: list[int], chain: list[list[str]]
    ) -> None:
        path = self.plan.paths[tenant]
        key = next(
            (left for repeater, left, _ in chain if repeater == path[1]), held.link_pair
        )  # the first hop's link pair: both ends know it
        if corrections:
            qubit, now = (self.node_id, held.link_pair), self.env.now()
            self.env.store.operate([qubit], lambda r: correct_qubit(r, qubit, now, corrections))
        self._end_pairs[tenant][key] = EndPair(key, held, 0, chain)
        if self.node_id == path[0]:
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
                self.node.release_slot(sacrifice.held, "purification")  # measured now
                self.node.send(
                    PurifyRequest,
                    self.plan.paths[tenant][-1],
                    tenant=tenant,
                    keep=keep.key,
                    sacrifice=sacrifice.key,
                    level=level,
                    src_time_s=self.env.now(),
                )

    @receives(PurifyRequest)
    def _on_purify_request(self, message: PurifyRequest) -> None:
        self._deferred[message.tenant].append(message)
        self._serve_deferred(message.tenant)

    def _serve_deferred(self, tenant: str) -> None:
        """Answer the source's requests whose two pairs this end also knows complete."""
        still: list[PurifyRequest] = []
        # after the node's cutoff the source has given its pair up too
        patience = self.plan.nodes[self.node_id].cutoff_s
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

    def _purify_here(self, request: PurifyRequest, keep: EndPair, sacrifice: EndPair) -> None:
        tenant, now = request.tenant, self.env.now()
        src = self.plan.paths[tenant][0]
        rng, method = self.rng, self.plan.scenario.control.purification
        self._end_pairs[tenant].pop(sacrifice.key)
        keep.held.busy = sacrifice.held.busy = True
        q_keep = (self.node_id, keep.held.link_pair)
        q_sacrifice = (self.node_id, sacrifice.held.link_pair)

        def operation(kept: PairRecord, spent: PairRecord) -> None:
            store = self.env.store
            store.remove(spent)
            for qubit in spent.qubits:
                store.forget_qubit((qubit[0], qubit[1]))
            success = purify_records(kept, spent, src, request.src_time_s, now, rng, method)
            self.node.send(
                PurifyResult,
                src,
                at=now,
                tenant=tenant,
                keep=request.keep,
                sacrifice=request.sacrifice,
                level=request.level,
                success=success,
            )
            self.env.emit(
                records.Purification(
                    t_s=now, node=self.node_id, tenant=tenant, level=request.level, success=success
                )
            )
            self._after_round(tenant, keep, success)

        self.node.release_slot(sacrifice.held, "purification")
        self.env.store.operate([q_keep, q_sacrifice], operation)

    @receives(PurifyResult)
    def _on_purify_result(self, message: PurifyResult) -> None:
        keep = self._end_pairs[message.tenant].get(message.keep)
        if keep is not None:
            self._after_round(message.tenant, keep, message.success)

    def _after_round(self, tenant: str, keep: EndPair, success: bool) -> None:
        if not success:
            self._end_pairs[tenant].pop(keep.key, None)
            keep.held.busy = False
            self.node.discard(keep.held, "purification_failed", tell_partner=False)
            return
        keep.level += 1
        keep.held.busy = False
        if keep.level >= self.plan.rounds[tenant]:
            self._end_pairs[tenant].pop(keep.key, None)
            self._ready(tenant, keep.held, [], keep.chain)
        elif self.node_id == self.plan.paths[tenant][0]:
            self._lead_purification(tenant)

    def _forget_chain(self, tenant: str, chain: list[SwapOutcome]) -> None:
        book, joined = self._outcomes[tenant], self._joined[tenant]
        for message in chain:
            for pair in (message.left_pair, message.right_pair):
                book.pop(pair, None)
                joined.pop(pair, None)

    def _deliver(self, tenant: str, record: PairRecord) -> None:
        """Oracle side: both ends used the pair; record what was truly delivered."""
        spec = self._specs[tenant]
        (t_src, wait_src), (t_dst, wait_dst) = record.uses["src"], record.uses["dst"]
        delivered_at = max(t_src, t_dst)
        value = true_fidelity(record)
        app = self.apps.complete(tenant, record)
        self.env.emit(
            records.Delivered(
                t_s=delivered_at,
                tenant=tenant,
                src=spec.src,
                dst=spec.dst,
                t_delivered_s=delivered_at,
                fidelity=value,
                latency_s=delivered_at - record.created_at_s,
                link_pairs=list(record.link_pairs),
                src_used_s=t_src,
                dst_used_s=t_dst,
                src_waited_s=wait_src,
                dst_waited_s=wait_dst,
                app=app,
            )
        )
        if value < spec.f_min:
            self.env.emit(
                records.Violation(
                    t_s=delivered_at,
                    kind="below_threshold",
                    node=spec.dst,
                    tenant=tenant,
                    site=self.plan.site_of[spec.dst].name,
                    controller=self.plan.scenario.control.architecture,
                    fidelity=value,
                )
            )


def _pair_key(path: list[str], held: HeldQubit, chain: list[list[str]]) -> str:
    """The name both ends give an end-to-end pair: its first hop's link pair."""
    return next((left for repeater, left, _ in chain if repeater == path[1]), held.link_pair)
