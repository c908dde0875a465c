import pytest

from qnemu.planning.admission import AdmissionControl, decide
from qnemu.planning.model import NetworkModel
from qnemu.planning.prediction import LinkParams, NodeParams
from qnemu.scenario import TenantSpec

DQC = TenantSpec("dqc", "dqc", "A", "C", 50.0, 0.90)
QKD = TenantSpec("qkd", "qkd", "A", "C", 50.0, 0.70)


def chain(p: float) -> NetworkModel:
    """A-B-C, 10 km links attempting every 100 us, memories with T2 = 50 ms."""
    link = LinkParams(p, 1e-4, 0.97, length_km=10)
    nodes = {n: NodeParams(0.05) for n in "ABC"}
    return NetworkModel.from_params({("A", "B"): link, ("B", "C"): link}, nodes)


def test_rejects_qkd_that_collapses_dqc():
    d = decide(chain(0.02), [DQC], QKD)
    assert not d.admitted
    assert "would push dqc (dqc) below its f_min 0.9" in d.reason
    assert "total utility would fall" in d.reason
    assert d.per_tenant_before["dqc"] > 0 and d.per_tenant_after["dqc"] == 0.0
    assert d.utility_after < d.utility_before


def test_admits_qkd_with_spare_capacity():
    d = decide(chain(0.2), [DQC], QKD)
    assert d.admitted, d.reason
    assert d.utility_after > d.utility_before
    assert d.per_tenant_after["dqc"] == pytest.approx(50.0)
    assert d.allocation.tenants["qkd"].utility > 0


def test_admission_control_keeps_state():
    ctl = AdmissionControl(chain(0.02))
    assert ctl.request(DQC).admitted
    assert not ctl.request(QKD).admitted
    assert [t.name for t in ctl.admitted] == ["dqc"] and "qkd" in ctl.rejected
    ctl.release("dqc")
    assert ctl.request(QKD).admitted
    with pytest.raises(ValueError, match="already admitted"):
        ctl.request(QKD)
    with pytest.raises(ValueError, match=r"control\.routing"):
        AdmissionControl(chain(0.02), routing="bgp")
