"""The link layer of a node: the owner's side of each link it generates pairs on.

The owner samples the time to the next heralded success over its free memory modes
(geometric over attempts, multiplexed modes race; slot-aligned under synchronous
scheduling), creates the pair's true state where it will first be used, and heralds it
to both ends from the midpoint station. A mode is free again once both ends released it.
"""

from __future__ import annotations

import math

from qnemu.messages import Herald
from qnemu.nodes.groundtruth import PairRecord
from qnemu.nodes.plan import LinkPlan
from qnemu.physics.link import multiplexed_success_probability, sample_time_to_success
from qnemu.runtime.scheduler import Event


class LinkGenerator:
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



class LinkLayer:
    """Mixin of :class:`~qnemu.nodes.node.Node`: pair generation on the links it owns."""

    # -- link layer (owner side) -----------------------------------------------------------
    def _generate(self, generator: LinkGenerator) -> None:
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

    def _link_success(self, generator: LinkGenerator) -> None:
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

