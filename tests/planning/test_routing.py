import pytest

from qnemu.planning.model import NetworkModel
from qnemu.planning.prediction import LinkParams, NodeParams
from qnemu.planning.routing import ROUTINGS, additive_path, route
from qnemu.scenario import EXAMPLES_DIR, TenantSpec, load_scenario


def poor_memory_shortcut() -> NetworkModel:
    """S-X-D is the shortest (2 x 10 km) but X's memory dephases in 1 ms; S-Y-D is 2 x 15 km
    through a good memory (T2 = 1 s)."""
    near = LinkParams(0.02, 1e-4, 0.97, length_km=10, transmissivity=0.63)
    far = LinkParams(0.012, 1e-4, 0.97, length_km=15, transmissivity=0.5)
    links = {("S", "X"): near, ("X", "D"): near, ("S", "Y"): far, ("Y", "D"): far}
    nodes = {
        "S": NodeParams(1.0),
        "D": NodeParams(1.0),
        "X": NodeParams(1e-3),
        "Y": NodeParams(1.0),
    }
    return NetworkModel.from_params(links, nodes)


DQC = TenantSpec("dqc", "dqc", "S", "D", 100.0, 0.85)


def test_qnum_beats_additive_dijkstra():
    model = poor_memory_shortcut()
    assert additive_path(model, "S", "D") == ("S", "X", "D")
    q = route(model, DQC, "qnum", k=4)
    d = route(model, DQC, "dijkstra")
    assert q.path == ("S", "Y", "D") and d.path == ("S", "X", "D")
    assert q.utility > d.utility
    assert d.prediction.fidelity < DQC.f_min <= q.prediction.fidelity


def test_additive_is_an_alias_and_costs():
    model = poor_memory_shortcut()
    assert route(model, DQC, "additive").path == route(model, DQC, "dijkstra").path
    assert additive_path(model, "S", "D", "neg_log_eta") == ("S", "X", "D")


def test_bad_routing_names_field_and_options():
    model = poor_memory_shortcut()
    with pytest.raises(ValueError, match=r"control.routing: unknown routing 'ospf' \(valid: qnum"):
        route(model, DQC, "ospf")
    with pytest.raises(ValueError, match=r"additive_cost: unknown cost 'price' \(valid: length_km"):
        route(model, DQC, "dijkstra", additive_cost="price")
    with pytest.raises(ValueError, match="dst: unknown node 'Q'"):
        route(model, TenantSpec("t", "dqc", "S", "Q", 1.0, 0.9))


def test_routes_scenario_tenants():
    scenario = load_scenario(EXAMPLES_DIR / "mesh-two-tenants.yaml")
    model = NetworkModel.from_scenario(scenario)
    for tenant in scenario.tenants:
        for routing in ROUTINGS:
            choice = route(model, tenant, routing, k=scenario.control.k_paths)
            assert choice.path[0] == tenant.src and choice.path[-1] == tenant.dst
            assert choice.prediction.rate_hz > 0
