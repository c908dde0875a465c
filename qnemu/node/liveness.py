"""How a node learns that a link or a neighbor failed: heartbeats, and link-state flooding.

Every ``heartbeat_s`` a node sends a :class:`~qnemu.wire.messages.Heartbeat` to each
fiber neighbor over the link itself. A neighbor silent for ``heartbeat_misses``
intervals plus the link's one-way delay is declared down over that link (a crashed
neighbor and a cut fiber look the same from here); hearing it again brings the link
back. Nothing here reads which links are truly down: only heartbeats that arrived.

Each change is numbered by the node that saw it and flooded as a
:class:`~qnemu.wire.messages.LinkState` over the emulated classical network (every node
keeps the latest per link and reporter, and passes on what is new: link-state routing);
the classical plane's routing avoids a link any reporter says is down. When a neighbor
comes back, the node sends it its whole database (so that a node that restarted empty
learns what changed while it was away). Entries are ordered by (detection time,
sequence number), so a restarted node's new numbering (from 1 again) still supersedes
what it said before it crashed; a node that is handed an entry of its own that no longer
holds (it said a link was down, then crashed, and the link came back meanwhile) floods
its current view with a fresh number, as a link-state router re-originates its own
advertisements. Controllers that route from afar (centralized, hierarchical) also get a
direct notice.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from qnemu import records
from qnemu.node.dispatch import receives
from qnemu.node.environment import Environment
from qnemu.physics.fiber import propagation_delay_s
from qnemu.planning.plan import NetworkPlan
from qnemu.wire.messages import Heartbeat, LinkState, Message


def heartbeat_interval_s(plan: NetworkPlan) -> float:
    """``control.heartbeat_s``, or derived: the report interval, but at least four times
    the longest one-way hop delay (a heartbeat must have time to arrive)."""
    control = plan.scenario.control
    if control.heartbeat_s is not None:
        return control.heartbeat_s
    longest = max(
        (propagation_delay_s(link.length_km) for link in plan.scenario.links), default=0.0
    )
    return max(control.report_interval_s, 4.0 * (longest + plan.classical.processing_s))


class LivenessServices(Protocol):
    """What liveness asks of its node (implemented by :class:`~qnemu.node.node.Node`)."""

    def send_over_link(self, cls: type[Message], neighbor: str, **fields: Any) -> None: ...

    def send(self, cls: type[Message], dst: str, at: float | None = None, **fields: Any) -> None:
        """Send over the classical network (routed, delayed, maybe lost)."""
        ...

    def link_changed(self, neighbor: str, up: bool) -> None:
        """This node's own link to ``neighbor`` went down or came back."""
        ...

    def link_news(self, message: LinkState) -> None:
        """A link state that concerns the control plane arrived (flooded or a notice)."""
        ...


