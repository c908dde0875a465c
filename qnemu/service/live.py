"""Tenants added and removed while a run goes: admission against the running plan.

The northbound API (``qnemu.service.api``) hands a validated tenant to
:class:`LiveTenants`, which decides in the driver, as the controller would: the tenant's
path is the shortest one over the links the running plan already serves with memory pairs
of the tenant's pool (its slice's, or the shared rest's; memories are not re-split while
the run goes); its rate, fidelity and SLA probability are predicted by the digital twin of
the running plan with the tenant added (:mod:`qnemu.planning.twin`). With ``control.admission:
utility`` a tenant the twin cannot serve, whose SLA it cannot promise, or whose arrival
lowers the network's total utility, is refused. An admitted tenant reaches the emulation
as the controller's own action: the node that routes it (its source under distributed
control, else the controller's node) is asked to add it, and announces it to its path with
timed :class:`~qnemu.wire.messages.TenantJoin` messages that carry its spec.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import networkx as nx

from qnemu.planning import sla
from qnemu.planning.choice import tenant_utility
from qnemu.planning.model import NetworkModel
from qnemu.planning.plan import NetworkPlan
from qnemu.planning.prediction import Prediction
from qnemu.planning.routing import depth_on_path
from qnemu.planning.twin import Twin, run_twin
from qnemu.scenario import TenantSpec


class Refused(Exception):
    """Admission refused a tenant (the reason is the message)."""


@dataclass(frozen=True)
class Verdict:
    """What the API answers for an admitted tenant."""

    admitted: bool
    reason: str
    path: list[str]
    predicted_rate_hz: float
    predicted_fidelity: float
    sla_probability: float | None

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the API's answer."""
        return dataclasses.asdict(self)


class LiveTenants:
    """Admits and removes tenants while a run goes (thread-safe: one at a time).

    Args:
        plan: the running plan (its twin is the baseline of the utility check).
        now: the run's emulated time now.
        add: asks the node that routes a tenant to add it: (node, spec, path, rounds).
        remove: asks that node to remove it: (node, tenant) -> whether it was there.
        track: told of each admitted tenant and its SLA probability (the run's ledger).
    """

    def __init__(
        self,
        plan: NetworkPlan,
        now: Callable[[], float],
        add: Callable[[str, dict[str, Any], list[str], int], None],
        remove: Callable[[str, str], bool],
        track: Callable[[TenantSpec, float | None], None] | None = None,
    ) -> None:
        self.plan = plan
        self._track = track
        self.now = now
        self._add, self._remove = add, remove
        self._lock = threading.Lock()
        self.twin: Twin | None = plan.twin
        self.verdicts: dict[str, Verdict] = {}
        self.specs: dict[str, TenantSpec] = {}
        self.removed: set[str] = set()

    def names(self) -> set[str]:
        """Every tenant name in use (scenario, or added live)."""
        return {t.name for t in self.plan.scenario.tenants} | set(self.specs)

    def admit(self, spec: TenantSpec) -> Verdict:
        """Admit ``spec`` now, or raise :class:`Refused` with the reason."""
        with self._lock:
            if spec.name in self.names():
                raise Refused(f"name: tenant {spec.name!r} exists already")
            path = self._path(spec)
            rounds = self._rounds(spec, path)
            candidate = plan_with(self.plan, spec, path, rounds)
            twin = run_twin(candidate)
            got = twin.tenants[spec.name]
            probability = None
            if spec.sla is not None:
                target = sla.target_pairs(spec.rate_hz, spec.sla.window_s)
                probability = sla.window_probability(target, spec.sla.window_s, got.gaps)
            reason = self._refusal(candidate, twin, spec, probability)
            if reason and self.plan.scenario.control.admission == "utility":
                raise Refused(reason)
            verdict = Verdict(
                True,
                reason or f"twin: {got.rate_hz:.4g} Hz at F {got.fidelity:.4f}",
                path,
                got.rate_hz,
                got.fidelity,
                probability,
            )
            setup = candidate.setup_node[spec.name]
            at = self.now()
            body = {**dataclasses.asdict(spec), "at_s": at, "setup_node": setup}
            if self._track is not None:  # before the node adds it: no record is missed
                self._track(replace(spec, at_s=at), probability)
            self._add(setup, body, path, rounds)
            self.plan, self.twin = candidate, twin
            self.verdicts[spec.name] = verdict
            self.specs[spec.name] = replace(spec, at_s=at)
            return verdict

    def remove(self, name: str) -> bool:
        """Ask the node that routes ``name`` to remove it; False if it is not running."""
        with self._lock:
            if name not in self.plan.paths or name in self.removed:
                return False
            if not self._remove(self.plan.setup_node[name], name):
                return False
            self.removed.add(name)
            return True

    def _rounds(self, spec: TenantSpec, path: list[str]) -> int:
        """The purification rounds the planner would give the tenant on ``path``: the depth
        whose predicted (R, F) has the most utility (as for scenario tenants; none under
        synchronous scheduling, where nothing waits for a second pair)."""
        control = self.plan.scenario.control
        if control.scheduling == "synchronous" or control.max_purification_rounds == 0:
            return 0
        model = NetworkModel.from_scenario(self.plan.scenario)
        choice = depth_on_path(
            model, spec, tuple(path), control.max_purification_rounds, control.purification
        )
        return choice.rounds

    def _path(self, spec: TenantSpec) -> list[str]:
        """The shortest path over links that have memory pairs for the tenant's pool."""
        label = spec.slice or ""
        graph = nx.Graph()
        for lp in self.plan.links.values():
            if lp.modes and (not lp.mode_slice or label in lp.mode_slice):
                graph.add_edge(lp.a, lp.b, length_km=self.plan.graph.edges[lp.a, lp.b]["length_km"])
        try:
            return list(nx.shortest_path(graph, spec.src, spec.dst, weight="length_km"))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            pool = f"slice {spec.slice!r}" if spec.slice else "the shared pool"
            raise Refused(
                f"no path from {spec.src} to {spec.dst} over links with memory pairs for {pool} "
                f"in this run (memories are split when the run starts)"
            ) from None

    def _refusal(
        self, candidate: NetworkPlan, twin: Twin, spec: TenantSpec, probability: float | None
    ) -> str:
        got = twin.tenants[spec.name]
        if got.pairs == 0:
            return f"twin: no pair delivered in {twin.horizon_s:.3g} s"
        if tenant_utility(spec, Prediction(got.rate_hz, got.fidelity)) <= 0.0:
            return f"twin: delivered F {got.fidelity:.4f} gives no utility (f_min {spec.f_min:g})"
        if spec.sla is not None and probability is not None and probability < spec.sla.probability:
            target = sla.target_pairs(spec.rate_hz, spec.sla.window_s)
            return (
                f"sla: P(>= {target} pairs above f_min in {spec.sla.window_s:g} s) = "
                f"{probability:.3f} < {spec.sla.probability:g}"
            )
        before, after = _total(self.plan, self.twin), _total(candidate, twin)
        if after < before - 1e-9 * max(1.0, abs(before)):
            return f"total utility would fall from {before:.4g} to {after:.4g}"
        return ""


