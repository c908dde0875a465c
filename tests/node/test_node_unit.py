"""Node logic on its own: one Node, a fake host, a real ground-truth store.

The fake host implements :class:`qnemu.node.environment.Environment`: it keeps what the
node sends and records, a clock the test sets, and timers the test fires. The scenario is
a 3-node chain a - b - c with one tenant from a to c; b is the repeater.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from qnemu.control.api import ControllerEvent, PairHeralded, PairReleased, RequestArrived
from qnemu.control.sites import ControllerSite
from qnemu.node.dispatch import handler_table, receives
from qnemu.node.node import Node
from qnemu.planning.plan import NetworkPlan
from qnemu.records import RunEvent
from qnemu.scenario import load_scenario
from qnemu.truth.store import GroundTruthStore, PairRecord
from qnemu.wire.messages import (
    Discard,
    Herald,
    Message,
    ModeFree,
    OutcomeAck,
    PathReady,
    PathSetup,
    Report,
    SwapInstruction,
    SwapOutcome,
)

CUTOFF_S = 0.01
IDEAL = {
    "mem": {
        "base": "trapped_ion",
        "t1_s": 1.0e9,
        "t2_s": 1.0e9,
        "swap_success": 1.0,
        "gate_error": 0.0,
        "measurement_error": 0.0,
    }
}


def _plan(architecture: str = "distributed", loss: float = 0.0) -> NetworkPlan:
    # a tiny loss turns on acknowledgements and resends without losing anything in practice
    scenario = load_scenario(
        {
            "name": "node-unit",
            "seed": 1,
            "duration_s": 1.0,
            "topology": {
                "nodes": [{"id": n, "hardware": "mem", "memories": 2} for n in "abc"],
                "links": [
                    {"a": "a", "b": "b", "length_km": 10.0},
                    {"a": "b", "b": "c", "length_km": 10.0},
                ],
            },
            "hardware": IDEAL,
            "classical": {"loss": loss},
            "control": {
                "architecture": architecture,
                "max_purification_rounds": 0,
                "admission": "none",
                "cutoff_s": CUTOFF_S,
            },
            "tenants": [
                {
                    "name": "t",
                    "app": "dqs",  # a pure quality function: the ends use pairs at once
                    "src": "a",
                    "dst": "c",
                    "rate_hz": 10,
                    "f_min": 0.5,
                    "arrivals": "backlog",
                }
            ],
        }
    )
    return NetworkPlan.build(scenario, calibrate=False)


@dataclass
class FakeTimer:
    """A timer the fake host armed (the Scheduled protocol)."""

    time_s: float
    callback: Callable[..., Any]
    args: tuple[Any, ...]
    cancelled: bool = False
    fired: bool = False

    def cancel(self) -> None:
        """Disarm the timer."""
        self.cancelled = True


class FakeController:
    """A controller instance on the fake host: it only records what it is handed."""

    def __init__(self, site: ControllerSite) -> None:
        self.site = site
        self.events: list[ControllerEvent] = []

    def dispatch(self, events: list[ControllerEvent]) -> None:
        """Record the events."""
        self.events.extend(events)


class FakeHost:
    """The Environment of one node: every node of the plan placed on this one host."""

    host_id = 0

    def __init__(self, plan: NetworkPlan) -> None:
        self.store = GroundTruthStore(self.host_id, self._to_other_host)
        self.time_s = 0.0
        self.sent: list[Message] = []
        self.events: list[dict[str, Any]] = []
        self.timers: list[FakeTimer] = []
        self.controllers = {site.name: FakeController(site) for site in plan.sites}

    def _to_other_host(self, host: int, frame: list[Any]) -> None:
        raise AssertionError(f"one host only: frame {frame[:1]} for host {host}")

    def now(self) -> float:
        """The clock the test set."""
        return self.time_s

    def schedule(self, time_s: float, callback: Callable[..., Any], *args: Any) -> FakeTimer:
        """Arm a timer the test fires with :meth:`run_until`."""
        timer = FakeTimer(time_s, callback, args)
        self.timers.append(timer)
        return timer

    def send(self, message: Message) -> None:
        """Keep the message for the test to read."""
        self.sent.append(message)

    def emit(self, event: RunEvent) -> None:
        """Keep the run event for the test to read (typed: the fake checks the kind)."""
        assert isinstance(event, RunEvent)
        self.events.append(event.to_dict())

    def host_of(self, node: str) -> int:
        """Every node is here."""
        return self.host_id

    def controller(self, site: str) -> FakeController:
        """The controller instance of ``site``."""
        return self.controllers[site]

    def local_controllers(self) -> list[FakeController]:
        """Every controller instance (all run here)."""
        return list(self.controllers.values())

    # -- for the tests ----------------------------------------------------------------------
    def armed(self) -> list[FakeTimer]:
        """Timers neither fired nor cancelled."""
        return [t for t in self.timers if not (t.fired or t.cancelled)]

    def run_until(self, time_s: float) -> None:
        """Fire due timers in time order (first armed first on ties), then set the clock."""
        while due := [t for t in self.armed() if t.time_s <= time_s]:
            timer = min(due, key=lambda t: t.time_s)
            timer.fired = True
            self.time_s = max(self.time_s, timer.time_s)
            timer.callback(*timer.args)
        self.time_s = max(self.time_s, time_s)

    def sent_of(self, cls: type[Message]) -> list[Any]:
        """Messages of one type, in the order they were sent."""
        return [m for m in self.sent if type(m) is cls]

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        """Run events of one kind, in the order they were recorded."""
        return [e for e in self.events if e["event"] == kind]


def _node(node_id: str, plan: NetworkPlan) -> tuple[Node, FakeHost]:
    host = FakeHost(plan)
    return Node(node_id, plan, host, np.random.default_rng(0)), host


def _link_pair(
    host: FakeHost, plan: NetworkPlan, link: str, sequence: int, created_s: float
) -> str:
    """Put a fresh link pair in the store, as the link's station would; its name."""
    lp = plan.links[link]
    pair = f"{link}#{sequence}"
    a, b = plan.nodes[lp.a].profile, plan.nodes[lp.b].profile
    host.store.place(
        PairRecord(
            pair_id=pair,
            qubits=[(lp.a, pair), (lp.b, pair)],
            rho=lp.model.initial_state(),
            updated_at_s=[created_s, created_s],
            t1_s=[a.t1_s, b.t1_s],
            t2_s=[a.t2_s, b.t2_s],
            link_pairs=[pair],
            created_at_s=created_s,
        ),
        host.host_id,
    )
    return pair


