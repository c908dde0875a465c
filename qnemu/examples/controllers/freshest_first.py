"""An example user controller: per-node swapping that spends the freshest pairs first.

Run it (from any directory: the name resolves to this bundled file) with::

    qnemu run --controller examples.controllers.freshest_first:FreshestFirst

The built-in controllers swap the *oldest* pair towards each side (chains that started
first finish first); this one swaps the *freshest* (best fidelity per swap, at the risk
of stranding old halves until a cutoff frees them). It shows the whole
Controller API: a class, its placement, handlers tagged by event type, and instructions
sent through the context. Compare the two with ``qnemu compare``.
"""

from __future__ import annotations

from qnemu.control.api import (
    Controller,
    ControllerContext,
    PairHeralded,
    PairReleased,
    Swap,
    handles,
)


class FreshestFirst(Controller):
    """Swap-ASAP in every node, freshest pair first."""

    placement = "node"

    def __init__(self, context: ControllerContext) -> None:
        super().__init__(context)
        self.pairs: dict[str, PairHeralded] = {}

    @handles(PairHeralded)
    def on_pair(self, event: PairHeralded) -> None:
        """A new pair at this node: swap if a tenant now has one on each side."""
        self.pairs[event.pair] = event
        previous, following = self.context.roles(event.node).get(event.tenant, (None, None))
        if previous is None or following is None:
            return
        left = self._freshest(event.tenant, previous)
        right = self._freshest(event.tenant, following)
        if left is not None and right is not None:
            del self.pairs[left.pair], self.pairs[right.pair]
            self.context.instruct(Swap(event.node, event.tenant, left.pair, right.pair))

    @handles(PairReleased)
    def on_release(self, event: PairReleased) -> None:
        """The node dropped a pair (cutoff, partner's discard): forget it."""
        self.pairs.pop(event.pair, None)

    def _freshest(self, tenant: str, neighbor: str) -> PairHeralded | None:
        ready = [p for p in self.pairs.values() if p.tenant == tenant and p.neighbor == neighbor]
        return max(ready, key=lambda p: p.created_at_s, default=None)
