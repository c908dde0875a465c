"""The status fidelity is the network's estimate from what the end nodes measured."""

from __future__ import annotations

import math

import pytest

import qnemu
from qnemu.client import Client
from qnemu.emulation import Emulation
from qnemu.physics import analytic
from qnemu.service.api import ApiServer
from qnemu.service.estimate import MIN_SIFTED, FidelityEstimates, combined_readout_error

# dephasing-dominated memories (T2 = 4 ms) and 2 % readout error: the Z and X QBERs differ
# (not a Werner pair), so the estimate must not assume one
SCENARIO = """
name: fidelity-estimate
seed: {seed}
duration_s: 12.0
topology:
  nodes:
    - {{id: a, hardware: mem, memories: 4}}
    - {{id: r, hardware: mem, memories: 4}}
    - {{id: b, hardware: mem, memories: 4}}
  links: [{{a: a, b: r, length_km: 10}}, {{a: r, b: b, length_km: 10}}]
hardware:
  mem: {{base: er_telecom, t1_s: 0.05, t2_s: 0.004, measurement_error: 0.02}}
control: {{architecture: distributed, admission: none, max_purification_rounds: 0}}
tenants:
  - {{name: k, app: qkd, src: a, dst: b, rate_hz: 500, f_min: 0.5, arrivals: backlog}}
  - {{name: t, app: teleport, src: a, dst: r, rate_hz: 20, f_min: 0.5}}
"""


def _delivered(tenant: str, basis: str, flip: bool) -> dict:
    app = {"name": "qkd", "basis_src": basis, "basis_dst": basis, "bit_src": 0}
    return {"tenant": tenant, "src": "a", "dst": "b", "app": {**app, "bit_dst": int(flip)}}


def test_werner_counts_give_the_werner_fidelity() -> None:
    # a Werner pair of F = 0.85 has QBER 2(1 - F)/3 = 0.1 in both bases
    estimates = FidelityEstimates({})
    for basis in ("Z", "X"):
        for i in range(1000):
            estimates.observe(_delivered("k", basis, i < 100))
    fields = estimates.fields("k", "qkd")
    assert math.isclose(fields["fidelity_estimate"], 0.85)
    assert analytic.qber_from_werner_fidelity(0.85) == pytest.approx(0.1)
    assert 0.0 < fields["fidelity_estimate_se"] < 0.02


def test_readout_error_is_taken_out() -> None:
    # perfect pairs read with 5 % error at each end: every observed error is readout
    error = combined_readout_error(0.05, 0.05)
    estimates = FidelityEstimates({"a": 0.05, "b": 0.05})
    for basis in ("Z", "X"):
        for i in range(1000):
            estimates.observe(_delivered("k", basis, i < round(1000 * error)))
    assert math.isclose(estimates.fields("k", "qkd")["fidelity_estimate"], 1.0, abs_tol=1e-9)


def test_no_estimate_before_enough_sifted_bits_or_without_measurements() -> None:
    estimates = FidelityEstimates({})
    for _ in range(MIN_SIFTED - 1):
        estimates.observe(_delivered("k", "Z", False))
        estimates.observe(_delivered("k", "X", False))
    assert estimates.fields("k", "qkd")["fidelity_estimate"] is None
    estimates.observe(_delivered("k", "Z", False))
    estimates.observe(_delivered("k", "X", False))
    assert estimates.fields("k", "qkd")["fidelity_estimate"] is not None
    teleport = estimates.fields("t", "teleport")
    assert teleport["fidelity_estimate"] is None
    assert "nothing measured" in teleport["fidelity_estimate_from"]


def test_status_estimate_matches_the_true_mean_fidelity(tmp_path) -> None:
    """Over a 12 s virtual run (about 1,700 pairs, 850 sifted bits) the QKD estimate read
    over real HTTP is within 4 standard errors of the delivered pairs' true mean fidelity
    (measured, seeds 7/8/9: estimate 0.656/0.686/0.672, true 0.664/0.665/0.665, SE 0.025;
    the Werner formula 1 - 3/2 mean QBER would read 0.03 high here)."""
    path = tmp_path / "estimate.yaml"
    path.write_text(SCENARIO.format(seed=7))
    emulation = Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual")
    api = ApiServer(emulation, "127.0.0.1", 0, None)
    api.start()
    try:
        summary = emulation.run()
        client = Client(api.url, api.token)
        qkd, teleport = client.status("k"), client.status("t")
    finally:
        api.close()
    true = summary["tenants"]["k"]["fidelity_mean"]
    estimate, se = qkd["fidelity_estimate"], qkd["fidelity_estimate_se"]
    assert qkd["fidelity_estimate_from"].startswith("qkd: ")
    assert se < 0.04  # the test has power: the Werner formula's bias is about 1 SE
    assert abs(estimate - true) <= 4.0 * se
    assert qkd["predicted_fidelity"] is not None  # the model's figure, reported apart
    assert teleport["fidelity_estimate"] is None and teleport["pairs_delivered"] > 0
