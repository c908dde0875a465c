"""``GET /v1/network``: link and node state from the faults in force (virtual time, HTTP)."""

from __future__ import annotations

import qnemu
from qnemu.client import Client
from qnemu.emulation import Emulation
from qnemu.service.api import ApiServer

SCENARIO = """
name: network-state
seed: 1
duration_s: 0.5
topology: {generator: chain, n: 4, hop_km: 5, memories: 4}
control: {architecture: distributed, max_purification_rounds: 0}
tenants:
  - {name: t, app: dqc, src: n0, dst: n1, rate_hz: 20, f_min: 0.5}
faults:
  - {at_s: 0.2, link: [n1, n2]}                          # down to the end of the run
  - {at_s: 0.1, link: [n2, n3], classical_loss: 0.2}     # in force to the end
  - {at_s: 0.1, link: [n0, n1], down_for_s: 0.1}         # over by the end
  - {at_s: 0.3, node: n3, crash_for_s: 5}                # crashed to the end
"""


def test_links_are_down_while_a_fault_is_in_force(tmp_path) -> None:
    path = tmp_path / "state.yaml"
    path.write_text(SCENARIO)
    emulation = Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual")
    api = ApiServer(emulation, "127.0.0.1", 0, None)
    api.start()
    try:
        before = Client(api.url, api.token).network()
        emulation.run()
        after = Client(api.url, api.token).network()
    finally:
        api.close()
    assert {link["state"] for link in before["links"]} == {"up"}
    links = {f"{link['a']}~{link['b']}": link for link in after["links"]}
    assert links["n1~n2"]["state"] == "down"
    assert [(f["kind"], f["since_s"]) for f in links["n1~n2"]["faults"]] == [("link_down", 0.2)]
    # a crashed end takes its link down
    assert links["n2~n3"]["state"] == "down"
    kinds = [(f["kind"], f["target"]) for f in links["n2~n3"]["faults"]]
    assert kinds == [("classical_loss", "n2~n3"), ("node_crash", "n3")]
    assert links["n0~n1"]["state"] == "up" and links["n0~n1"]["faults"] == []
    assert {n["id"]: n["state"] for n in after["nodes"]} == {
        "n0": "up",
        "n1": "up",
        "n2": "up",
        "n3": "down",
    }
