"""A node's part in surviving faults: it watches its links, routes around what it knows
is down, and follows a tenant's path when the routing controller moves it.

Composed into :class:`~qnemu.node.node.Node` when recovery is on (``control.recovery``,
on by default when the scenario lists faults):

- :class:`~qnemu.node.liveness.Liveness` (heartbeats, link-state database, flooding);
- :class:`~qnemu.node.rerouting.Rerouter` where this node sets up tenants' paths;
- path changes: a :class:`~qnemu.wire.messages.PathSetup` of a higher epoch replaces a
  tenant's path here (or withdraws it): the halves this node holds for the tenant on
  links the new path does not use are dropped (``reroute``, counted), the links of the
  new path start, and the controllers here learn the new path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from qnemu import records
from qnemu.control.api import LinkDown, LinkUp, NodeUnreachable, RequestArrived
from qnemu.node.liveness import Liveness
from qnemu.node.rerouting import Rerouter
from qnemu.physics.fiber import propagation_delay_s
from qnemu.planning.reroute import Route
from qnemu.wire.messages import LinkState, Message, PathReady, PathSetup

if TYPE_CHECKING:
    from qnemu.node.node import Node

#: A lost re-route setup is resent after this many round trips without an acknowledgement.
RESEND_FACTOR = 2.0


class Recovery:
    """Liveness, re-routing and path changes at one node (see the module docstring)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.node_id = node.node_id
        self.plan = node.plan
        self.env = node.env
        placement = self.plan.controller.placement
        self.flooding = placement == "node"
        self.liveness = Liveness(self.node_id, self.plan, self.env, self, self._notice_targets)
        self.rerouter = Rerouter(self.node_id, self.plan, self.env, self)
        self.epochs: dict[str, int] = {}  # tenant -> epoch of the path this node follows
        self._unready: dict[str, tuple[int, dict[str, None]]] = {}  # re-route setups unacked
        world = getattr(self.env, "faults", None)
        self.world = world

    def parts(self) -> tuple[object, ...]:
        """The parts whose ``@receives`` handlers join the node's table."""
        return (self.liveness,)

    def start(self) -> None:
        """Heartbeats begin."""
        self.liveness.start()

    # -- sending -------------------------------------------------------------------------
    def carries(self, dst: str) -> bool:
        """Whether a message to ``dst`` gets through the network as it truly is now (the
        route is this node's choice; a fault on it loses the message)."""
        route = self.plan.classical.route(self.node_id, dst)
        if route is None:
            return False
        return self.world is None or self.world.carries(route, self.node.rng)

    def send_over_link(self, cls: type[Message], neighbor: str, **fields: Any) -> None:
        """Send to a fiber neighbor over the link itself (heartbeats, flooding)."""
        now = self.env.now()
        length = self.plan.graph.edges[self.node_id, neighbor]["length_km"]
        delay = propagation_delay_s(length) + self.plan.classical.processing_s
        classical = self.plan.classical
        if classical.loss > 0.0 and self.node.rng.random() < classical.loss:
            return
        if self.world is not None and not self.world.carries(
            [self.node_id, neighbor], self.node.rng
        ):
            return
        self.env.send(
            cls(src=self.node_id, dst=neighbor, sent_at_s=now, deliver_at_s=now + delay, **fields)
        )

    def send(self, cls: type[Message], dst: str, at: float | None = None, **fields: Any) -> None:
        """Send over the classical network (see :meth:`Node.send`)."""
        self.node.send(cls, dst, at, **fields)

    # -- what liveness tells ---------------------------------------------------------------
    def _notice_targets(self) -> list[str]:
        """Where a detected change is sent directly: the nodes that route this node's
        tenants and this node's own controller (none under distributed control, which
        learns by flooding)."""
        if self.flooding:
            return []
        targets = dict.fromkeys(sorted(set(self.plan.setup_node.values())))
        targets[self.node.site.location] = None
        return list(targets)

    def link_changed(self, neighbor: str, up: bool) -> None:
        """This node's link to ``neighbor`` went down (its halves there are dropped: they
        cannot be used, and the partner may be gone) or came back (idle memories try again)."""
        node = self.node
        if not up:
            for held in list(node.memory.qubits()):
                if held.neighbor == neighbor and not held.busy:
                    node.discard(held, "link_down", tell_partner=False)
            return
        lp = node.me.links.get(neighbor)
        if lp is not None:
            free = [
                m
                for m, slot in enumerate(lp.slots_at(self.node_id))
                if node.memory.at(slot) is None
            ]
            node.link_layer.refresh(neighbor, free)

    def link_news(self, message: LinkState) -> None:
        """A link state for the control plane: controllers here hear it, the rerouter acts."""
        now = self.env.now()
        if message.flood != self.flooding:  # flooding feeds only distributed control
            return
        event = LinkUp if message.up else LinkDown
        events: list[Any] = [event(now, message.link, message.origin)]
        for end in message.link.split("~"):
            if self._unreachable(end):
                events.append(NodeUnreachable(now, end))
        for host in self.env.local_controllers():
            if host.site.location == self.node_id:
                host.dispatch(events)
        self.rerouter.learn(message)

    def _unreachable(self, node: str) -> bool:
        """Every link of ``node`` is down by what this node knows."""
        down = self.liveness.down | {link for link, up in self._noticed().items() if not up}
        order = self.plan.node_order
        names = {
            "~".join(sorted((node, n), key=order.__getitem__))
            for n in self.plan.graph.neighbors(node)
        }
        return bool(names) and names <= down

    def _noticed(self) -> dict[str, bool]:
        latest: dict[str, bool] = {}
        for (link, _), (_, up) in self.rerouter.database.items():
            latest[link] = latest.get(link, True) and up
        return latest

    # -- re-routes: announcing ---------------------------------------------------------------
    def announce_route(self, tenant: str, route: Route, epoch: int, at_s: float) -> None:
        """Tell the old and the new path (and their controllers' nodes) the tenant's new
        path; resent until acknowledged when messages can be lost."""
        old = self.plan.paths[tenant]
        targets = dict.fromkeys(old)
        targets.update(dict.fromkeys(route.path or []))
        for n in list(targets):
            targets[self.plan.site_of[n].location] = None
        self._unready[tenant] = (epoch, dict.fromkeys(targets))
        self._send_setup(tenant, route, epoch, at_s)

    def _send_setup(self, tenant: str, route: Route, epoch: int, at_s: float) -> None:
        state = self._unready.get(tenant)
        if state is None or state[0] != epoch or not state[1]:
            return
        for target in state[1]:
            self.node.send(
                PathSetup,
                target,
                at=at_s,
                tenant=tenant,
                path=list(route.path or []),
                rounds=route.rounds,
                epoch=epoch,
            )
        classical = self.plan.classical
        if classical.loss > 0.0 or self.world is not None:
            trips = [2.0 * classical.delay_s(self.node_id, t) for t in state[1]]
            finite = [t for t in trips if t != float("inf")] or [self.liveness.interval_s]
            again = max(at_s, self.env.now()) + RESEND_FACTOR * max(finite) + classical.processing_s
            self.env.schedule(again, self._send_setup, tenant, route, epoch, again)

    def on_ready(self, message: PathReady) -> None:
        """A node acknowledged a re-route setup."""
        state = self._unready.get(message.tenant)
        if state is None or state[0] != message.epoch or message.src not in state[1]:
            self.node.ignore(message, "stale")
            return
        del state[1][message.src]

    # -- re-routes: following ------------------------------------------------------------------
    def on_new_path(self, message: PathSetup) -> None:
        """A re-route setup reached this node: follow it if it is newer than what it has."""
        node, tenant = self.node, message.tenant
        node.send(PathReady, message.src, tenant=tenant, epoch=message.epoch)
        if message.epoch <= self.epochs.get(tenant, 0):
            node.ignore(message, "duplicate")
            return
        self.epochs[tenant] = message.epoch
        if tenant not in self.plan.paths:
            node.ignore(message, "unknown")  # a tenant this node never knew (added live)
            return
        now = self.env.now()
        old = list(self.plan.paths[tenant])
        new = list(message.path)
        if new:
            self.plan.paths[tenant] = new
            self.plan.rounds[tenant] = message.rounds
            self.plan.withdrawn.discard(tenant)
        else:
            self.plan.withdrawn.add(tenant)
        self.env.emit(records.PathSetup(t_s=now, node=self.node_id, tenant=tenant, path=new))
        keep = _neighbors(new, self.node_id)
        for held in list(node.memory.qubits()):
            mine = held.tenant == tenant and not held.busy and not held.complete
            if mine and held.neighbor not in keep:
                node.discard(held, "reroute")
        node.end_node.reroute(tenant)
        if self.node_id in new:
            node.link_layer.reroute(tenant)
        served = set(old) | set(new)
        for host in self.env.local_controllers():
            if host.site.location == self.node_id and host.site.served & served:
                host.dispatch([RequestArrived(now, tenant, tuple(new))])


def _neighbors(path: list[str], node: str) -> set[str]:
    if node not in path:
        return set()
    i = path.index(node)
    return {path[j] for j in (i - 1, i + 1) if 0 <= j < len(path)}
