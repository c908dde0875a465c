import math

import networkx as nx
import pytest

from qnemu.physics.analytic import (
    bbpssw_map,
    dejmps_map,
    dephased_fidelity,
    two_segment_mean_wait_attempts,
    werner_chain_fidelity,
)
from qnemu.planning.choice import choose
from qnemu.planning.model import predict_path
from qnemu.planning.paths import PathCache, candidate_paths
from qnemu.planning.plan import NetworkPlan
from qnemu.planning.prediction import (
    LinkParams,
    NodeParams,
    mean_all_ready_s,
    predict,
    predict_rounds,
)
from qnemu.scenario import EXAMPLES_DIR, TenantSpec, load_scenario

PERFECT = NodeParams()
DQC = TenantSpec("dqc", "dqc", "a", "b", 1000.0, 0.90)
QKD = TenantSpec("qkd", "qkd", "a", "b", 1000.0, 0.50)


def one_link(fidelity: float) -> list:
    """A 100 Hz link (p = 0.01 every 100 us) between perfect memories."""
    return predict_rounds([LinkParams(0.01, 1e-4, fidelity)], [PERFECT, PERFECT])


def test_two_link_wait_matches_r8():
    link = LinkParams(0.1, 2e-4, 0.95)
    pred = predict([link, link], [PERFECT] * 3)
    assert pred.wait_s == pytest.approx(2e-4 * two_segment_mean_wait_attempts(0.1), rel=1e-12)
    assert pred.rate_hz == pytest.approx(1.0 / pred.wait_s)


def test_perfect_memories_give_werner_chain():
    fs = [0.97, 0.93, 0.95, 0.9]
    links = [LinkParams(0.02 * (i + 1), 1e-4, f) for i, f in enumerate(fs)]
    pred = predict(links, [PERFECT] * 5)
    assert pred.fidelity == pytest.approx(werner_chain_fidelity(fs), abs=1e-9)


def test_mean_all_ready_exponential_limit():
    links = [LinkParams(1e-3, 1e-4, 0.9)] * 5  # E[max of 5 exp] = H_5 / r
    harmonic = sum(1.0 / i for i in range(1, 6))
    assert mean_all_ready_s(links) == pytest.approx(harmonic * 0.1, rel=1e-9)
    many = [LinkParams(1e-3 * (1 + i % 3), 1e-4, 0.9) for i in range(14)]  # quadrature path
    exact = [LinkParams(1e-3 * (1 + i % 3), 1e-4, 0.9) for i in range(12)]
    assert mean_all_ready_s(many) > mean_all_ready_s(exact)


def test_memory_dephasing_lowers_fidelity_per_r4():
    link = LinkParams(0.01, 1e-4, 1.0)
    t2 = 0.5
    pred = predict([link], [NodeParams(t2), NodeParams(t2)], classical_delay_s=0.01)
    # Phi+ with both halves stored 10 ms: R4 with both_halves
    assert pred.fidelity == pytest.approx(dephased_fidelity(1.0, 0.01, t2, both_halves=True))


def test_purification_rounds_use_the_maps():
    raw, one, two = one_link(0.80)
    p, f = bbpssw_map(0.80, 0.80)
    assert (raw.rate_hz, raw.fidelity) == pytest.approx((100.0, 0.80))
    assert one.fidelity == pytest.approx(f) and one.rate_hz == pytest.approx(100.0 * p / 2)
    p2, bell2 = dejmps_map(*one.bell)
    assert two.fidelity == pytest.approx(bell2[0])
    assert two.rate_hz == pytest.approx(one.rate_hz * p2 / 2)
    bb = predict([LinkParams(0.01, 1e-4, 0.80)], [PERFECT, PERFECT], 1, method="bbpssw")
    assert bb.fidelity == pytest.approx(f)


