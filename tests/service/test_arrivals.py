"""Scenario tenants that arrive and leave (``at_s``/``until_s``), in virtual time."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import qnemu
from qnemu.emulation import Emulation
from qnemu.experiments.metrics import run_metrics

# ``early`` leaves every link of the chain idle before ``late`` arrives
SCENARIO = """
name: arrivals
seed: 4
duration_s: 2.0
topology: {generator: chain, n: 3, hop_km: 5, memories: 4}
control: {architecture: distributed, admission: none}
tenants:
  - {name: early, app: dqc, src: n0, dst: n2, rate_hz: 20, f_min: 0.5, until_s: 0.5}
  - {name: late, app: dqc, src: n2, dst: n0, rate_hz: 20, f_min: 0.5, at_s: 1.0}
"""


def test_a_tenant_arriving_after_every_other_left_gets_pairs(tmp_path) -> None:
    """Memory pairs left idle when the last tenant of their link departed wake up for the
    next one to arrive (before the fix, ``late`` got no pair at all)."""
    path = tmp_path / "arrivals.yaml"
    path.write_text(SCENARIO)
    summary = Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual").run()
    early, late = summary["tenants"]["early"], summary["tenants"]["late"]
    assert early["removed_at_s"] == 0.5 and late["added_at_s"] == 1.0
    # 1 s present at 20 Hz asked: about 20 requests; most are served
    assert late["pairs_delivered"] >= 0.5 * late["requested"] > 0


def test_service_experiment_scenarios_run_and_give_service_metrics(tmp_path) -> None:
    """The reference experiment's two scenarios hold the same tenants; a short run of
    each gives compare its ``tenants_admitted`` and ``sla_met_ratio`` cells."""
    folder = Path(__file__).parents[2] / "examples" / "experiments"
    shared = qnemu.load_scenario(folder / "service-shared.yaml")
    sliced = qnemu.load_scenario(folder / "service-slices.yaml")
    assert [t.name for t in shared.tenants] == [t.name for t in sliced.tenants]
    assert {t.slice for t in sliced.tenants} == {"gold", "bronze"}
    short = dataclasses.replace(shared, duration_s=1.5)
    row = run_metrics(Emulation(short, results_dir=tmp_path, mode="virtual").run())
    assert 0 < row["tenants_admitted"] <= len(shared.tenants)
    assert 0.0 <= row["sla_met_ratio"] <= 1.0
