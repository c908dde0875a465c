"""The fault report folds records in the order the driver receives them, host by host, not
in emulated-time order: a neighbour's detection may arrive before the crashed host's own
fault record (plain classes, no Ray)."""

from qnemu import records
from qnemu.fault_report import FaultTally


def _crash(at_s: float) -> records.Fault:
    return records.Fault(t_s=at_s, kind="node_crash", target="n1", until_s=0.2, tenants=["t"])


def _detected(t_s: float, node: str = "n0", up: bool = False) -> records.Detected:
    return records.Detected(t_s=t_s, node=node, link="n0~n1", up=up, silent_s=0.003)


def test_a_detection_folded_before_its_fault_record_still_counts():
    tally = FaultTally()
    tally.add(_detected(0.0841))  # drained from n0's host first
    tally.add(_detected(0.0835, node="n2"))  # the earliest detection, by another neighbour
    tally.add(_crash(0.08))  # n1's own record, in the report of the process killed
    (row,) = tally.summary()
    assert abs(row["detected_s"] - 0.0035) < 1e-12


def test_detections_before_the_fault_by_the_crashed_node_or_of_a_link_coming_up_do_not():
    tally = FaultTally()
    tally.add(_detected(0.05))  # before the crash: another outage
    tally.add(_detected(0.09, node="n1"))  # the crashed node itself
    tally.add(_detected(0.095, up=True))
    tally.add(_crash(0.08))
    assert tally.summary()[0]["detected_s"] is None
    tally.add(_detected(0.1))  # folded after the fault: as before
    assert abs(tally.summary()[0]["detected_s"] - 0.02) < 1e-12
