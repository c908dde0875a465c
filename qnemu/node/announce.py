"""Announcing live tenants along their paths, resent until every node acknowledged.

A node that adds a tenant live sends a ``TenantJoin`` to every node of its path (and the
nodes its controllers sit at); one that removes a tenant sends ``TenantLeave``. When the
classical network loses messages (``classical.loss > 0``) every receiver acknowledges
(``PathReady`` for a join, ``TenantLeft`` for a leave) and the announcer sends again to
those that have not, after ``RESEND_FACTOR`` round trips to the farthest of them (plus
the per-hop processing time), at most :data:`MAX_SENDS` times in all; then it gives up
and records ``tenant_unconfirmed`` with the nodes that never answered. Without loss
nothing is acknowledged and each message goes once, as every classical message does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from qnemu import records
from qnemu.node.environment import Environment
from qnemu.planning.plan import NetworkPlan
from qnemu.wire.messages import Message

#: Resend after this many round trips to the farthest node not yet heard from.
RESEND_FACTOR = 2.0
#: Sends of one announcement to a node before giving up on it (at 30 % loss per message,
#: a round trip fails with probability 0.51; 12 sends all fail with probability 3e-4).
MAX_SENDS = 12


class Announcer:
    """One node's announcements waiting for acknowledgements.

    Args:
        node_id: the announcing node.
        plan: the network plan (classical delays, processing time, loss).
        env: the host running the node (clock, timers, records).
        send: the node's ``send(cls, dst, **fields)``.
    """

    def __init__(
        self,
        node_id: str,
        plan: NetworkPlan,
        env: Environment,
        send: Callable[..., None],
    ) -> None:
        self.node_id = node_id
        self.plan = plan
        self.env = env
        self._send = send
        self.waiting: dict[tuple[str, str], dict[str, None]] = {}  # (kind, tenant) -> nodes

    def announce(
        self, kind: type[Message], tenant: str, targets: Iterable[str], **fields: Any
    ) -> None:
        """Send ``kind`` about ``tenant`` to every target, again until each acknowledged."""
        key = (kind.__name__, tenant)
        self.waiting[key] = dict.fromkeys(targets)
        self._round(kind, tenant, fields, 1)

    def acknowledged(self, kind: str, tenant: str, node: str) -> bool:
        """``node`` acknowledged ``kind`` about ``tenant``; False if nothing waited for it."""
        waiting = self.waiting.get((kind, tenant))
        if waiting is None or node not in waiting:
            return False
        del waiting[node]
        return True

    def cancel(self, kind: str, tenant: str) -> None:
        """Stop resending ``kind`` about ``tenant`` (it no longer matters)."""
        self.waiting.pop((kind, tenant), None)

    def _round(self, kind: type[Message], tenant: str, fields: dict[str, Any], sends: int) -> None:
        key = (kind.__name__, tenant)
        waiting = self.waiting.get(key)
        if not waiting:
            self.waiting.pop(key, None)
            return
        if sends > MAX_SENDS:
            del self.waiting[key]
            self.env.emit(
                records.TenantUnconfirmed(
                    t_s=self.env.now(),
                    node=self.node_id,
                    tenant=tenant,
                    message=kind.__name__,
                    nodes=list(waiting),
                    sends=MAX_SENDS,
                )
            )
            return
        for target in waiting:
            self._send(kind, target, tenant=tenant, **fields)
        classical = self.plan.classical
        if classical.loss <= 0.0:  # nothing is lost, nothing is acknowledged
            del self.waiting[key]
            return
        round_trip = max(2.0 * classical.delay_s(self.node_id, t) for t in waiting)
        again = self.env.now() + RESEND_FACTOR * round_trip + classical.processing_s
        self.env.schedule(again, self._round, kind, tenant, fields, sends + 1)
