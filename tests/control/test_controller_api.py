"""The Controller API: handlers by event type, instructions crossing the network."""

import json
from pathlib import Path

import pytest

from qnemu.control.api import (
    Controller,
    DiscardPair,
    PairHeralded,
    RequestArrived,
    handles,
)
from qnemu.emulation import Emulation
from qnemu.scenario import load_scenario


class Discarder(Controller):
    """A central controller that throws away every pair the source end announces."""

    placement = "central"

    @handles(RequestArrived)
    def on_request(self, event: RequestArrived) -> None:
        """A path was set up: nothing to do (the base class ignores unhandled types too)."""

    @handles(PairHeralded)
    def on_pair(self, event: PairHeralded) -> None:
        """Discard at the source end; leave the rest alone."""
        if event.node == "n0":
            self.context.instruct(DiscardPair(event.node, event.pair))


def test_a_user_controller_discards_pairs_by_instruction(tmp_path):
    scenario = load_scenario(
        {
            "name": "discarder",
            "seed": 2,
            "duration_s": 0.02,
            "dilation": 1,
            "topology": {
                "generator": "chain",
                "n": 3,
                "hop_km": 5,
                "hardware": "er_telecom",
                "memories": 2,
            },
            "control": {
                "architecture": f"{Path(__file__).resolve()}:Discarder",
                "location": "n1",
                "max_purification_rounds": 0,
                "cpu_scale": 0.0,
                "admission": "none",
            },  # the twin would see nothing delivered
            "tenants": [
                {
                    "name": "t",
                    "app": "qkd",
                    "src": "n0",
                    "dst": "n2",
                    "rate_hz": 10,
                    "f_min": 0.5,
                    "arrivals": "backlog",
                }
            ],
        }
    )
    summary = Emulation(scenario, results_dir=tmp_path, mode="virtual").run()
    with open(f"{summary['results']}/events.jsonl") as handle:
        events = [json.loads(line) for line in handle]
    by_controller = [e for e in events if e["event"] == "discard" and e["reason"] == "controller"]
    assert summary["counts"]["pair_generated"] > 3 and by_controller
    assert all(e["node"] == "n0" for e in by_controller)
    # this controller never swaps: nothing is delivered, and n0's discards free its
    # memory at once (each one arrived one hop after n0's report)
    assert summary["tenants"]["t"]["pairs_delivered"] == 0
    reports = {e["pair"]: e["t_s"] for e in events if e["event"] == "herald" and e["node"] == "n0"}
    for discard in by_controller:
        assert discard["t_s"] > reports[discard["pair"]]


def test_an_unsupported_instruction_is_a_clear_type_error():
    import pytest

    from qnemu.control.api import Instruction
    from qnemu.control.hosting import ControllerHost

    class Nonsense(Instruction):
        pass

    host = ControllerHost.__new__(ControllerHost)
    host.site = type("Site", (), {"name": "x"})()
    with pytest.raises(TypeError, match="unsupported instruction Nonsense"):
        host._send(Nonsense("n0"), 0.0, 0.0)


def test_emulation_takes_a_controller_class_or_any_registry_name(tmp_path, monkeypatch):
    """``Emulation(scenario, controller=Class)`` like Mininet's facade; the same run as the
    name forms ``qnemu run --controller`` takes (issue 12)."""
    from pathlib import Path

    import qnemu
    from qnemu.control.builtin import CentralizedController

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repo)
    scenario = qnemu.load_scenario(
        repo / "qnemu/examples/default.yaml", overrides={"duration_s": 0.2}
    )
    by_name = qnemu.Emulation(
        scenario, controller="centralized", mode="virtual", results_dir=tmp_path / "a"
    ).run()
    by_class = qnemu.Emulation(
        scenario, controller=CentralizedController, mode="virtual", results_dir=tmp_path / "b"
    ).run()
    assert by_class["controller"] == by_name["controller"] == "centralized"
    assert by_class["tenants"] == by_name["tenants"]
    user = qnemu.Emulation(
        scenario,
        controller="examples/controllers/freshest_first.py:FreshestFirst",
        mode="virtual",
        results_dir=tmp_path / "c",
    )
    assert user.scenario.control.architecture == (
        f"{repo / 'examples/controllers/freshest_first.py'}:FreshestFirst"
    )
    with pytest.raises(qnemu.ScenarioError, match="not a qnemu Controller class"):
        qnemu.Emulation(scenario, controller=dict, mode="virtual")
