"""Multi-node tenants in the scenario: validation (one line per problem, with the field's
path), expansion into Bell-pair sub-tenants, the default hub, and the YAML round trip."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from qnemu.emulation import Emulation
from qnemu.errors import ScenarioError
from qnemu.examples import EXAMPLES_DIR
from qnemu.scenario import load_scenario

STAR = {
    "name": "groups",
    "seed": 1,
    "duration_s": 1,
    "topology": {
        "nodes": [{"id": n} for n in "habcd"],
        "links": [{"a": "h", "b": x, "length_km": 10} for x in "abc"]
        + [{"a": "c", "b": "d", "length_km": 10}],
    },
}
GHZ = {"name": "g", "app": "ghz", "parties": ["a", "b", "c"], "rate_hz": 10, "f_min": 0.5}
QFL = {
    "name": "f",
    "app": "qfl",
    "server": "h",
    "clients": ["a", "b"],
    "pairs_per_round": 3,
    "aggregation": "async",
    "staleness": 1,
    "rate_hz": 10,
    "f_min": 0.5,
}


def _problems(*tenants):
    with pytest.raises(ScenarioError) as caught:
        load_scenario({**STAR, "tenants": list(tenants)})
    return caught.value.problems


def test_group_tenants_expand_into_sub_tenants_and_read_back():
    scenario = load_scenario({**STAR, "tenants": [GHZ, QFL]})
    ends = [(t.name, t.src, t.dst) for t in scenario.tenants]
    assert ends == [
        ("g/a", "h", "a"),  # the hub: least total fiber to the parties
        ("g/b", "h", "b"),
        ("g/c", "h", "c"),
        ("f/a", "a", "h"),  # clients teleport to the server
        ("f/b", "b", "h"),
    ]
    assert scenario.tenants[3].group.pairs_per_round == 3
    written = scenario.to_dict()["tenants"]
    assert [t["name"] for t in written] == ["g", "f"]
    again = load_scenario(yaml.safe_load(yaml.safe_dump({**scenario.to_dict()})))
    assert again.tenants == scenario.tenants


def test_a_hub_among_the_parties_gets_no_pair_of_its_own():
    scenario = load_scenario({**STAR, "tenants": [{**GHZ, "parties": ["h", "a", "d"]}]})
    assert [t.name for t in scenario.tenants] == ["g/a", "g/d"]


@pytest.mark.parametrize(
    ("tenant", "problem"),
    [
        ({**GHZ, "src": "a"}, "tenants[0].src: a ghz tenant lists parties, not src/dst"),
        ({**GHZ, "parties": ["a"]}, "tenants[0].parties: list should have at least 2"),
        ({**GHZ, "parties": list("abcdhab")}, "tenants[0].parties: at most 6 items"),
        ({**GHZ, "parties": ["a", "a", "z"]}, "tenants[0].parties: repeats 'a'"),
        ({**GHZ, "hub": "z"}, "tenants[0].hub: unknown node 'z'"),
        ({**GHZ, "server": "h"}, "tenants[0].server: not a field of a ghz tenant"),
        ({**QFL, "aggregation": "sync"}, "tenants[0].staleness: only with aggregation: async"),
        ({**QFL, "clients": ["a", "h"]}, "tenants[0].clients: lists the server 'h'"),
        ({**QFL, "aggregation": "maybe"}, "tenants[0].aggregation:"),
        (
            {"name": "q", "app": "qkd", "parties": ["a", "b"], "rate_hz": 1, "f_min": 0.5},
            "tenants[0].parties: only a ghz, sensing or qfl tenant has it",
        ),
        (
            {"name": "q", "app": "qkd", "src": "a", "rate_hz": 1, "f_min": 0.5},
            "tenants[0].dst: required",
        ),
    ],
)
def test_bad_group_tenants_are_one_line_naming_the_field(tenant, problem):
    problems = _problems(tenant)
    assert any(p.startswith(problem) for p in problems), problems
    assert all("\n" not in p for p in problems)


def test_a_sub_tenant_name_may_not_clash_with_a_tenant(tmp_path):
    clash = {"name": "g/a", "app": "qkd", "src": "a", "dst": "b", "rate_hz": 1, "f_min": 0.5}
    assert any("sub-tenant 'g/a'" in p for p in _problems(GHZ, clash))


def test_the_cli_exits_2_with_the_field_path(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump({**STAR, "tenants": [{**GHZ, "dst": "b"}]}))
    done = subprocess.run(
        [sys.executable, "-m", "qnemu", "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "tenants[0].dst: a ghz tenant lists parties" in done.stderr + done.stdout


@pytest.mark.parametrize(
    ("path", "group", "block"),
    [
        (EXAMPLES_DIR / "ghz-sensing.yaml", "g", "sensing"),
        (Path(__file__).parents[2] / "examples/experiments/qfl.yaml", "fl", "qfl"),
    ],
)
def test_the_group_examples_run_and_report_their_block(tmp_path, path, group, block):
    scenario = load_scenario(path, {"duration_s": 0.5})
    summary = Emulation(scenario, mode="virtual", results_dir=tmp_path).run()
    assert summary["status"] == "completed"
    assert summary["tenants"][group][block]["states" if block == "sensing" else "rounds"] > 0
