"""The link layer: each memory pair of a link attempts on its own clock.

Physically, each end of a link emits a photon entangled with one of its memories on every
attempt while that memory is free; the heralding station at the link's midpoint detects a
coincidence and heralds the pair to both ends. Every memory pair (one memory at each end,
a "mode" here) therefore runs its own attempt train, independent of the link's other
memory pairs: a success on one does not reset the others. Only the multiplexed modes
*within* one memory's attempt (a profile's ``modes``) race, which ``p_attempt`` includes.

The station's logic runs in the actor of the link's first end (``LinkPlan.a``, by the
scenario's node order, never by name), but its timing is symmetric: a memory freed at
time t at either end has its first photon at the station t + L/2v later, the k-th
attempt's photon is emitted k-1 periods after both ends were free, and the stored qubit
exists (decoheres, runs its cutoff clock) from that emission. Attempts are not emulated
one by one: the number of attempts to success is one geometric draw per train.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from qnemu import records
from qnemu.node.dispatch import receives
from qnemu.node.environment import Environment, Scheduled
from qnemu.planning.plan import LinkPlan, NetworkPlan
from qnemu.truth.store import PairRecord
from qnemu.wire.messages import Herald, ModeFree


@dataclass
class LinkGenerator:
    """The heralding station of one link: when each memory pair is free at each end.

    ``free_at[end][mode]``: the emulated time the end (0 = ``a``, 1 = ``b``) freed that
    memory, as seen at the station; None while it is busy.
    """

    plan: LinkPlan
    free_at: tuple[list[float | None], list[float | None]] = field(init=False)
    pending: dict[int, Scheduled] = field(default_factory=dict)
    sequence: int = 0
    round_robin: int = 0
    slice_turns: dict[tuple[str, ...], int] = field(default_factory=dict)
    #: faults: the link is down (no attempts); memory pairs left idle for want of a
    #: tenant; no attempt starts before ``resume_at`` (the link came back then)
    down: bool = False
    idle: set[int] = field(default_factory=set)
    resume_at: float = 0.0

    def __post_init__(self) -> None:
        self.free_at = ([None] * self.plan.modes, [None] * self.plan.modes)

    def next_tenant(self, active: set[str], mode: int = 0) -> str | None:
        """Round-robin over the tenants whose path is set up among those memory pair
        ``mode`` serves (every tenant of the link, or its slice's: one turn per slice)."""
        pool = self.plan.tenants_of(mode)
        ready = [t for t in pool if t in active]
        if not ready:
            return None
        if pool is self.plan.tenants:
            self.round_robin += 1
            turn = self.round_robin
        else:
            turn = self.slice_turns[pool] = self.slice_turns.get(pool, 0) + 1
        return ready[(turn - 1) % len(ready)]


class LinkLayer:
    """Both ends' side of pair generation at one node, and the stations it hosts.

    Its own state: the heralding stations of the links whose first end this node is,
    the tenants whose path setup reached this node (``active``), and the links whose
    memories this end has freed. It owns no memory slots: the node tells it when one is
    freed (:meth:`free_slot`); heralds reach the node as classical messages.

    Args:
        node_id: the node this link layer belongs to.
        plan: the network plan (links, paths, slot length, classical timing).
        env: the host running the node (clock, timers, sends, ground-truth store).
        rng: the node's generator (attempt counts are drawn from it).
    """

    def __init__(
        self, node_id: str, plan: NetworkPlan, env: Environment, rng: np.random.Generator
    ) -> None:
        self.node_id = node_id
        self.plan = plan
        self.env = env
        self.rng = rng
        self._links: dict[str, LinkPlan] = plan.nodes[node_id].links  # by neighbor
        self.generators: dict[str, LinkGenerator] = {
            lp.name: LinkGenerator(lp) for lp in self._links.values() if lp.a == node_id
        }
        self.active: set[str] = set()  # tenants whose path setup reached this node
        self._links_started: set[str] = set()  # links whose memories this end has freed

    # -- either end ---------------------------------------------------------------------------
    def activate(self, tenant: str) -> None:
        """The path setup of ``tenant`` reached this node (a node on its path): its links
        start generating; the first tenant set up on a link frees this end's memories."""
        if tenant in self.active:
            return
        self.active.add(tenant)
        for lp in self._links.values():
            if tenant not in lp.tenants or not self._on_path(tenant, lp):
                continue
            if lp.name not in self._links_started:
                self._links_started.add(lp.name)
                for mode in range(lp.modes):
                    self._free_mode(lp, mode)
            self._wake_idle(lp.name)  # every tenant of the link had left (service layer)

    def learn_tenant(self, tenant: str, path: list[str], slice_name: str | None = None) -> None:
        """A tenant added live uses this node's links along ``path``: they serve it too
        (this node's own copy of their plans; links not in the plan stay as they are)."""
        if self.node_id not in path:
            return
        i = path.index(self.node_id)
        neighbors = {path[j] for j in (i - 1, i + 1) if 0 <= j < len(path)}
        self._links = dict(self._links)
        for neighbor in neighbors & set(self._links):
            lp = self._links[neighbor].with_tenant(tenant, slice_name)
            self._links[neighbor] = lp
            if lp.name in self.generators:
                self.generators[lp.name].plan = lp

    def deactivate(self, tenant: str) -> None:
        """``tenant`` left: its links stop giving it pairs (memories go to the others)."""
        self.active.discard(tenant)

    def free_slot(self, neighbor: str, slot: int) -> None:
        """The node emptied ``slot`` of its link to ``neighbor``: that memory attempts again."""
        lp = self._links[neighbor]
        self._free_mode(lp, lp.slots_at(self.node_id).index(slot))

    def _free_mode(self, lp: LinkPlan, mode: int) -> None:
        """This end's memory of ``mode`` is free: its photons start reaching the station."""
        now = self.env.now()
        end = 0 if lp.a == self.node_id else 1
        if end == 0:
            self.env.schedule(
                now + lp.model.herald_delay_s, self._mode_freed, lp.name, mode, end, now
            )
        else:
            self.env.send(
                ModeFree(
                    src=self.node_id,
                    dst=lp.a,
                    sent_at_s=now,
                    deliver_at_s=now + lp.model.herald_delay_s,
                    link=lp.name,
                    mode=mode,
                )
            )

    # -- the station (hosted at end a) ------------------------------------------------------
    @receives(ModeFree)
    def _on_mode_free(self, message: ModeFree) -> None:
        # the notice arrives when the far end's first photon does; its attempts count
        # from when it freed the memory (synchronous: from the next slot boundary)
        self._mode_freed(message.link, message.mode, 1, message.sent_at_s)

    def _mode_freed(self, link: str, mode: int, end: int, free_at_s: float) -> None:
        generator = self.generators[link]
        generator.free_at[end][mode] = free_at_s
        self._attempt(generator, mode)

    def _attempt(self, generator: LinkGenerator, mode: int) -> None:
        """Start the attempt train of one memory pair once both its memories are free."""
        free_a, free_b = generator.free_at[0][mode], generator.free_at[1][mode]
        if free_a is None or free_b is None or mode in generator.pending or generator.down:
            return
        model = generator.plan.model
        if model.p_attempt <= 0.0:
            return  # this link never succeeds
        start = max(free_a, free_b, generator.resume_at)  # both ends emit from then on
        attempts = int(self.rng.geometric(model.p_attempt))
        time_slot = self.plan.time_slot_s
        if time_slot is None:
            emitted = start + (attempts - 1) * generator.plan.attempt_period_s(mode)
        else:  # synchronous: one attempt per free memory pair at each time slot boundary
            emitted = (math.ceil(start / time_slot - 1e-9) + attempts - 1) * time_slot
        detected = emitted + model.herald_delay_s
        generator.pending[mode] = self.env.schedule(
            max(detected, self.env.now()), self._link_success, generator, mode, emitted, attempts
        )

    def _link_success(
        self, generator: LinkGenerator, mode: int, emitted: float, attempts: int
    ) -> None:
        """The station detected a coincidence: create the pair and herald it to both ends."""
        del generator.pending[mode]
        lp = generator.plan
        tenant = generator.next_tenant(self._serving(lp), mode)
        if tenant is None:  # no tenant active any more: the memories stay idle
            generator.idle.add(mode)
            return
        generator.free_at[0][mode] = generator.free_at[1][mode] = None
        generator.sequence += 1
        pair = f"{lp.name}#{generator.sequence}"
        now = self.env.now()
        a_profile, b_profile = self.plan.nodes[lp.a].profile, self.plan.nodes[lp.b].profile
        world = getattr(self.env, "faults", None)
        if world is not None:  # a memory-degradation fault: new pairs decohere faster
            a_profile, b_profile = world.profile(lp.a, a_profile), world.profile(lp.b, b_profile)
        holder = self.env.host_of(self._first_user(lp, tenant))
        self.env.store.place(
            PairRecord(
                pair_id=pair,
                qubits=[(lp.a, pair), (lp.b, pair)],
                rho=lp.model.initial_state(),
                updated_at_s=[emitted, emitted],
                t1_s=[a_profile.t1_s, b_profile.t1_s],
                t2_s=[a_profile.t2_s, b_profile.t2_s],
                link_pairs=[pair],
                created_at_s=emitted,
            ),
            holder,
        )
        self.env.emit(
            records.PairGenerated(
                t_s=now,
                created_s=emitted,
                link=lp.name,
                pair=pair,
                tenant=tenant,
                attempts=attempts,
            )
        )
        arrive = now + lp.model.herald_delay_s + self.plan.classical.processing_s
        for end, slot in ((lp.a, lp.slots_a[mode]), (lp.b, lp.slots_b[mode])):
            self.env.send(
                Herald(
                    src=self.node_id,
                    dst=end,
                    sent_at_s=now,
                    deliver_at_s=arrive,
                    link_pair=pair,
                    neighbor=lp.other(end),
                    slot=slot,
                    tenant=tenant,
                    created_at_s=emitted,
                    owner_host=holder,
                )
            )

    def _first_user(self, lp: LinkPlan, tenant: str) -> str:
        """The end of a new link pair likely to operate on it first: a repeater swaps
        before an end node uses, so the true state starts where it will be needed."""
        repeaters = self.plan.paths[tenant][1:-1]
        if lp.a not in repeaters and lp.b in repeaters:
            return lp.b
        return lp.a

    # -- faults and re-routes (see node.recovery) ----------------------------------------------
    def _on_path(self, tenant: str, lp: LinkPlan) -> bool:
        """Whether ``lp`` is on ``tenant``'s current path (this node's view)."""
        path = self.plan.paths.get(tenant)
        if path is None or tenant in self.plan.withdrawn:
            return False
        if lp.a not in path or lp.b not in path:
            return False
        return abs(path.index(lp.a) - path.index(lp.b)) == 1

    def _serving(self, lp: LinkPlan) -> set[str]:
        """The active tenants this link serves now (all of them unless paths changed)."""
        if not self.plan.withdrawn and not self.plan.scenario.recovery:
            return self.active
        return {t for t in self.active if self._on_path(t, lp)}

    def reroute(self, tenant: str) -> None:
        """``tenant``'s path changed and crosses this node: start the links it now uses;
        a station here wakes its memory pairs left idle."""
        self.active.add(tenant)
        for lp in self._links.values():
            if tenant not in lp.tenants or not self._on_path(tenant, lp):
                continue
            if lp.name not in self._links_started:
                self._links_started.add(lp.name)
                for mode in range(lp.modes):
                    self._free_mode(lp, mode)
            self._wake_idle(lp.name)

    def _wake_idle(self, link: str) -> None:
        """The station of ``link`` (if here) restarts the memory pairs it left idle for
        want of an active tenant: both their memories are free from now."""
        generator = self.generators.get(link)
        if generator is None or not generator.idle:
            return
        now = self.env.now()
        idle, generator.idle = sorted(generator.idle), set()
        for mode in idle:
            generator.free_at[0][mode] = generator.free_at[1][mode] = now
            self._attempt(generator, mode)

    def refresh(self, neighbor: str, free_modes: list[int]) -> None:
        """The link to ``neighbor`` came back: tell its station again which of this end's
        memories are free (a station that restarted empty knows none)."""
        lp = self._links[neighbor]
        if lp.name in self._links_started:
            for mode in free_modes:
                self._free_mode(lp, mode)

    def link_down(self, link: str, crashed: str | None = None) -> None:
        """A fault: the station of ``link`` here stops (attempt trains under way are lost);
        ``crashed``: the end that lost its memories (busy until it frees them again)."""
        generator = self.generators.get(link)
        if generator is None:
            return
        generator.down = True
        for scheduled in generator.pending.values():
            scheduled.cancel()
        generator.pending.clear()
        if crashed is not None:
            end = 0 if generator.plan.a == crashed else 1
            generator.free_at[end][:] = [None] * generator.plan.modes

    def link_up(self, link: str) -> None:
        """The fault on ``link`` ended: its station attempts again from now."""
        generator = self.generators.get(link)
        if generator is None:
            return
        generator.down = False
        generator.resume_at = self.env.now()
        for mode in range(generator.plan.modes):
            if mode not in generator.idle:
                self._attempt(generator, mode)
