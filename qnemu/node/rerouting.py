"""Recovery at the node that sets up a tenant's path: re-route on what it knows is left.

The node whose controller routes a tenant (the source under distributed control, the
central controller's or the hierarchical root's node) keeps the link states that reach
it — flooded link-state updates under distributed control, direct notices from the
detecting nodes otherwise — and re-routes its tenants:

- a tenant whose path crosses a link it knows is down moves to the best path Q-NUM finds
  on the plan's links minus those down, or is withdrawn (no path left: unserved, and
  reported) when none is left;
- when a link comes back, a withdrawn tenant is routed again, and a tenant moved off its
  planned path goes back once that path is whole.

Each new path is announced with a higher epoch (see :meth:`Node.announce_route`); the
route computation costs compute time like any controller decision (measured in real
time, ``control.decision_cost_s`` in virtual time, both x ``control.cpu_scale``). While
the routing controller is down (a ``controller`` fault) nothing is decided; the news is
kept and acted on when it is back.
"""

from __future__ import annotations

import itertools
import time
from typing import Protocol

from qnemu import records
from qnemu.node.environment import Environment
from qnemu.planning.model import NetworkModel
from qnemu.planning.paths import link_key
from qnemu.planning.plan import NetworkPlan
from qnemu.planning.reroute import Route, remaining_routes
from qnemu.wire.messages import LinkState


class RouteServices(Protocol):
    """What the rerouter asks of its node (implemented by :class:`~qnemu.node.node.Node`)."""

    def announce_route(self, tenant: str, route: Route, epoch: int, at_s: float) -> None: ...


class Rerouter:
    """The routing side of recovery for the tenants ``node_id`` sets up."""

    def __init__(
        self, node_id: str, plan: NetworkPlan, env: Environment, services: RouteServices
    ) -> None:
        self.node_id = node_id
        self.plan = plan
        self.env = env
        self.services = services
        self.tenants = [
            t.name
            for t in plan.scenario.tenants
            if plan.setup_node.get(t.name) == node_id and t.name in plan.paths
        ]
        self.original = {t: list(plan.paths[t]) for t in self.tenants}
        self.database: dict[tuple[str, str], tuple[int, bool]] = {}
        self.paused = False
        self._stale = False  # news arrived while paused
        self._model: NetworkModel | None = None
        self._planned = {link_key(lp.a, lp.b) for lp in plan.links.values()}
        self._epoch = 0

    def learn(self, message: LinkState) -> None:
        """A link state reached the routing controller: keep it, re-route if it matters."""
        key = (message.link, message.origin)
        known = self.database.get(key)
        if known is not None and known[0] >= message.seq:
            return
        self.database[key] = (message.seq, message.up)
        verb = "up" if message.up else "down"
        self.check(f"{message.link} {verb} (seen by {message.origin})")

    def pause(self) -> None:
        """The routing controller stopped (a fault): decide nothing until :meth:`resume`."""
        self.paused = True

    def resume(self) -> None:
        """The routing controller is back: act on what arrived meanwhile."""
        self.paused = False
        if self._stale:
            self._stale = False
            self.check("controller back")

    def down(self) -> frozenset[frozenset[str]]:
        """Links down by any reporter's latest word."""
        latest: dict[str, bool] = {}
        for (link, _), (_, up) in self.database.items():
            latest[link] = latest.get(link, True) and up
        return frozenset(frozenset(link.split("~")) for link, up in latest.items() if not up)

    def check(self, reason: str) -> None:
        """Re-route each tenant whose path is broken, withdrawn, or can go home."""
        if not self.tenants:
            return
        if self.paused:
            self._stale = True
            return
        down = self.down()
        moving = [t for t in self.tenants if self._needs_route(t, down)]
        if not moving:
            return
        start = time.perf_counter()
        routes = self._routes(down)
        compute = self._compute_s(time.perf_counter() - start)
        now = self.env.now()
        for tenant in moving:
            route = routes[tenant]
            if self._home_whole(tenant, down):
                route = Route(self.original[tenant], self.plan.rounds.get(tenant, 0))
            current = None if tenant in self.plan.withdrawn else self.plan.paths[tenant]
            if route.path == current:
                continue
            self._epoch = max(self._epoch + 1, int(now * 1e9))  # survives a restart
            self.env.emit(
                records.Reroute(
                    t_s=now,
                    node=self.node_id,
                    tenant=tenant,
                    epoch=self._epoch,
                    path=route.path,
                    previous=current,
                    reason=reason,
                    compute_s=compute,
                    architecture=self.plan.scenario.control.architecture,
                )
            )
            self.services.announce_route(tenant, route, self._epoch, now + compute)

    def _needs_route(self, tenant: str, down: frozenset[frozenset[str]]) -> bool:
        if tenant in self.plan.withdrawn:
            return True
        path = self.plan.paths[tenant]
        if any(frozenset(hop) in down for hop in itertools.pairwise(path)):
            return True
        return path != self.original[tenant] and self._home_whole(tenant, down)

    def _home_whole(self, tenant: str, down: frozenset[frozenset[str]]) -> bool:
        home = self.original[tenant]
        return not any(frozenset(hop) in down for hop in itertools.pairwise(home))

    def _routes(self, down: frozenset[frozenset[str]]) -> dict[str, Route]:
        if self._model is None:
            self._model = self.plan.network_model()
        control = self.plan.scenario.control
        max_rounds = 0 if control.scheduling == "synchronous" else control.max_purification_rounds
        specs = [t for t in self.plan.scenario.tenants if t.name in self.tenants]
        return remaining_routes(
            self._model,
            self._planned,
            down,
            specs,
            sharing=control.sharing,
            routing=control.routing,
            k_paths=control.k_paths,
            max_rounds=max_rounds,
            method=control.purification,
        )

    def _compute_s(self, wall_s: float) -> float:
        control = self.plan.scenario.control
        if getattr(getattr(self.env, "scheduler", None), "measures_wall_time", True):
            return wall_s * control.cpu_scale
        return control.decision_cost_s * control.cpu_scale
