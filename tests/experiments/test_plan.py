"""Validation before anything runs: controllers, sweeps, the grid and its seeds."""

import pytest

from qnemu.errors import ScenarioError
from qnemu.experiments.plan import (
    SWEEP_FORM,
    build_plan,
    parse_controllers,
    parse_sweep,
)
from qnemu.scenario import DEFAULT_SCENARIO_PATH


def test_sweep_values_are_read_as_yaml():
    [sweep] = parse_sweep(["hardware.trapped_ion.t2_s=0.01, 0.1,1"])
    assert sweep.param == "hardware.trapped_ion.t2_s"
    assert sweep.texts == ("0.01", "0.1", "1")
    assert sweep.values == (0.01, 0.1, 1)
    [location] = parse_sweep(["control.location=n0,n4"])
    assert location.values == ("n0", "n4")


@pytest.mark.parametrize("item", ["t2_s", "=1,2", "control.location=", "a.b=1,,2", "a b=1"])
def test_malformed_sweep_shows_the_expected_form(item):
    with pytest.raises(ScenarioError) as caught:
        parse_sweep([item])
    assert len(caught.value.problems) == 1
    assert SWEEP_FORM in caught.value.problems[0]


def test_every_bad_sweep_is_reported_at_once():
    with pytest.raises(ScenarioError) as caught:
        parse_sweep(["x", "seed=1,2", "a.b=1,1", "c.d=1", "c.d=2"])
    problems = caught.value.problems
    assert len(problems) == 4
    assert "--seed" in problems[1]
    assert "repeated" in problems[2]
    assert "swept twice" in problems[3]


def test_controllers_known_and_dotted():
    assert parse_controllers("centralized, distributed") == ["centralized", "distributed"]
    assert parse_controllers(["qnemu.control.builtin:SwapAsap"]) == [
        "qnemu.control.builtin:SwapAsap"
    ]


def test_controllers_take_every_form_run_takes(tmp_path, monkeypatch):
    """``compare --controllers`` and ``run --controller`` share one registry (issue 12)."""
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(repo)
    forms = [
        "hierarchical",
        "examples.controllers.freshest_first:FreshestFirst",
        "examples/controllers/freshest_first.py:FreshestFirst",
        str(repo / "examples/controllers/freshest_first.py") + ":FreshestFirst",
    ]
    assert parse_controllers(forms) == forms
    with pytest.raises(ScenarioError) as caught:
        parse_controllers(["qnemu.scenario:Scenario"])
    assert "is not a qnemu Controller class" in str(caught.value)


def test_unknown_controller_lists_the_valid_ones():
    with pytest.raises(ScenarioError) as caught:
        parse_controllers("distributed,central,nosuch.module:X,qnemu.scenario:Nope")
    first, second, third = caught.value.problems
    assert "'central'" in first
    assert "centralized, distributed, hierarchical" in first
    assert "package.module:Class" in first
    assert "cannot import 'nosuch.module'" in second
    assert "has no 'Nope'" in third


def test_plan_order_and_seeds():
    sweeps = parse_sweep(["hardware.trapped_ion.t2_s=0.05,0.5"])
    plan = build_plan(DEFAULT_SCENARIO_PATH, ["centralized", "distributed"], 2, 100, sweeps)
    assert len(plan.runs) == 8
    first = plan.runs[:4]
    assert [(r.controller, r.repeat, r.seed) for r in first] == [
        ("centralized", 0, 100),
        ("distributed", 0, 100),
        ("centralized", 1, 101),
        ("distributed", 1, 101),
    ]
    assert {r.point for r in first} == {(("hardware.trapped_ion.t2_s", "0.05"),)}
    assert plan.runs[4].overrides == {"hardware.trapped_ion.t2_s": 0.5}
    assert plan.tenants == ("alice-bob",)


def test_default_seed_is_the_scenarios():
    plan = build_plan(DEFAULT_SCENARIO_PATH, ["distributed"], 3, None, [])
    assert [r.seed for r in plan.runs] == [7, 8, 9]


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("control.nosuch=1,2", "control.nosuch: unknown key"),
        ("topology.nosuch.deep=1,2", "'topology.nosuch' does not exist"),
        ("hardware.nv_center.t2_s=0.1,1", "changes nothing"),
        ("topology.hop_km=-1,5", "topology.hop_km: must be > 0"),
    ],
)
def test_sweep_parameter_the_scenario_lacks_is_an_error(item, words):
    with pytest.raises(ScenarioError) as caught:
        build_plan(DEFAULT_SCENARIO_PATH, ["distributed"], 1, None, parse_sweep([item]))
    assert any(words in p and p.startswith("--sweep") for p in caught.value.problems), (
        caught.value.problems
    )


def test_repeats_must_be_positive():
    with pytest.raises(ScenarioError, match="--repeats"):
        build_plan(DEFAULT_SCENARIO_PATH, ["distributed"], 0, None, [])