def test_textbook_example_with_real_maps():
    """Textbook: R 100 Hz / F 0.80 raw vs 30 Hz / 0.92 after one round. The real maps on a
    Werner 0.80 give 38.4 Hz / 0.838 after one round (R6) and 14.3 Hz / 0.944 after two;
    F 0.80 gives no BB84 key (QBER 13.3 %), so both tenants purify at these numbers."""
    raw, one, two = one_link(0.80)
    assert (one.rate_hz, one.fidelity) == pytest.approx((38.44, 0.8382), rel=1e-3)
    assert (two.rate_hz, two.fidelity) == pytest.approx((14.31, 0.9436), rel=1e-3)
    candidates = [(("a", "b"), [raw, one, two])]
    assert choose(DQC, candidates).rounds == 2  # one round does not reach 0.90
    assert choose(QKD, candidates).rounds == 2  # zero key at 0.80, 0.838


def test_qnum_purifies_for_dqc_and_skips_for_qkd():
    """The textbook decision with the real maps: raw 100 Hz / 0.88, one round 42.6 / 0.910."""
    preds = one_link(0.88)
    assert (preds[1].rate_hz, preds[1].fidelity) == pytest.approx((42.64, 0.9099), rel=1e-3)
    candidates = [(("a", "b"), preds)]
    dqc, qkd = choose(DQC, candidates), choose(QKD, candidates)
    assert (dqc.rounds, dqc.utility) == (1, pytest.approx(preds[1].rate_hz))
    assert qkd.rounds == 0 and qkd.utility > 0


def test_swap_success_scales_rate():
    link = LinkParams(0.05, 1e-4, 0.95)
    full = predict([link] * 3, [PERFECT] * 4)
    half = predict([link] * 3, [PERFECT, NodeParams(swap_success=0.5), PERFECT, PERFECT])
    assert half.rate_hz == pytest.approx(full.rate_hz / 2)


def test_bad_inputs_name_the_field():
    with pytest.raises(ValueError, match="purification_rounds"):
        predict([LinkParams(0.1, 1e-4, 0.9)], [PERFECT] * 2, 3)
    with pytest.raises(ValueError, match=r"purification: unknown method 'x' \(valid: dejmps"):
        predict([LinkParams(0.1, 1e-4, 0.9)], [PERFECT] * 2, 1, method="x")
    with pytest.raises(ValueError, match="nodes: need"):
        predict([LinkParams(0.1, 1e-4, 0.9)], [PERFECT])
    with pytest.raises(ValueError, match="p_attempt"):
        LinkParams(1.5, 1e-4, 0.9)


def test_candidate_paths_cached_and_refreshed():
    g = nx.cycle_graph(6)
    nx.relabel_nodes(g, str, copy=False)
    cache = PathCache(g, weight=None)
    first = candidate_paths(g, "0", "3", 2, weight=None, cache=cache)
    assert sorted(first) == [("0", "1", "2", "3"), ("0", "5", "4", "3")]
    candidate_paths(g, "0", "3", 2, weight=None, cache=cache)
    assert cache.misses == 1
    g.add_edge("0", "3")  # topology change: noticed, paths recomputed
    assert candidate_paths(g, "0", "3", 1, weight=None, cache=cache) == [("0", "3")]
    with pytest.raises(ValueError, match=r"src: unknown node 'Z' \(nodes: 0, 1"):
        candidate_paths(g, "Z", "3", 2)
    with pytest.raises(ValueError, match="k_paths"):
        candidate_paths(g, "0", "3", 0)


def test_predict_path_from_plan_and_scenario():
    scenario = load_scenario(EXAMPLES_DIR / "mesh-two-tenants.yaml")
    plan = NetworkPlan.build(scenario)
    path = plan.paths["dqc-ae"]
    from_plan = predict_path(plan, path)
    from_scenario = predict_path(scenario, path)
    assert 0.0 < from_scenario.rate_hz <= from_plan.rate_hz  # the plan has >= 1 slot pair
    assert 0.25 <= from_plan.fidelity <= 1.0
    model = plan.network_model()
    assert math.isfinite(model.nodes["A"].cutoff_s)
