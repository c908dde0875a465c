"""The Python side of the first hour: Summary objects, async runs, networkx topologies,
comparisons as DataFrames (issue 16, "Python and notebooks")."""

import asyncio
import json

import networkx as nx
import pytest

import qnemu
from qnemu.experiments import compare, export_parquet, load_runs


def _chain_graph():
    graph = nx.path_graph(["a", "r", "b"])
    nx.set_edge_attributes(graph, 10.0, "length_km")
    graph.nodes["r"]["memories"] = 6
    graph.nodes["r"]["hardware"] = "trapped_ion"
    return graph


def _scenario(graph):
    return qnemu.load_scenario(
        {
            "name": "from-networkx",
            "seed": 5,
            "duration_s": 0.2,
            "topology": graph,
            "tenants": [
                {"name": "t", "app": "dqc", "src": "a", "dst": "b", "rate_hz": 20, "f_min": 0.5}
            ],
        }
    )


def test_a_networkx_graph_is_a_topology():
    scenario = _scenario(_chain_graph())
    assert [(n.id, n.memories) for n in scenario.nodes] == [("a", 4), ("r", 6), ("b", 4)]
    assert [(link.a, link.b, link.length_km) for link in scenario.links] == [
        ("a", "r", 10.0),
        ("r", "b", 10.0),
    ]
    bad = _chain_graph()
    bad.add_edge("b", "c")  # no length_km: validated like YAML
    with pytest.raises(qnemu.ScenarioError, match=r"topology.links\[2\].length_km: required"):
        _scenario(bad)


def test_run_returns_a_summary_with_attributes_and_dataframes(tmp_path):
    summary = qnemu.Emulation(_scenario(_chain_graph()), mode="virtual", results_dir=tmp_path).run()
    assert summary.status == summary["status"] == "completed"
    assert summary.to_dict() == json.loads((summary.folder / "summary.json").read_text())
    pairs = summary.pairs()
    assert len(pairs) == summary.tenants["t"]["pairs_delivered"] > 0
    assert pairs["fidelity"].mean() == pytest.approx(summary.tenants["t"]["fidelity_mean"])
    events = summary.events()
    assert set(events["event"]) >= {"pair_generated", "herald", "swap", "delivered"}
    with pytest.raises(AttributeError, match="no field 'nope'"):
        _ = summary.nope


def test_run_async_does_not_block_the_event_loop(tmp_path):
    async def main():
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        summary = await qnemu.Emulation(
            _scenario(_chain_graph()), mode="virtual", results_dir=tmp_path
        ).run_async()
        task.cancel()
        return summary, ticks

    summary, ticks = asyncio.run(main())
    assert summary.status == "completed"
    assert ticks > 1  # the loop kept running while the emulation did


def test_a_comparison_loads_as_a_dataframe_and_exports_parquet(tmp_path):
    import pandas as pd

    folder = compare(
        qnemu.DEFAULT_SCENARIO_PATH,
        controllers="distributed,centralized",
        repeats=2,
        mode="virtual",
        results_dir=tmp_path,
        quiet=True,
        overrides={"duration_s": 0.1},
    )
    runs = load_runs(folder)
    assert sorted(runs["controller"].unique()) == ["centralized", "distributed"]
    assert len(runs) == 4
    written = export_parquet(folder)
    assert written.name == "runs.parquet"
    pd.testing.assert_frame_equal(pd.read_parquet(written), runs)
    with pytest.raises(qnemu.QnemuError, match="no such file"):
        load_runs(tmp_path / "nowhere")