def _total(plan: NetworkPlan, twin: Twin | None) -> float:
    if twin is None:
        return 0.0
    specs = {t.name: t for t in plan.scenario.tenants}
    return sum(
        tenant_utility(specs[name], Prediction(got.rate_hz, got.fidelity))
        for name, got in twin.tenants.items()
        if name in specs
    )


def plan_with(plan: NetworkPlan, spec: TenantSpec, path: list[str], rounds: int = 0) -> NetworkPlan:
    """The running plan with one more tenant on ``path`` purifying ``rounds`` times: the
    plan the twin predicts it with, and the driver's view of the run from then on."""
    order = {n.id: i for i, n in enumerate(plan.scenario.nodes)}
    links = dict(plan.links)
    for u, v in itertools.pairwise(path):
        a, b = (u, v) if order[u] < order[v] else (v, u)
        name = next(lp.name for lp in links.values() if (lp.a, lp.b) == (a, b))
        links[name] = links[name].with_tenant(spec.name, spec.slice)
    nodes = {
        n: replace(node, links={peer: links[lp.name] for peer, lp in node.links.items()})
        for n, node in plan.nodes.items()
    }
    if plan.controller.placement == "node":
        setup = spec.src
    else:
        setup = next(iter(plan.setup_node.values()), spec.src)
    return replace(
        plan,
        scenario=replace(plan.scenario, tenants=(*plan.scenario.tenants, replace(spec, at_s=0.0))),
        paths={**plan.paths, spec.name: list(path)},
        rounds={**plan.rounds, spec.name: rounds},
        setup_node={**plan.setup_node, spec.name: setup},
        links=links,
        nodes=nodes,
        decisions=[],
    )


def driver_hooks(
    host: Any, console: Any
) -> tuple[Callable[[str, dict[str, Any], list[str], int], None], Callable[[str, str], bool]]:
    """The ``add``/``remove`` of :class:`LiveTenants` for a virtual-time run under the live
    console: the node that routes the tenant is told in the thread that drives the run,
    between two steps (its scheduler belongs to that thread alone), like the console's own
    commands; from any other thread (the API's, the prompt's) the call waits its turn
    there (``console.submit``)."""
    driver = threading.get_ident()

    def on_driver(action: Callable[[], str]) -> str:
        return action() if threading.get_ident() == driver else str(console.submit(action))

    def add(node: str, spec: dict[str, Any], path: list[str], rounds: int) -> None:
        def act() -> str:
            host.nodes[node].add_tenant(spec, path, rounds)
            return "added"

        answer = on_driver(act)
        if answer != "added":
            raise Refused(f"the run did not take it: {answer}")

    def remove(node: str, tenant: str) -> bool:
        def act() -> str:
            return "removed" if host.nodes[node].remove_tenant(tenant, "api") else "unknown"

        return on_driver(act) == "removed"

    return add, remove
