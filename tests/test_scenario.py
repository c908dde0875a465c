"""Scenario loading: validation messages with paths, resolution, overrides, round trip."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import networkx as nx
import pytest

from qnemu.errors import ScenarioError
from qnemu.physics.hardware import PROFILES
from qnemu.scenario import (
    DEFAULT_SCENARIO_PATH,
    EXAMPLES_DIR,
    ClassicalSpec,
    ControlSpec,
    LinkSpec,
    RuntimeSpec,
    Scenario,
    apply_overrides,
    describe,
    load_scenario,
    parse_overrides,
)

EXAMPLES = sorted(EXAMPLES_DIR.glob("*.yaml"))


def chain(**top) -> dict:
    """A small valid scenario as a raw mapping; keyword args replace top-level keys."""
    raw = {
        "name": "t",
        "seed": 1,
        "duration_s": 0.1,
        "topology": {"generator": "chain", "n": 3, "hop_km": 5, "hardware": "trapped_ion"},
        "tenants": [
            {"name": "ab", "app": "qkd", "src": "n0", "dst": "n2", "rate_hz": 10, "f_min": 0.8}
        ],
    }
    raw.update(top)
    return raw


def explicit(nodes=None, links=None, **top) -> dict:
    topo = {
        "nodes": nodes
        if nodes is not None
        else [{"id": "A", "hardware": "nv_center", "memories": 2}, {"id": "B"}, {"id": "C"}],
        "links": links
        if links is not None
        else [{"a": "A", "b": "B", "length_km": 12.5}, {"a": "B", "b": "C", "length_km": 3}],
    }
    return chain(topology=topo, tenants=[], **top)


def problems_of(source, overrides=None) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(source, overrides)
    return info.value.problems


def assert_problem(source, text: str, overrides=None) -> None:
    problems = problems_of(source, overrides)
    assert any(text in p for p in problems), problems
    assert all("\n" not in p for p in problems), problems


# ------------------------------------------------------------------------------ examples


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_loads_and_describes(path):
    scenario = load_scenario(path)
    assert scenario.nodes and scenario.links and scenario.tenants
    text = describe(scenario)
    assert scenario.name in text and "T_longEB" in text


def test_describe_lists_links_profiles_and_paths():
    text = describe(load_scenario(DEFAULT_SCENARIO_PATH))
    assert "n0  trapped_ion" in text and "memories 8" in text
    # R11: 10 km at 0.2 dB/km -> eta = 10^-0.2 = 0.631; 4.9 us/km one way.
    assert "n0-n1: 10 km, η 0.631, one-way delay 49 µs" in text
    assert "pairs/s per memory pair" in text
    assert "trapped_ion: T1 1.17 s" in text and "T_longEB " in text
    assert "shortest path n0-n1-n2-n3 (3 hops, 30 km)" in text


def test_examples_include_the_four_named_ones():
    names = {p.name for p in EXAMPLES}
    assert {
        "default.yaml",
        "two-node.yaml",
        "repeater-chain-cutoff.yaml",
        "mesh-two-tenants.yaml",
    } <= names


def test_default_scenario_shape():
    s = load_scenario(DEFAULT_SCENARIO_PATH)
    assert [n.id for n in s.nodes] == ["n0", "n1", "n2", "n3"]
    assert [link.length_km for link in s.links] == [10.0] * 3
    assert s.duration_s == 0.5 and s.dilation is None
    assert [(t.app, t.src, t.dst) for t in s.tenants] == [("dqc", "n0", "n3")]


def test_default_scenario_hardware_supports_swap_asap():
    """Every hop heralds many pairs in 0.5 s and a stored pair outlives the wait for the
    neighboring link (and the hop delay) by far, so swap-ASAP delivers end-to-end pairs."""
    from qnemu.physics.hardware import profile_t_long_eb
    from qnemu.physics.link import link_model

    s = load_scenario(DEFAULT_SCENARIO_PATH)
    profile = s.profile_of("n0")
    link = link_model(profile, profile, 10.0, 0.2)
    slot_pairs_per_side = s.node("n1").memories // 2
    link_rate_hz = link.expected_rate_hz * slot_pairs_per_side
    assert link_rate_hz * s.duration_s > 50
    assert profile_t_long_eb(profile) > 1000 * link.herald_delay_s
    assert profile_t_long_eb(profile) > 5 / link_rate_hz


# ------------------------------------------------------------------------------ defaults


def test_defaults_fill_optional_sections():
    s = load_scenario({"duration_s": 1, "topology": {"generator": "chain", "n": 2, "hop_km": 1}})
    assert s.name == "scenario" and s.seed == 0 and s.dilation is None
    assert s.classical == ClassicalSpec() and s.control == ControlSpec()
    assert s.runtime == RuntimeSpec() and s.tenants == ()
    assert s.control.cutoff_s is None and s.runtime.nodes_per_actor is None
    assert s.nodes[0].memories == 4
    assert s.links[0].attenuation_db_per_km == 0.2


def test_empty_sections_mean_defaults():
    s = load_scenario(chain(control=None, classical=None, runtime=None, hardware=None))
    assert s.control == ControlSpec()


def test_name_defaults_to_the_file_stem(tmp_path):
    raw = chain()
    del raw["name"]
    path = tmp_path / "my-net.yaml"
    path.write_text(__import__("yaml").safe_dump(raw))
    assert load_scenario(path).name == "my-net"


def test_auto_values_and_numbers():
    s = load_scenario(chain(dilation=5, control={"cutoff_s": 0.01}, runtime={"nodes_per_actor": 3}))
    assert s.dilation == 5.0
    assert s.control.cutoff_s == 0.01
    assert s.runtime.nodes_per_actor == 3


def test_yaml_text_is_accepted():
    s = load_scenario("duration_s: 1\ntopology: {generator: ring, n: 4, hop_km: 2}\n")
    assert len(s.links) == 4


# ---------------------------------------------------------------------- resolved scenario


def test_explicit_nodes_take_topology_defaults():
    s = load_scenario(explicit())
    assert s.node("A").hardware == "nv_center" and s.node("A").memories == 2
    assert s.node("B").hardware == "trapped_ion" and s.node("B").memories == 4
    assert s.links[0] == LinkSpec("A", "B", 12.5, 0.2)
    assert set(s.profiles) == {"nv_center", "trapped_ion"}


def test_graph_and_shortest_path():
    s = load_scenario(
        chain(
            topology={
                "nodes": [{"id": x} for x in "ABCD"],
                "links": [
                    {"a": "A", "b": "B", "length_km": 1},
                    {"a": "B", "b": "D", "length_km": 1},
                    {"a": "A", "b": "C", "length_km": 5},
                    {"a": "C", "b": "D", "length_km": 0.5},
                ],
                "hardware": "trapped_ion",
            },
            tenants=[],
        )
    )
    g = s.graph()
    assert isinstance(g, nx.Graph)
    assert g.nodes["A"]["hardware"] == "trapped_ion"
    assert g.edges["C", "D"] == {"length_km": 0.5, "attenuation_db_per_km": 0.2}
    assert s.shortest_path("A", "D") == ["A", "B", "D"]


def test_node_lookup_names_valid_nodes():
    s = load_scenario(chain())
    with pytest.raises(KeyError, match="unknown node 'zz'"):
        s.node("zz")


def test_profile_of_returns_resolved_profile():
    s = load_scenario(chain())
    assert s.profile_of("n1") == PROFILES["trapped_ion"]


def test_scenario_is_frozen_and_picklable():
    s = load_scenario(chain())
    with pytest.raises(AttributeError):
        s.seed = 2  # type: ignore[misc]
    with pytest.raises(TypeError):
        s.profiles["x"] = s.profiles["trapped_ion"]  # type: ignore[index]
    assert pickle.loads(pickle.dumps(s)) == s


def test_scenario_layer_never_imports_ray():
    import qnemu.scenario
    import qnemu.scenario.topology

    for module in (qnemu.scenario, qnemu.scenario.topology):
        source = Path(module.__file__).read_text()
        assert "import ray" not in source and "from ray" not in source


# --------------------------------------------------------------------------- round trip


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_to_dict_round_trips_examples(path):
    s = load_scenario(path)
    assert load_scenario(s.to_dict()) == s


def test_to_dict_round_trips_custom_and_overridden_profiles():
    raw = chain(
        hardware={"fast_ion": {"base": "trapped_ion", "t2_s": 0.5}},
        topology={"generator": "star", "n": 3, "hop_km": 4, "hardware": "fast_ion"},
    )
    raw["tenants"][0]["dst"] = "n3"
    s = load_scenario(raw, {"hardware.nv_center.t1_s": 10.0})
    assert s.profile_of("n0").t2_s == 0.5 and s.profile_of("n0").name == "fast_ion"
    data = s.to_dict()
    assert "base" not in data["hardware"]["fast_ion"]
    assert "nv_center" not in data["hardware"]  # unused profiles are not part of the result
    again = load_scenario(data)
    assert again == s
    assert again.to_dict() == data


def test_to_dict_round_trips_through_yaml(tmp_path):
    import yaml

    s = load_scenario(
        chain(
            topology={"generator": "waxman", "n": 8, "alpha": 0.6, "beta": 0.8, "area_km": 30},
            tenants=[],
        )
    )
    path = tmp_path / "resolved.yaml"
    path.write_text(yaml.safe_dump(s.to_dict(), sort_keys=False))
    assert load_scenario(path) == s


# ---------------------------------------------------------------------------- overrides


def test_overrides_set_nested_values():
    s = load_scenario(
        DEFAULT_SCENARIO_PATH,
        {"topology.hop_km": 20, "control.location": "n3", "seed": 99, "tenants.0.rate_hz": 5},
    )
    assert {link.length_km for link in s.links} == {20.0}
    assert s.control.location == "n3"
    assert s.seed == 99
    assert s.tenants[0].rate_hz == 5


def test_override_of_builtin_profile_field():
    s = load_scenario(chain(), {"hardware.trapped_ion.t2_s": 0.05})
    assert s.profile_of("n0").t2_s == 0.05
    assert s.profile_of("n0").t1_s == PROFILES["trapped_ion"].t1_s
    assert PROFILES["trapped_ion"].t2_s != 0.05  # the built-in itself is untouched


def test_override_with_missing_parent_is_named():
    assert_problem(
        chain(),
        "topology.bogus.x: cannot override, 'topology.bogus' does not exist",
        {"topology.bogus.x": 1},
    )
    assert_problem(
        chain(),
        "hardware.nope.t2_s: cannot override, 'hardware.nope' does not exist",
        {"hardware.nope.t2_s": 1},
    )
    assert_problem(
        chain(),
        "tenants.5.rate_hz: cannot override, 'tenants.5' does not exist",
        {"tenants.5.rate_hz": 1},
    )


def test_overrides_do_not_touch_the_input():
    raw = chain()
    before = copy.deepcopy(raw)
    apply_overrides(raw, {"topology.n": 9, "control.k_paths": 2})
    load_scenario(raw, {"topology.n": 4})
    assert raw == before


def test_override_value_is_validated_with_its_path():
    assert_problem(
        DEFAULT_SCENARIO_PATH, "topology.hop_km: must be > 0, got -1", {"topology.hop_km": -1}
    )


def test_parse_overrides_reads_values_as_yaml():
    assert parse_overrides(["topology.hop_km=20", "control.cutoff_s=auto", "name=x y"]) == {
        "topology.hop_km": 20,
        "control.cutoff_s": "auto",
        "name": "x y",
    }
    with pytest.raises(ScenarioError, match=r"path\.to\.key=value"):
        parse_overrides(["nonsense"])


# ------------------------------------------------------------------------ invalid input


def test_every_problem_is_reported_at_once():
    raw = explicit(links=[{"a": "A", "b": "Z", "length_km": 1}], duration_s=-1, dilation=0.5)
    raw["tenants"] = [
        {"name": "x", "app": "qkd", "src": "A", "dst": "A", "rate_hz": 1, "f_min": 0.4}
    ]
    problems = problems_of(raw)
    assert "duration_s: must be > 0, got -1" in problems
    assert "dilation: must be >= 1, got 0.5" in problems
    assert "tenants[0].f_min: must be >= 0.5, got 0.4" in problems
    assert any(p.startswith("topology.links[0].b: unknown node 'Z'") for p in problems)


def test_negative_link_length():
    links = [
        {"a": "A", "b": "B", "length_km": 1},
        {"a": "B", "b": "C", "length_km": 1},
        {"a": "A", "b": "C", "length_km": -3},
    ]
    assert_problem(explicit(links=links), "topology.links[2].length_km: must be > 0, got -3")


def test_negative_attenuation():
    links = [{"a": "A", "b": "B", "length_km": 1, "attenuation_db_per_km": -0.2}]
    assert_problem(
        explicit(links=links), "topology.links[0].attenuation_db_per_km: must be >= 0, got -0.2"
    )


def test_unknown_link_endpoint_lists_nodes():
    links = [{"a": "A", "b": "Z", "length_km": 1}]
    assert_problem(explicit(links=links), "topology.links[0].b: unknown node 'Z' (nodes: A, B, C)")


def test_duplicate_node_ids():
    nodes = [{"id": "A"}, {"id": "B"}, {"id": "A"}]
    assert_problem(explicit(nodes=nodes, links=[]), "topology.nodes[2].id: duplicate node id 'A'")


def test_duplicate_links_either_direction():
    links = [{"a": "A", "b": "B", "length_km": 1}, {"a": "B", "b": "A", "length_km": 2}]
    assert_problem(
        explicit(links=links), "topology.links[1]: duplicate link B-A (also topology.links[0])"
    )


def test_self_loop():
    links = [{"a": "A", "b": "A", "length_km": 1}]
    assert_problem(explicit(links=links), "topology.links[0]: self-loop on 'A'")


def test_memories_at_least_one():
    nodes = [{"id": "A", "memories": 0}, {"id": "B"}]
    assert_problem(
        explicit(nodes=nodes, links=[]), "topology.nodes[0].memories: must be >= 1, got 0"
    )
    assert_problem(chain(), "topology.memories: must be >= 1, got 0", {"topology.memories": 0})


def test_unknown_profile_lists_valid_ones():
    assert_problem(
        chain(), "topology.hardware: unknown profile 'foo' (valid: ", {"topology.hardware": "foo"}
    )
    nodes = [{"id": "A", "hardware": "bar"}, {"id": "B"}]
    assert_problem(
        explicit(nodes=nodes, links=[]),
        "topology.nodes[0].hardware: unknown profile 'bar' (valid: atomic_ensemble",
    )


def test_invalid_custom_profile_wraps_hardware_error():
    t1 = PROFILES["trapped_ion"].t1_s
    raw = chain(hardware={"fast_ion": {"base": "trapped_ion", "t2_s": 3 * t1}})
    problems = problems_of(raw)
    assert any(p.startswith("hardware.fast_ion.t2_s: ") for p in problems), problems


def test_custom_profile_field_typo_and_type():
    raw = chain(hardware={"fast_ion": {"base": "trapped_ion", "t2": 0.5, "t1_s": "long"}})
    problems = problems_of(raw)
    assert any(p.startswith("hardware.fast_ion.t2: unknown key (valid: base, ") for p in problems)
    assert "hardware.fast_ion.t1_s: must be a number, got 'long'" in problems


def test_custom_profile_needs_known_base():
    assert_problem(
        chain(hardware={"x": {"base": "unobtainium"}}),
        "hardware.x.base: unknown profile 'unobtainium' (valid: ",
    )
    assert_problem(
        chain(hardware={"x": {"t2_s": 1}}),
        "hardware.x.base: required for a custom profile unless it sets every field",
    )


def test_tenant_unknown_node():
    raw = chain()
    raw["tenants"][0]["dst"] = "n9"
    assert_problem(raw, "tenants[0].dst: unknown node 'n9' (nodes: n0, n1, n2)")


def test_tenant_unreachable():
    nodes = [{"id": x} for x in "ABCD"]
    raw = explicit(
        nodes=nodes,
        links=[{"a": "A", "b": "B", "length_km": 1}, {"a": "C", "b": "D", "length_km": 1}],
    )
    raw["tenants"] = [
        {"name": "x", "app": "qkd", "src": "A", "dst": "D", "rate_hz": 1, "f_min": 0.8}
    ]
    assert_problem(raw, "tenants[0].dst: 'D' is not reachable from 'A'")


def test_tenant_src_equals_dst():
    raw = chain()
    raw["tenants"][0]["dst"] = "n0"
    assert_problem(raw, "tenants[0].dst: same as src, got 'n0'")


def test_tenant_f_min_range_and_rate():
    raw = chain()
    raw["tenants"][0].update(f_min=1.2, rate_hz=0)
    assert_problem(raw, "tenants[0].f_min: must be <= 1, got 1.2")
    assert_problem(raw, "tenants[0].rate_hz: must be > 0, got 0")


def test_tenant_unknown_app_and_duplicate_name():
    raw = chain()
    raw["tenants"].append(dict(raw["tenants"][0], app="chess"))
    problems = problems_of(raw)
    apps = "'qkd', 'dqc', 'dqs', 'teleport', 'ghz', 'sensing' or 'qfl'"
    assert f"tenants[1].app: must be {apps}, got 'chess'" in problems


def test_duplicate_tenant_name():
    raw = chain()
    raw["tenants"].append(dict(raw["tenants"][0]))
    assert_problem(raw, "tenants[1].name: duplicate tenant 'ab' (also tenants[0])")


def test_dilation_at_least_one():
    assert_problem(chain(dilation=0.5), "dilation: must be >= 1, got 0.5")
    assert_problem(chain(dilation="fast"), "dilation: must be a number or 'auto', got 'fast'")


def test_unknown_generator_lists_valid_ones():
    raw = chain(topology={"generator": "tree", "n": 3})
    assert_problem(
        raw,
        "topology.generator: unknown generator 'tree' (valid: chain, ring, grid, "
        "star, random_geometric, waxman, file)",
    )


def test_generator_parameters_missing_and_unused():
    problems = problems_of(chain(topology={"generator": "grid", "rows": 2, "n": 4}))
    assert "topology.cols: required by generator 'grid'" in problems
    assert "topology.hop_km: required by generator 'grid'" in problems
    assert "topology.n: not used by generator 'grid', got 4" in problems


def test_disconnected_random_topology_is_a_clear_error():
    raw = chain(
        topology={"generator": "random_geometric", "n": 30, "radius": 1, "area_km": 1000},
        tenants=[],
    )
    assert_problem(
        raw, "topology: random_geometric(n=30, radius=1.0, area_km=1000.0) gave no connected graph"
    )


def test_duration_must_be_positive_and_present():
    assert_problem(chain(duration_s=0), "duration_s: must be > 0, got 0")
    raw = chain()
    del raw["duration_s"]
    assert_problem(raw, "duration_s: required")


def test_seed_must_be_an_integer():
    assert_problem(chain(seed=1.5), "seed: must be an integer, got 1.5")
    assert_problem(chain(seed="7"), "seed: must be an integer, got '7'")
    assert_problem(chain(seed=-1), "seed: must be >= 0, got -1")


def test_unknown_top_level_key_lists_valid_keys():
    assert_problem(chain(tenant=[]), "tenant: unknown key (valid: name, seed, duration_s, ")


def test_unknown_nested_key():
    assert_problem(
        chain(control={"cutof_s": 1}),
        "control.cutof_s: unknown key (valid: architecture, cutoff_s,",
    )


def test_control_location_and_architecture():
    assert_problem(
        chain(control={"location": "nowhere"}), "control.location: unknown node 'nowhere'"
    )
    assert_problem(
        chain(control={"architecture": "anarchy"}),
        "control.architecture: unknown controller 'anarchy' (valid: centralized, "
        "distributed, hierarchical, package.module:Class or path/to/file.py:Class)",
    )
    s = load_scenario(chain(control={"architecture": "mypkg.ctl:MyController"}))
    assert s.control.architecture == "mypkg.ctl:MyController"


def test_classical_loss_range():
    assert_problem(chain(classical={"loss": 1.0}), "classical.loss: must be < 1, got 1.0")


def test_generator_and_explicit_nodes_conflict():
    raw = explicit()
    raw["topology"]["generator"] = "chain"
    assert_problem(raw, "topology: give either a generator/file or nodes/links, not both")


def test_top_level_must_be_a_mapping():
    assert_problem("- a\n- b\n", "the top level must be a mapping of keys, got list")


# ------------------------------------------------------------------------- files and YAML


def test_missing_file(tmp_path):
    problems = problems_of(tmp_path / "nope.yaml")
    assert problems == [f"{tmp_path / 'nope.yaml'}: scenario file not found"]


def test_yaml_syntax_error_is_one_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ntopology: {generator: chain\nseed: 1\n")
    problems = problems_of(path)
    assert len(problems) == 1
    assert problems[0].startswith(f"{path}: invalid YAML at line ")


def test_topology_from_graphml_file(tmp_path):
    g = nx.Graph()
    g.add_node("a", hardware="nv_center", memories=2)
    g.add_edge("a", "b", length_km=12.5)
    g.add_edge("b", "c", length_km=3.0)
    nx.write_graphml(g, tmp_path / "net.graphml")
    raw = chain(topology={"file": "net.graphml", "hardware": "trapped_ion"}, tenants=[])
    (tmp_path / "s.yaml").write_text(__import__("yaml").safe_dump(raw))
    s = load_scenario(tmp_path / "s.yaml")  # the file path is relative to the scenario
    assert s.node("a").hardware == "nv_center" and s.node("a").memories == 2
    assert s.node("b").hardware == "trapped_ion"
    assert s.shortest_path("a", "c") == ["a", "b", "c"]


def test_topology_file_problems_carry_the_path(tmp_path):
    g = nx.Graph()
    g.add_node("a", hardware="warp_drive")
    g.add_edge("a", "b", length_km=1.0)
    nx.write_graphml(g, tmp_path / "net.graphml")
    raw = chain(topology={"generator": "file", "file": str(tmp_path / "net.graphml")}, tenants=[])
    assert_problem(raw, "topology.file: node 'a' hardware: unknown profile 'warp_drive'")
    raw["topology"]["file"] = str(tmp_path / "missing.graphml")
    assert_problem(raw, "topology.file: file not found")


def test_scenario_type_is_exported():
    assert Scenario.__doc__