def _herald(plan: NetworkPlan, node: str, pair: str, created_s: float) -> Herald:
    lp = plan.links[pair.split("#")[0]]
    return Herald(
        src=lp.a,
        dst=node,
        sent_at_s=created_s,
        deliver_at_s=created_s,
        link_pair=pair,
        neighbor=lp.other(node),
        slot=lp.slots_at(node)[0],
        tenant="t",
        created_at_s=created_s,
        owner_host=0,
    )


def _heralded(
    node: Node,
    host: FakeHost,
    plan: NetworkPlan,
    link: str,
    sequence: int = 1,
    created_s: float = 1e-4,
) -> str:
    """A link pair created at ``created_s`` and heralded to ``node`` just after."""
    pair = _link_pair(host, plan, link, sequence, created_s)
    host.run_until(created_s + 1e-5)
    node.receive(_herald(plan, node.node_id, pair, created_s))
    return pair


def _instruction(left: str, right: str) -> SwapInstruction:
    return SwapInstruction(
        src="b",
        dst="b",
        sent_at_s=0.0,
        deliver_at_s=0.0,
        site="distributed@b",
        tenant="t",
        left_pair=left,
        right_pair=right,
        compute_s=0.0,
    )


def _outcome(success: bool = True, dst: str = "c") -> SwapOutcome:
    return SwapOutcome(
        src="b",
        dst=dst,
        sent_at_s=0.0,
        deliver_at_s=0.0,
        tenant="t",
        repeater="b",
        left_pair="a~b#1",
        right_pair="b~c#1",
        outcome=0,
        success=success,
    )


