"""The network plan: everything every host derives identically from a scenario.

Tenant paths, which memory slots serve which link, each link's model and owner, each
node's cutoff. Computed once per process from the frozen scenario, so all hosts agree
without exchanging it.
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field, replace

import networkx as nx

from qnemu.control.api import Controller
from qnemu.control.registry import load_controller
from qnemu.control.sites import ControllerSite, controller_sites, graph_center
from qnemu.errors import ScenarioError
from qnemu.physics.hardware import HardwareProfile
from qnemu.physics.link import LinkModel, link_model
from qnemu.physics.operations import swap_success_probability
from qnemu.planning import slices
from qnemu.planning.admission import AdmissionControl
from qnemu.planning.allocation import allocate
from qnemu.planning.calibration import Calibration, calibrate_plan, publish_twin, sla_predictions
from qnemu.planning.cutoff import cutoff_s
from qnemu.planning.model import NetworkModel
from qnemu.planning.paths import candidate_paths, link_key
from qnemu.planning.twin import Twin
from qnemu.records import Admission, Qnum, RunEvent, TwinFailed
from qnemu.scenario import Scenario
from qnemu.wire.classical import ClassicalNetwork


def link_name(a: str, b: str) -> str:
    """The canonical name of the link between two nodes (the earlier in the scenario's
    node list first)."""
    return f"{a}~{b}"


@dataclass(frozen=True)
class LinkPlan:
    """One link as the emulation runs it: memory pairs (modes) that attempt independently.

    ``a`` is the end listed first in the scenario's node list; its actor hosts the link's
    heralding station (an implementation choice: timing is symmetric in both ends).
    ``cutoff_s``: how long a qubit of this link may be stored, from its photon's emission.
    """

    name: str
    a: str
    b: str
    model: LinkModel
    slots_a: tuple[int, ...]
    slots_b: tuple[int, ...]
    tenants: tuple[str, ...]
    cutoff_s: float = math.inf
    #: "cutoff" (a coherence budget: a discard is a violation) or "timeout" (no budget,
    #: but classical messages can be lost: a bound on every wait, counted as a discard)
    expires_by: str = "cutoff"
    #: per memory pair, the tenants it serves (slices; empty: every tenant of the link)
    mode_tenants: tuple[tuple[str, ...], ...] = ()
    #: per memory pair, its share of the attempt rate (slices; empty: all of it)
    mode_attempt_share: tuple[float, ...] = ()
    #: per memory pair, the slice it belongs to ("" for the shared rest; empty: no slices)
    mode_slice: tuple[str, ...] = ()

    def tenants_of(self, mode: int) -> tuple[str, ...]:
        """The tenants memory pair ``mode`` may serve (its slice's, with slices)."""
        return self.mode_tenants[mode] if self.mode_tenants else self.tenants

    def with_tenant(self, tenant: str, slice_name: str | None) -> LinkPlan:
        """This link serving one more tenant (added live): on every memory pair, or with
        slices on its slice's memory pairs only."""
        if not self.mode_slice:
            return replace(self, tenants=(*self.tenants, tenant))
        label = slice_name or ""
        return replace(
            self,
            tenants=(*self.tenants, tenant),
            mode_tenants=tuple(
                (*pool, tenant) if s == label else pool
                for pool, s in zip(self.mode_tenants, self.mode_slice, strict=True)
            ),
        )

    def attempt_period_s(self, mode: int) -> float:
        """Time between attempts of memory pair ``mode`` (s): a slice's attempt share
        stretches the link's period."""
        share = self.mode_attempt_share[mode] if self.mode_attempt_share else 1.0
        return self.model.period_s / share

    @property
    def modes(self) -> int:
        """Memory slot pairs this link may fill at once."""
        return len(self.slots_a)

    def slots_at(self, node: str) -> tuple[int, ...]:
        """The memory slots ``node`` devotes to this link."""
        return self.slots_a if node == self.a else self.slots_b

    def other(self, node: str) -> str:
        """The node at the far end from ``node``."""
        return self.b if node == self.a else self.a


@dataclass(frozen=True)
class NodePlan:
    """One node's share of the plan: its profile, shortest link cutoff and swap success."""

    id: str
    profile: HardwareProfile
    memories: int
    cutoff_s: float
    swap_success: float
    links: dict[str, LinkPlan] = field(default_factory=dict)  # by neighbor

    @property
    def longest_cutoff_s(self) -> float:
        """The longest any of this node's qubits may be stored (s; 0 without links)."""
        return max((lp.cutoff_s for lp in self.links.values()), default=0.0)


@dataclass
class NetworkPlan:
    """Paths, links, nodes and controller sites of a scenario, ready to run.

    ``setup_node``: per tenant, the node whose controller computes and announces its
    path (the source under distributed control, else the central or root controller's
    node). ``time_slot_s``: the time slot of synchronous scheduling (None: asynchronous).
    """

    scenario: Scenario
    paths: dict[str, list[str]]
    links: dict[str, LinkPlan]
    nodes: dict[str, NodePlan]
    classical: ClassicalNetwork
    graph: nx.Graph
    controller: type[Controller]
    sites: list[ControllerSite]
    site_of: dict[str, ControllerSite]
    setup_node: dict[str, str]
    time_slot_s: float | None
    rounds: dict[str, int]
    decisions: list[RunEvent]
    calibration: Calibration | None = None  # the twin run behind the predictions
    #: tenants whose path was withdrawn (no path left after faults); their last path
    #: stays in ``paths`` so that pairs still held can be accounted for
    withdrawn: set[str] = field(default_factory=set)

    @functools.cached_property
    def node_order(self) -> dict[str, int]:
        """Each node's place in the scenario's node list (link names follow it)."""
        return {spec.id: i for i, spec in enumerate(self.scenario.nodes)}

    def own_routing(self) -> NetworkPlan:
        """A copy whose paths, rounds, withdrawn tenants and classical routing one node
        changes as it learns of faults and re-routes (the rest is shared)."""
        return replace(
            self,
            paths=dict(self.paths),
            rounds=dict(self.rounds),
            classical=self.classical.view(),
            withdrawn=set(self.withdrawn),
        )

    @property
    def twin(self) -> Twin | None:
        """The digital-twin run whose numbers the controller published (None: none)."""
        return None if self.calibration is None else self.calibration.twin

    @classmethod
    def build(
        cls, scenario: Scenario, calibrate: bool = True, calibration: Calibration | None = None
    ) -> NetworkPlan:
        """Derive the plan; a network that cannot serve its tenants is a ScenarioError.

        ``calibrate``: run the controller's digital twin (``controller.twin``) on the
        chosen paths, publish its delivered rate and fidelity as the prediction, and (with
        ``control.admission: utility``) reject tenants it shows cannot be served.
        ``calibration``: the outcome of that, computed once by the driver and handed to
        every actor, which then need not run the twin again.
        """
        load_controller(scenario.control.architecture)  # a bad name fails before any work
        if calibration is not None:
            plan = cls._assemble(scenario, dict(calibration.refused))
        elif calibrate:
            plan, calibration = calibrate_plan(cls, scenario)
        else:
            return cls._assemble(scenario, {})
        plan.calibration = calibration
        if calibration.failure is not None:
            plan.decisions.append(TwinFailed(t_s=0.0, error=calibration.failure))
        if calibration.twin is not None:
            publish_twin(scenario, plan.decisions, calibration.twin)
            plan.decisions.extend(sla_predictions(scenario, calibration.twin))
        return plan

    @classmethod
    def _assemble(cls, scenario: Scenario, refused: dict[str, str]) -> NetworkPlan:
        graph = scenario.graph()
        order = {spec.id: i for i, spec in enumerate(scenario.nodes)}
        if scenario.slices:
            paths, rounds, decisions, links = _sliced(scenario, refused, graph, order)
        else:
            paths, rounds, decisions = _route_and_admit(scenario, refused)
            links = _pool_links(scenario, paths, graph, order)
        classical = ClassicalNetwork(
            graph,
            scenario.classical.processing_s,
            scenario.classical.jitter_s,
            scenario.classical.loss,
        )
        time_slot = None
        if scenario.control.scheduling == "synchronous":
            time_slot = _time_slot_s(paths, links, classical)
        cutoffs: dict[tuple, float] = {}  # T_longEB per (profiles, fidelity): brentq is slow
        links = {
            name: replace(lp, cutoff_s=link_cutoff_s(scenario, lp, time_slot, cutoffs))
            for name, lp in links.items()
        }
        if scenario.classical.loss > 0.0:  # lost messages must never hold a memory forever
            timeout = loss_timeout_s(paths, links, classical)
            links = {
                name: replace(lp, cutoff_s=timeout, expires_by="timeout")
                if lp.cutoff_s > timeout
                else lp
                for name, lp in links.items()
            }
        nodes = {}
        for spec in scenario.nodes:
            profile = scenario.profile_of(spec.id)
            swap_p = swap_success_probability(
                profile.swap_success, profile.timing_jitter_s, profile.wavepacket_s
            )
            node_links = {lp.other(spec.id): lp for lp in links.values() if spec.id in (lp.a, lp.b)}
            cutoff = min((lp.cutoff_s for lp in node_links.values()), default=math.inf)
            nodes[spec.id] = NodePlan(spec.id, profile, spec.memories, cutoff, swap_p, node_links)
        control = scenario.control
        controller = load_controller(control.architecture)
        sites = controller_sites(
            graph,
            controller.placement,
            control.location,
            control.domains,
            scenario.seed,
            control.architecture,
        )
        site_of = {node: site for site in sites for node in site.served}
        if controller.placement == "node":
            setup = {t.name: t.src for t in scenario.tenants}
        elif controller.placement == "central":
            setup = {t.name: sites[0].location for t in scenario.tenants}
        else:
            root = control.location or graph_center(graph)
            setup = {t.name: root for t in scenario.tenants}
        return cls(
            scenario,
            paths,
            links,
            nodes,
            classical,
            graph,
            controller,
            sites,
            site_of,
            setup,
            time_slot,
            rounds,
            decisions,
        )

    def node_view(self) -> NetworkPlan:
        """A copy whose tenant tables (paths, rounds, setup nodes) a node may extend with
        tenants it learns live, without touching what other nodes of its host know."""
        return replace(
            self,
            paths=dict(self.paths),
            rounds=dict(self.rounds),
            setup_node=dict(self.setup_node),
            calibration=self.calibration,
        )

    def network_model(self) -> NetworkModel:
        """The Q-NUM model of this plan: the scenario's, with the plan's link models,
        memory pairs per link and cutoffs."""
        base = NetworkModel.from_scenario(self.scenario)
        links = dict(base.links)
        for lp in self.links.values():
            key = link_key(lp.a, lp.b)
            links[key] = replace(
                links[key],
                p_attempt=lp.model.p_attempt,
                period_s=lp.model.period_s,
                fidelity=lp.model.initial_fidelity,
                modes=max(1, lp.modes),
            )
        nodes = {
            n: replace(
                base.nodes[n], swap_success=min(1.0, max(0.0, p.swap_success)), cutoff_s=p.cutoff_s
            )
            for n, p in self.nodes.items()
        }
        return NetworkModel.from_params(links, nodes)

    def shortest_cutoff_s(self) -> float:
        """The tightest coherence budget of any node (inf when none decoheres)."""
        return min((n.cutoff_s for n in self.nodes.values()), default=math.inf)


def _route_and_admit(
    scenario: Scenario, refused: dict[str, str]
) -> tuple[dict, dict, list[RunEvent]]:
    """Admission control, then Q-NUM (or additive) routing and purification depth.

    ``refused``: tenants already rejected (by the twin), with the reason. Returns the
    admitted tenants' paths and purification rounds, and one record per decision (with
    its predicted rate and fidelity) for ``events.jsonl``.
    """
    control = scenario.control
    model = NetworkModel.from_scenario(scenario)
    # synchronous scheduling is memoryless: nothing waits for a second pair to purify with
    max_rounds = 0 if control.scheduling == "synchronous" else control.max_purification_rounds
    admission = AdmissionControl(
        model, control.sharing, control.routing, control.k_paths, max_rounds=max_rounds
    )
    decisions: list[RunEvent] = []
    admitted = []
    for tenant in scenario.tenants:
        if tenant.name in refused:
            decisions.append(
                Admission(t_s=0.0, tenant=tenant.name, admitted=False, reason=refused[tenant.name])
            )
            continue
        if control.admission == "none":
            admitted.append(tenant)
            continue
        decision = admission.request(tenant)
        decisions.append(
            Admission(
                t_s=0.0,
                tenant=tenant.name,
                admitted=decision.admitted,
                reason=decision.reason,
                utility_before=decision.utility_before,
                utility_after=decision.utility_after,
            )
        )
        if decision.admitted:
            admitted.append(tenant)
    allocation = allocate(
        model,
        admitted,
        control.sharing,
        control.routing,
        control.k_paths,
        max_rounds=max_rounds,
        method=control.purification,
    )
    paths, rounds = {}, {}
    for name, share in allocation.tenants.items():
        decisions.append(
            Qnum(
                t_s=0.0,
                tenant=name,
                routing=control.routing,
                path=list(share.path),
                rounds=share.rounds,
                predicted_rate_hz=share.prediction.rate_hz,
                predicted_fidelity=share.prediction.fidelity,
                utility=share.utility,
                note=share.note,
            )
        )
        if len(share.path) >= 2:
            paths[name] = list(share.path)
            rounds[name] = share.rounds
    return paths, rounds, decisions


def _link_uses(
    paths: dict[str, list[str]], order: dict[str, int]
) -> dict[tuple[str, str], list[str]]:
    """Each link (ends in the scenario's order) and the admitted tenants using it."""
    used: dict[tuple[str, str], list[str]] = {}
    for tenant, path in paths.items():
        for u, v in itertools.pairwise(path):
            used.setdefault(_ordered(u, v, order), []).append(tenant)
    return used


def _pool_links(
    scenario: Scenario,
    paths: dict[str, list[str]],
    graph: nx.Graph,
    order: dict[str, int],
    first_slot: dict[str, int] | None = None,
) -> dict[str, LinkPlan]:
    """The links ``paths`` use, with the memory slots of ``scenario``'s nodes split over
    them (numbered from ``first_slot`` per node: a slice's slots follow the slices before)."""
    used = _link_uses(paths, order)
    if scenario.recovery:  # links a re-route may need get memories and a model too
        _add_standby(scenario, graph, paths, used, order)
    slots = _allocate_slots(scenario, used, order)
    links: dict[str, LinkPlan] = {}
    for (a, b), tenants in sorted(
        used.items(), key=lambda item: (order[item[0][0]], order[item[0][1]])
    ):
        data = graph.edges[a, b]
        model = link_model(
            scenario.profile_of(a),
            scenario.profile_of(b),
            data["length_km"],
            data["attenuation_db_per_km"],
        )
        modes = min(len(slots[a][b]), len(slots[b][a]))
        start_a, start_b = (first_slot or {}).get(a, 0), (first_slot or {}).get(b, 0)
        name = link_name(a, b)
        links[name] = LinkPlan(
            name,
            a,
            b,
            model,
            tuple(start_a + x for x in slots[a][b][:modes]),
            tuple(start_b + x for x in slots[b][a][:modes]),
            tuple(dict.fromkeys(tenants)),
        )
    return links


def _sliced(
    scenario: Scenario, refused: dict[str, str], graph: nx.Graph, order: dict[str, int]
) -> tuple[dict, dict, list[RunEvent], dict[str, LinkPlan]]:
    """Plan every slice (and the shared rest) as a network of its own, on its reserved
    memories, then merge each link's memory pairs (see :mod:`qnemu.planning.slices`)."""
    paths: dict[str, list[str]] = {}
    rounds: dict[str, int] = {}
    decisions: list[RunEvent] = []
    merged: dict[str, LinkPlan] = {}
    for pool in slices.pools(scenario):
        if not pool.tenants:
            continue
        sub = pool.scenario(scenario)
        p, r, d = _route_and_admit(sub, refused)
        paths.update(p)
        rounds.update(r)
        decisions.extend(d)
        needs: dict[str, int] = {}
        for a, b in _link_uses(p, order):
            needs[a], needs[b] = needs.get(a, 0) + 1, needs.get(b, 0) + 1
        problems = slices.pool_problems(pool, needs)
        if problems:
            raise ScenarioError(problems)
        first = {node: start for node, (start, _) in pool.slots.items()}
        for name, lp in _pool_links(sub, p, graph, order, first).items():
            shares = (pool.attempt_share,) * lp.modes
            labels = (pool.name,) * lp.modes
            if name not in merged:
                merged[name] = replace(
                    lp,
                    mode_tenants=(lp.tenants,) * lp.modes,
                    mode_attempt_share=shares,
                    mode_slice=labels,
                )
                continue
            old = merged[name]
            merged[name] = replace(
                old,
                slots_a=old.slots_a + lp.slots_a,
                slots_b=old.slots_b + lp.slots_b,
                tenants=old.tenants + lp.tenants,
                mode_tenants=old.mode_tenants + (lp.tenants,) * lp.modes,
                mode_attempt_share=old.mode_attempt_share + shares,
                mode_slice=old.mode_slice + labels,
            )
    links = dict(sorted(merged.items(), key=lambda kv: (order[kv[1].a], order[kv[1].b])))
    return paths, rounds, decisions, links


def _time_slot_s(
    paths: dict[str, list[str]], links: dict[str, LinkPlan], classical: ClassicalNetwork
) -> float:
    """A synchronous time slot: the slowest attempt, its herald, then the outcomes' trip.

    Long enough for every link of a path to attempt once and herald, for the repeaters
    to swap and for both ends to hear every outcome.
    """
    attempt = max((lp.model.period_s for lp in links.values()), default=0.0)
    # emission to herald: the photon reaches the midpoint, the herald comes back
    herald = max((2.0 * lp.model.herald_delay_s for lp in links.values()), default=0.0)
    spread = max((classical.delay_s(p[0], p[-1]) for p in paths.values()), default=0.0)
    herald += classical.processing_s
    return attempt + herald + spread


def link_cutoff_s(
    scenario: Scenario,
    lp: LinkPlan,
    time_slot_s: float | None = None,
    cache: dict[tuple, float] | None = None,
) -> float:
    """How long a qubit of link ``lp`` may be stored (s); see
    :func:`~qnemu.planning.cutoff.cutoff_s`."""
    return cutoff_s(scenario, lp.a, lp.b, lp.model, time_slot_s, cache)


#: Waits on classical messages time out after this many path round trips plus mean link
#: generation times (only where no cutoff bounds them sooner).
TIMEOUT_FACTOR = 10.0


def loss_timeout_s(
    paths: dict[str, list[str]], links: dict[str, LinkPlan], classical: ClassicalNetwork
) -> float:
    """How long any qubit may wait when classical messages can be lost (s): generous
    against legitimate waits (the slowest path's round trip and the slowest link's mean
    time to a pair), finite so that a lost outcome, discard or instruction frees memory."""
    round_trip = max((2.0 * classical.delay_s(p[0], p[-1]) for p in paths.values()), default=0.0)
    generation = max(
        (
            lp.model.period_s / lp.model.p_attempt
            for lp in links.values()
            if lp.model.p_attempt > 0.0
        ),
        default=0.0,
    )
    return TIMEOUT_FACTOR * (round_trip + generation)


def _add_standby(
    scenario: Scenario,
    graph: nx.Graph,
    paths: dict[str, list[str]],
    used: dict[tuple[str, str], list[str]],
    order: dict[str, int],
) -> None:
    """Plan the links of each admitted tenant's ``k_paths`` candidate paths as well (they
    stay idle until a re-route puts the tenant on them): memories are split over them."""
    for tenant, path in paths.items():
        for candidate in candidate_paths(graph, path[0], path[-1], scenario.control.k_paths):
            for u, v in itertools.pairwise(candidate):
                users = used.setdefault(_ordered(u, v, order), [])
                if tenant not in users:
                    users.append(tenant)


def _ordered(u: str, v: str, order: dict[str, int]) -> tuple[str, str]:
    return (u, v) if order[u] < order[v] else (v, u)


def _allocate_slots(
    scenario: Scenario, used: dict[tuple[str, str], list[str]], order: dict[str, int]
) -> dict[str, dict[str, tuple[int, ...]]]:
    """Split each node's memory slots evenly over the links its tenants use (peers in
    the scenario's node order, so nothing depends on names)."""
    neighbors: dict[str, list[str]] = {n.id: [] for n in scenario.nodes}
    for a, b in used:
        neighbors[a].append(b)
        neighbors[b].append(a)
    problems = []
    slots: dict[str, dict[str, tuple[int, ...]]] = {}
    for spec in scenario.nodes:
        peers = sorted(neighbors[spec.id], key=order.__getitem__)
        slots[spec.id] = {}
        if not peers:
            continue
        if spec.memories < len(peers):
            problems.append(
                f"nodes.{spec.id}.memories: {spec.memories} memory slots cannot serve the "
                f"{len(peers)} links its tenants use ({', '.join(peers)})"
            )
            continue
        share, extra = divmod(spec.memories, len(peers))
        start = 0
        for i, peer in enumerate(peers):
            count = share + (1 if i < extra else 0)
            slots[spec.id][peer] = tuple(range(start, start + count))
            start += count
    if problems:
        raise ScenarioError(problems)
    return slots
