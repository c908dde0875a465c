"""The applications on the real-time Ray runtime, through the real CLI in a subprocess.

Ideal memories (no decoherence, perfect gates and readout): every delivered pair is a
Werner pair of one fidelity F even in real time, so the closed forms hold exactly
(teleportation (2F+1)/3, remote CNOT (4F+1)/5) or within 4 standard errors (QBER
2(1-F)/3). Three tenants share one 10 km link, each with its own application.
"""

import json
import math
import subprocess
import sys

import pytest
import yaml

from qnemu.physics import analytic

IDEAL = {"base": "er_telecom", "t1_s": 1.0e9, "t2_s": 1.0e9}
IDEAL.update(gate_error=0.0, measurement_error=0.0)


@pytest.fixture(scope="module")
def ray_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("apps-ray")
    tenant = {"src": "a", "dst": "b", "rate_hz": 1000, "f_min": 0.5, "arrivals": "backlog"}
    scenario = {
        "name": "apps-on-ray",
        "seed": 7,
        "duration_s": 0.3,
        "dilation": 40,
        "topology": {
            "nodes": [{"id": n, "hardware": "mem", "memories": 6} for n in ("a", "b")],
            "links": [{"a": "a", "b": "b", "length_km": 10}],
        },
        "hardware": {"mem": IDEAL},
        "control": {"architecture": "distributed", "admission": "none"},
        "tenants": [{"name": app, "app": app, **tenant} for app in ("qkd", "teleport", "dqc")],
    }
    path = tmp / "apps.yaml"
    path.write_text(yaml.safe_dump(scenario))
    command = [sys.executable, "-m", "qnemu", "run", str(path), "--results", str(tmp / "runs")]
    done = subprocess.run(
        [*command, "--quiet", "--no-metrics"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (folder,) = (tmp / "runs").iterdir()
    summary = json.loads((folder / "summary.json").read_text())
    pairs = [json.loads(line) for line in (folder / "pairs.jsonl").read_text().splitlines()]
    return summary, pairs


def _werner_f(pairs):
    (f,) = {round(p["fidelity"], 9) for p in pairs}  # one fidelity: nothing decoheres
    return f


def test_the_run_is_real_time_on_ray_and_every_app_consumed_pairs(ray_run):
    summary, pairs = ray_run
    assert summary["status"] == "completed"
    assert summary["emulator"]["mode"] != "virtual"
    assert not summary["emulator"]["overloaded"]
    for app in ("qkd", "teleport", "dqc"):
        mine = [p for p in pairs if p["tenant"] == app]
        assert len(mine) == summary["tenants"][app]["pairs_delivered"] > 30, app
        assert {p["app"]["name"] for p in mine} == {app}


def test_qkd_qber_is_two_thirds_of_the_infidelity_in_both_bases(ray_run):
    summary, pairs = ray_run
    block = summary["tenants"]["qkd"]["qkd"]
    mine = [p for p in pairs if p["tenant"] == "qkd"]
    expected = analytic.qber_from_werner_fidelity(_werner_f(mine))
    assert block["sifted_bits"] > 20
    for basis in ("Z", "X"):
        sifted = [p["app"] for p in mine if p["app"]["basis_src"] == p["app"]["basis_dst"] == basis]
        # the binomial standard error at the expected rate: a few dozen bits may hold no error
        se = math.sqrt(expected * (1 - expected) / len(sifted))
        assert abs(block[f"qber_{basis.lower()}"] - expected) < 4 * se, (basis, block, expected)


def test_teleportation_and_remote_cnot_match_their_closed_forms(ray_run):
    summary, pairs = ray_run
    f = _werner_f([p for p in pairs if p["tenant"] == "teleport"])
    teleport = summary["tenants"]["teleport"]["teleport"]
    assert teleport["fidelity_mean"] == pytest.approx(analytic.teleport_mean_fidelity(f), abs=1e-9)
    f = _werner_f([p for p in pairs if p["tenant"] == "dqc"])
    gate = summary["tenants"]["dqc"]["dqc"]
    assert gate["gate_fidelity_mean"] == pytest.approx(
        analytic.remote_cnot_average_fidelity(f), abs=1e-9
    )