# -- heralds ------------------------------------------------------------------------------
def test_a_herald_fills_its_slot_and_tells_the_local_controller():
    plan = _plan()
    node, host = _node("b", plan)
    pair = _heralded(node, host, plan, "a~b", created_s=1e-4)
    held = node.memory.holding(pair)
    assert held is not None and held.slot == plan.links["a~b"].slots_at("b")[0]
    assert node.memory.occupied == 1
    assert host.controllers["distributed@b"].events == [
        PairHeralded(1.1e-4, "b", pair, "a", "t", 1e-4, 1.1e-4)
    ]
    assert [t.time_s for t in host.armed()] == [pytest.approx(1e-4 + CUTOFF_S)]
    assert host.events_of("herald")[0]["occupied"] == 1


def test_a_herald_past_its_cutoff_is_discarded_at_once():
    plan = _plan()
    node, host = _node("b", plan)
    pair = _link_pair(host, plan, "a~b", 1, 1e-4)
    host.run_until(1e-4 + 2 * CUTOFF_S)
    node.receive(_herald(plan, "b", pair, 1e-4))
    assert node.memory.occupied == 0
    assert [e["kind"] for e in host.events_of("violation")] == ["herald_late"]
    assert host.sent_of(Discard)[0].reason == "herald_late"


def test_a_node_reports_to_a_remote_controller_after_the_report_interval():
    plan = _plan("centralized")  # the controller runs at b
    node, host = _node("a", plan)
    pair = _heralded(node, host, plan, "a~b")
    assert host.controllers["centralized"].events == []
    interval = plan.scenario.control.report_interval_s
    host.run_until(host.now() + interval)
    (report,) = host.sent_of(Report)
    assert report.dst == "b" and report.site == "centralized"
    assert [r[0] for r in report.heralded] == [pair] and report.occupied == 1


# -- swaps on instruction -------------------------------------------------------------------
def test_a_swap_instruction_swaps_in_the_store_and_tells_both_ends():
    plan = _plan()
    node, host = _node("b", plan)
    left = _heralded(node, host, plan, "a~b")
    right = _heralded(node, host, plan, "b~c")
    cutoffs = host.armed()
    node.receive(_instruction(left, right))
    merged = host.store.record_of(("a", left))
    assert merged is not None and merged is host.store.record_of(("c", right))
    assert merged.qubits == [("a", left), ("c", right)] and not merged.broken
    assert host.store.record_of(("b", left)) is None
    outcomes = host.sent_of(SwapOutcome)
    assert [m.dst for m in outcomes] == ["a", "c"]
    assert all(m.success and m.repeater == "b" for m in outcomes)
    assert outcomes[0].outcome == outcomes[1].outcome
    assert node.memory.occupied == 0 and all(t.cancelled for t in cutoffs)
    released = [e for e in host.controllers["distributed@b"].events if isinstance(e, PairReleased)]
    assert [(e.pair, e.reason) for e in released] == [(left, "swapped"), (right, "swapped")]
    # the freed memories attempt again: b is a~b's far end (tells a), b~c's station end
    assert [(m.dst, m.link) for m in host.sent_of(ModeFree)] == [("a", "a~b")]
    assert len(host.events_of("swap")) == 1


def test_an_instruction_for_a_pair_not_held_is_a_late_controller():
    plan = _plan()
    node, host = _node("b", plan)
    left = _heralded(node, host, plan, "a~b")
    node.receive(_instruction(left, "b~c#9"))
    (violation,) = host.events_of("violation")
    assert violation["kind"] == "controller_late" and violation["missing"] == ["b~c#9"]
    assert host.sent_of(SwapOutcome) == [] and node.memory.holding(left) is not None
    heralded = [e for e in host.controllers["distributed@b"].events if isinstance(e, PairHeralded)]
    assert [e.pair for e in heralded] == [left, left]  # back in the controller's view


