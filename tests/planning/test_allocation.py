import pytest

from qnemu.planning.allocation import allocate, link_shares, memory_demand
from qnemu.planning.model import NetworkModel
from qnemu.planning.prediction import LinkParams, NodeParams
from qnemu.scenario import TenantSpec


def chain(p: float, memories: int | None = None) -> NetworkModel:
    link = LinkParams(p, 1e-4, 0.97, length_km=10)
    nodes = {n: NodeParams(0.05, memories=memories) for n in "ABC"}
    return NetworkModel.from_params({("A", "B"): link, ("B", "C"): link}, nodes)


T1 = TenantSpec("t1", "dqc", "A", "C", 50.0, 0.9)
T2 = TenantSpec("t2", "qkd", "A", "C", 150.0, 0.7)
KEY = ("A", "B")


def test_sharing_models():
    users = {KEY: ["t1", "t2"]}
    needs = {"t1": 0.3, "t2": 0.9}
    weights = {"t1": 1.0, "t2": 3.0}
    assert link_shares(users, "exclusive", needs, weights) == {("t1", KEY): 1.0, ("t2", KEY): 0.0}
    fair = link_shares(users, "weighted_fair", needs, weights)
    assert (fair["t1", KEY], fair["t2", KEY]) == pytest.approx((0.25, 0.75))
    first = link_shares(users, "first_come", needs, weights)
    assert (first["t1", KEY], first["t2", KEY]) == pytest.approx((0.3, 0.7))
    with pytest.raises(ValueError, match=r"sharing: unknown sharing model 'lottery' \(valid:"):
        link_shares(users, "lottery", needs, weights)


def test_shares_slow_and_degrade_a_tenant():
    alone = allocate(chain(0.2), [T1]).tenants["t1"]
    shared = allocate(chain(0.2), [T1, T2]).tenants["t1"]
    assert shared.shares[KEY] == pytest.approx(0.25)  # weights = requested rates 50 : 150
    assert shared.attempt_quota_hz[KEY] == pytest.approx(0.25 / 1e-4)
    alone0 = allocate(chain(0.2), [T1], max_rounds=0).tenants["t1"]
    shared0 = allocate(chain(0.2), [T1, T2], max_rounds=0).tenants["t1"]
    assert shared0.prediction.rate_hz < alone0.prediction.rate_hz
    assert shared0.prediction.fidelity < alone0.prediction.fidelity
    assert alone.utility == pytest.approx(50.0)


def test_exclusive_starves_later_tenants():
    alloc = allocate(chain(0.2), [T1, T2], sharing="exclusive")
    assert alloc.tenants["t2"].utility == 0.0
    assert "no share of link" in alloc.tenants["t2"].note


def test_memory_reservation_limits_purification():
    assert memory_demand(("A", "B", "C"), 2) == {"B": 2, "A": 3, "C": 3}
    alloc = allocate(chain(0.02, memories=1), [T1])
    t = alloc.tenants["t1"]
    assert t.utility == 0.0 and "memory: node B has 1 modes" in t.note
    two = allocate(chain(0.02, memories=2), [T1]).tenants["t1"]
    assert two.rounds <= 1 and two.memory == {"A": two.rounds + 1, "B": 2, "C": two.rounds + 1}


def test_duplicate_tenant_rejected():
    with pytest.raises(ValueError, match="duplicate tenant name 't1'"):
        allocate(chain(0.2), [T1, T1])
