"""An end node tries to deliver only the qubits a herald or swap outcome concerns.

Every outcome used to re-walk the outcome chain of every qubit the end node held, which
grew with the chain's length times the memories; now only the qubits joined by outcomes
to the pair that changed are tried (every qubit again after a reroute). The records of a
run must be exactly those of trying everything each time.
"""

from pathlib import Path

import pytest
import yaml

from qnemu.emulation import Emulation
from qnemu.node.end_node import EndNode
from qnemu.scenario import load_scenario

ROOT = Path(__file__).resolve().parents[2]


def _scenarios() -> dict[str, dict]:
    default = yaml.safe_load((ROOT / "qnemu" / "examples" / "default.yaml").read_text())
    default.update(duration_s=1.0)
    chain = yaml.safe_load((ROOT / "qnemu" / "examples" / "default.yaml").read_text())
    chain.update(duration_s=1.0)
    chain["topology"]["n"] = 8
    chain["tenants"][0].update(dst="n7", arrivals="backlog", f_min=0.5)
    chain["control"].update(admission="none", max_purification_rounds=0)
    # a link on the tenant's path is cut and mended: paths change, chains are rerouted
    ring = yaml.safe_load((ROOT / "examples" / "experiments" / "resilience.yaml").read_text())
    return {"default": default, "chain8": chain, "reroute": ring}


def _run(scenario: dict, folder: Path, monkeypatch, full_scan: bool) -> tuple[str, int]:
    tries = 0
    try_deliver = EndNode._try_deliver
    progress = EndNode.progress

    def counting(self, tenant, held):
        nonlocal tries
        tries += 1
        try_deliver(self, tenant, held)

    def scan_all(self, tenant, link_pair=None):
        progress(self, tenant, None)

    with monkeypatch.context() as patch:
        patch.setattr(EndNode, "_try_deliver", counting)
        if full_scan:
            patch.setattr(EndNode, "progress", scan_all)
        Emulation(load_scenario(scenario), results_dir=folder, mode="virtual").run()
    records = "".join(p.read_text() for p in sorted(folder.rglob("*.jsonl")))
    return records, tries


@pytest.mark.parametrize("name", ["default", "chain8", "reroute"])
def test_targeted_delivery_records_exactly_what_trying_every_qubit_records(
    name, tmp_path, monkeypatch
):
    scenario = _scenarios()[name]
    targeted, targeted_tries = _run(scenario, tmp_path / "targeted", monkeypatch, False)
    everything, all_tries = _run(scenario, tmp_path / "all", monkeypatch, True)
    assert targeted.count('"event": "delivered"') > 5
    assert targeted == everything
    assert targeted_tries < all_tries