# -- cutoffs and discards -----------------------------------------------------------------
def test_a_cutoff_discards_the_pair_and_tells_the_partner():
    plan = _plan()
    node, host = _node("b", plan)
    pair = _heralded(node, host, plan, "a~b", created_s=1e-4)
    host.run_until(1e-4 + CUTOFF_S)
    assert node.memory.occupied == 0
    (discard,) = host.sent_of(Discard)
    assert (discard.dst, discard.link_pair, discard.reason) == ("a", pair, "cutoff")
    assert [e["kind"] for e in host.events_of("violation")] == ["cutoff_expired"]
    assert host.events_of("discard")[0]["reason"] == "cutoff"
    record = host.store.record_of(("a", pair))  # the partner's half is still stored, broken
    assert record is not None and record.broken and record.frozen == [False, True]
    assert host.store.record_of(("b", pair)) is None


def test_a_partner_discard_frees_the_slot_without_answering():
    plan = _plan()
    node, host = _node("b", plan)
    pair = _heralded(node, host, plan, "a~b")
    node.receive(
        Discard(src="a", dst="b", sent_at_s=0.0, deliver_at_s=0.0, link_pair=pair, reason="cutoff")
    )
    assert node.memory.occupied == 0
    assert host.events_of("discard")[0]["reason"] == "partner_cutoff"
    assert host.sent_of(Discard) == []


# -- path setup -------------------------------------------------------------------------------
def test_a_path_setup_is_acknowledged_and_starts_the_links():
    plan = _plan(loss=1e-12)
    node, host = _node("b", plan)
    setup = PathSetup(
        src="a",
        dst="b",
        sent_at_s=0.0,
        deliver_at_s=0.0,
        tenant="t",
        path=["a", "b", "c"],
        rounds=0,
    )
    node.receive(setup)
    assert [m.dst for m in host.sent_of(PathReady)] == ["a"]
    assert len(host.events_of("path_setup")) == 1
    assert host.controllers["distributed@b"].events == [RequestArrived(0.0, "t", ("a", "b", "c"))]
    assert node.link_layer.active == {"t"}
    assert [m.link for m in host.sent_of(ModeFree)] == ["a~b"]  # the far end of a~b
    assert len(host.armed()) == 1  # b~c's station notes its own end free
    node.receive(setup)  # a resent copy: acknowledged again, acted on once
    assert len(host.sent_of(PathReady)) == 2 and len(host.events_of("path_setup")) == 1
    assert node.ignored[("duplicate", "PathSetup")] == 1


def test_the_setup_node_resends_until_every_node_acknowledges():
    plan = _plan(loss=1e-12)
    node, host = _node("a", plan)  # a routes its own tenant
    node.start()
    assert [m.dst for m in host.sent_of(PathSetup)] == ["a", "b", "c"]
    for src in ("b", "c"):
        node.receive(PathReady(src=src, dst="a", sent_at_s=0.0, deliver_at_s=0.0, tenant="t"))
    (resend,) = host.armed()
    host.run_until(resend.time_s)
    assert [m.dst for m in host.sent_of(PathSetup)] == ["a", "b", "c", "a"]
    node.receive(PathReady(src="a", dst="a", sent_at_s=0.0, deliver_at_s=0.0, tenant="t"))
    node.receive(PathReady(src="a", dst="a", sent_at_s=0.0, deliver_at_s=0.0, tenant="t"))
    assert node.ignored[("stale", "PathReady")] == 1
    host.run_until(1.0)
    assert len(host.sent_of(PathSetup)) == 4 and host.armed() == []


