"""Every reference experiment's scenario loads and its sweeps form a valid plan."""

from pathlib import Path

import pytest

from qnemu.experiments import compare
from qnemu.experiments.plan import build_plan, parse_sweep
from qnemu.scenario import load_scenario

HERE = Path(__file__).parents[2] / "examples" / "experiments"
#: The sweeps of run_all.sh (experiment 2's knob belongs to the controllers).
SWEEPS = {
    "latency-coherence.yaml": ["hardware.trapped_ion.t2_s=0.005,0.02,0.1,0.5,1"],
    "scheduling.yaml": [
        "tenants.0.dst=n2,n3,n4,n5,n6",
        "control.scheduling=synchronous,asynchronous",
    ],
    "swap-probability.yaml": [
        "tenants.0.dst=n2,n3,n4,n5",
        "hardware.trapped_ion.swap_success=0.5,1.0",
    ],
    "rate-fidelity.yaml": [],
}


@pytest.mark.parametrize("name", sorted(SWEEPS))
def test_reference_scenario_and_sweeps_are_valid(name):
    load_scenario(HERE / name)
    plan = build_plan(HERE / name, ["distributed"], 1, None, parse_sweep(SWEEPS[name]))
    assert plan.runs


def test_run_all_names_every_reference_scenario():
    script = (HERE / "run_all.sh").read_text()
    for name in SWEEPS:
        assert f"$HERE/{name}" in script


def test_probabilistic_swapping_runs_in_virtual_time(tmp_path):
    folder = compare(
        HERE / "swap-probability.yaml",
        "distributed",
        repeats=1,
        sweep=["tenants.0.dst=n2,n4", "hardware.trapped_ion.swap_success=0.5,1.0"],
        results_dir=tmp_path,
        mode="virtual",
        quiet=True,
    )
    assert (folder / "sweep-rate_hz.png").is_file()
    assert len((folder / "runs.csv").read_text().splitlines()) == 1 + 4