class Liveness:
    """Heartbeats to the fiber neighbors, and this node's link-state database.

    ``database``: (link, reporter) -> (sequence number, up, detected at); ``down``: the
    links this node believes down (its classical routing avoids them).
    """

    def __init__(
        self,
        node_id: str,
        plan: NetworkPlan,
        env: Environment,
        services: LivenessServices,
        notify: Callable[[], list[str]],
    ) -> None:
        self.node_id = node_id
        self.plan = plan
        self.env = env
        self.services = services
        self._notify = notify  # where direct notices go (routing controllers' nodes)
        self.interval_s = heartbeat_interval_s(plan)
        self.misses = plan.scenario.control.heartbeat_misses
        graph = plan.graph
        self.neighbors = {n: _link(plan, node_id, n) for n in graph.neighbors(node_id)}
        self._grace = {
            n: propagation_delay_s(graph.edges[node_id, n]["length_km"])
            + plan.classical.processing_s
            for n in self.neighbors
        }
        self.heard: dict[str, float] = dict.fromkeys(self.neighbors, 0.0)
        self.silent: set[str] = set()  # neighbors declared down
        self.database: dict[tuple[str, str], tuple[int, bool, float]] = {}
        self.down: frozenset[str] = frozenset()
        self._sequence = 0

    def start(self) -> None:
        """Begin heartbeats (everyone is assumed alive at the start)."""
        now = self.env.now()
        self.heard = dict.fromkeys(self.neighbors, now)
        self._tick()

    def _tick(self) -> None:
        now = self.env.now()
        for neighbor in self.neighbors:
            self.services.send_over_link(Heartbeat, neighbor)
        for neighbor, heard in self.heard.items():
            silent_s = now - heard
            limit = self.misses * self.interval_s + self._grace[neighbor]
            if neighbor not in self.silent and silent_s > limit:
                self.silent.add(neighbor)
                self._changed(neighbor, False, silent_s)
        self.env.schedule(now + self.interval_s, self._tick)

    @receives(Heartbeat)
    def _on_heartbeat(self, message: Heartbeat) -> None:
        self.heard[message.src] = self.env.now()
        if message.src in self.silent:
            self.silent.discard(message.src)
            self._changed(message.src, True, None)
            self._send_database(message.src)

    def _changed(self, neighbor: str, up: bool, silent_s: float | None) -> None:
        """This node saw its link to ``neighbor`` change: record, act, tell."""
        now = self.env.now()
        link = self.neighbors[neighbor]
        self.env.emit(
            records.Detected(t_s=now, node=self.node_id, link=link, up=up, silent_s=silent_s)
        )
        self._sequence += 1
        fields: dict[str, Any] = {
            "link": link,
            "up": up,
            "origin": self.node_id,
            "seq": self._sequence,
            "detected_s": now,
        }
        self.database[link, self.node_id] = (self._sequence, up, now)
        self._refresh()
        self.services.link_changed(neighbor, up)
        self._originate(fields, now)

    def _originate(self, fields: dict[str, Any], now: float) -> None:
        """Announce a link state this node originated: flood it to the neighbors, take it
        as news here, and notify the routing controllers that want it."""
        self._flood(LinkState, fields, exclude=None)
        own = LinkState(
            src=self.node_id,
            dst=self.node_id,
            sent_at_s=now,
            deliver_at_s=now,
            flood=True,
            **fields,
        )
        self.services.link_news(own)
        for target in self._notify():
            self.services.send(LinkState, target, flood=False, **fields)

    def _flood(self, cls: type[LinkState], fields: dict[str, Any], exclude: str | None) -> None:
        for neighbor in self.neighbors:
            if neighbor != exclude and neighbor not in self.silent:
                self.services.send_over_link(cls, neighbor, flood=True, **fields)

    def _send_database(self, neighbor: str) -> None:
        for (link, origin), (seq, up, detected) in self.database.items():
            self.services.send_over_link(
                LinkState,
                neighbor,
                link=link,
                up=up,
                origin=origin,
                seq=seq,
                detected_s=detected,
                flood=True,
            )

    @receives(LinkState)
    def _on_link_state(self, message: LinkState) -> None:
        if not message.flood:  # a notice for the controller that routes from here
            self.services.link_news(message)
            return
        key = (message.link, message.origin)
        known = self.database.get(key)
        if known is not None and (known[2], known[0]) >= (message.detected_s, message.seq):
            return  # already known: flooding stops here
        if message.origin == self.node_id and self._reassert(message):
            return
        self.database[key] = (message.seq, message.up, message.detected_s)
        self._refresh()
        self._flood(
            LinkState,
            {
                "link": message.link,
                "up": message.up,
                "origin": message.origin,
                "seq": message.seq,
                "detected_s": message.detected_s,
            },
            exclude=message.src,
        )
        self.services.link_news(message)

    def _reassert(self, message: LinkState) -> bool:
        """An entry this node originated before it restarted came back to it: if it no
        longer holds, flood the current state of that link with a fresh number instead
        (True); else keep it as it is (False)."""
        neighbor = next((n for n, link in self.neighbors.items() if link == message.link), None)
        if neighbor is None or message.up == (neighbor not in self.silent):
            return False
        now = self.env.now()
        self._sequence = max(self._sequence, message.seq) + 1
        up = neighbor not in self.silent
        self.database[message.link, self.node_id] = (self._sequence, up, now)
        self._refresh()
        fields: dict[str, Any] = {
            "link": message.link,
            "up": up,
            "origin": self.node_id,
            "seq": self._sequence,
            "detected_s": now,
        }
        self._originate(fields, now)
        return True

    def _refresh(self) -> None:
        """Links down by any reporter's latest word; the classical routing avoids them."""
        latest: dict[str, bool] = {}
        for (link, _), (_, up, _) in self.database.items():
            latest[link] = latest.get(link, True) and up
        self.down = frozenset(link for link, up in latest.items() if not up)
        self.plan.classical.avoid(frozenset(frozenset(link.split("~")) for link in self.down))


def _link(plan: NetworkPlan, u: str, v: str) -> str:
    """The link's name, ends in the scenario's node order (as the plan names links)."""
    order = plan.node_order
    return f"{u}~{v}" if order[u] < order[v] else f"{v}~{u}"