# -- end nodes ------------------------------------------------------------------------------
def _swapped_pair_at_c(host: FakeHost, plan: NetworkPlan) -> None:
    """The end-to-end pair b's swap of a~b#1 and b~c#1 would leave in the store."""
    left = _link_pair(host, plan, "a~b", 1, 1e-4)
    right = _link_pair(host, plan, "b~c", 1, 1e-4)
    record_left = host.store.record_of(("a", left))
    record_right = host.store.record_of(("c", right))
    assert record_left is not None and record_right is not None
    host.store.remove(record_left)
    host.store.remove(record_right)
    host.store.add(
        PairRecord(
            pair_id=f"{left}+{right}",
            qubits=[("a", left), ("c", right)],
            rho=record_left.rho,
            updated_at_s=[1e-4, 1e-4],
            t1_s=record_left.t1_s,
            t2_s=record_right.t2_s,
            link_pairs=[left, right],
            created_at_s=1e-4,
        )
    )


def test_the_destination_uses_its_half_once_the_repeaters_outcome_arrives():
    plan = _plan()
    node, host = _node("c", plan)
    _swapped_pair_at_c(host, plan)
    host.run_until(2e-4)
    node.receive(_herald(plan, "c", "b~c#1", 1e-4))
    assert host.events_of("use") == []  # the chain to a is not known yet
    node.receive(_outcome())
    (use,) = host.events_of("use")
    assert use["role"] == "dst" and use["repeaters"] == ["b"]
    assert node.memory.occupied == 0
    record = host.store.record_of(("a", "a~b#1"))
    assert record is not None and record.frozen == [False, True] and "dst" in record.uses


def test_a_failed_swap_outcome_discards_the_end_nodes_half():
    plan = _plan()
    node, host = _node("c", plan)
    _swapped_pair_at_c(host, plan)
    node.receive(_herald(plan, "c", "b~c#1", 1e-4))
    node.receive(_outcome(success=False))
    assert host.events_of("use") == []
    assert host.events_of("discard")[0]["reason"] == "swap_failed"
    assert node.memory.occupied == 0


def test_a_resent_swap_outcome_is_acknowledged_each_time_and_used_once():
    plan = _plan(loss=1e-12)
    node, host = _node("c", plan)
    node.receive(_outcome())
    node.receive(_outcome())
    assert [m.dst for m in host.sent_of(OutcomeAck)] == ["b", "b"]
    assert len(host.events_of("outcome_received")) == 1
    assert node.ignored[("duplicate", "SwapOutcome")] == 1


# -- dispatch -----------------------------------------------------------------------------
def test_a_message_the_node_has_no_handler_for_is_counted_not_raised():
    plan = _plan()
    node, host = _node("b", plan)
    report = Report(
        src="a",
        dst="b",
        sent_at_s=0.0,
        deliver_at_s=0.0,
        site="distributed@b",
        heralded=[],
        released=[],
        occupied=0,
    )
    node.receive(report)
    node.receive(report)
    assert node.ignored[("unknown", "Report")] == 2
    assert host.sent == [] and host.events == []


def test_two_handlers_for_one_message_type_are_refused():
    class First:
        @receives(Herald)
        def on_herald(self, message: Herald) -> None: ...

    class Second:
        @receives(Herald, Discard)
        def on_either(self, message: Message) -> None: ...

    assert set(handler_table(First())) == {Herald}
    with pytest.raises(TypeError, match="Herald is handled twice"):
        handler_table(First(), Second())


def test_every_message_a_node_can_receive_has_one_handler():
    node, _ = _node("b", _plan())
    handled = {cls.__name__ for cls in node._handlers}
    assert handled == {
        "Herald",
        "SwapOutcome",
        "OutcomeAck",
        "ModeFree",
        "Discard",
        "PathSetup",
        "PathReady",
        "SwapInstruction",
        "DiscardInstruction",
        "PurifyRequest",
        "PurifyResult",
        "BasisAnnounce",
        "TeleportBits",
        "CatBit",
        "FusionBits",
        "TenantJoin",
        "TenantLeave",
        "TenantLeft",
    }
