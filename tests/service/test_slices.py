"""Slices isolate: a greedy neighbor in another slice does not lower a tenant's pairs."""

from __future__ import annotations

import math

import pytest

import qnemu
from qnemu.emulation import Emulation
from qnemu.errors import ScenarioError

BASE = """
name: slices
seed: 11
duration_s: 4
topology: {generator: chain, n: 2, hop_km: 10, memories: 4}
control: {admission: none}
"""
SLICES = """
slices:
  - {name: gold, memory_share: 0.5}
  - {name: bronze, memory_share: 0.5}
"""
GOLD = """
  - {name: g, app: dqc, src: n0, dst: n1, rate_hz: 100, f_min: 0.5, arrivals: backlog, SLICE_G}
"""
GREEDY = "".join(
    f"  - {{name: x{i}, app: dqc, src: n0, dst: n1, rate_hz: 1000, f_min: 0.5, "
    f"arrivals: backlog, SLICE_X}}\n"
    for i in range(3)
)


def _delivered(tmp_path, text: str, tag: str) -> dict[str, int]:
    path = tmp_path / f"{tag}.yaml"
    path.write_text(text)
    summary = Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual").run()
    return {name: t["pairs_delivered"] for name, t in summary["tenants"].items()}


def _scenario(sliced: bool, greedy: bool) -> str:
    tenants = "tenants:" + GOLD + (GREEDY if greedy else "")
    tenants = tenants.replace(", SLICE_G", ", slice: gold" if sliced else "")
    tenants = tenants.replace(", SLICE_X", ", slice: bronze" if sliced else "")
    return BASE + (SLICES if sliced else "") + tenants


def test_a_greedy_neighbor_in_another_slice_changes_nothing_beyond_noise(tmp_path) -> None:
    """Measured (seed 11, 4 s): g alone in its slice 199 pairs, next to three greedy
    tenants in the other slice 207; without slices the greedy tenants cut it to 109."""
    alone = _delivered(tmp_path, _scenario(sliced=True, greedy=False), "alone")["g"]
    crowded = _delivered(tmp_path, _scenario(sliced=True, greedy=True), "crowded")
    unsliced = _delivered(tmp_path, _scenario(sliced=False, greedy=True), "unsliced")["g"]
    noise = 4.0 * math.sqrt(alone + crowded["g"])  # 4 SE of a difference of two counts
    assert abs(crowded["g"] - alone) <= noise
    assert sum(crowded[f"x{i}"] for i in range(3)) > 0  # the neighbor did get pairs
    assert alone - unsliced > noise  # without slices the same neighbor hurts: the test has power


def test_slices_split_every_nodes_memories(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(_scenario(sliced=True, greedy=True))
    plan = Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual").plan
    link = plan.links["n0~n1"]
    assert link.mode_slice == ("gold", "gold", "bronze", "bronze")
    assert link.slots_a == (0, 1, 2, 3)
    assert link.tenants_of(0) == ("g",)
    assert link.tenants_of(3) == ("x0", "x1", "x2")


def test_attempt_share_stretches_the_attempt_period(tmp_path) -> None:
    text = _scenario(sliced=True, greedy=False).replace(
        "memory_share: 0.5}\n  - {name: bronze",
        "memory_share: 0.5, attempt_share: 0.25}\n  - {name: bronze",
    )
    path = tmp_path / "a.yaml"
    path.write_text(text)
    plan = Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual").plan
    link = plan.links["n0~n1"]
    assert link.attempt_period_s(0) == pytest.approx(4 * link.model.period_s)


def test_a_slice_without_memory_where_its_tenant_needs_it_is_refused(tmp_path) -> None:
    text = _scenario(sliced=True, greedy=False).replace(
        "memory_share: 0.5}\n  - {name: bronze, memory_share: 0.5}", "memory_share: 0.1}"
    )
    path = tmp_path / "none.yaml"
    path.write_text(text)
    with pytest.raises(ScenarioError, match="slice 'gold' gets 0 memory slots"):
        Emulation(qnemu.load_scenario(path), results_dir=tmp_path, mode="virtual")
