"""Cluster mode end to end: the CLI joins a real two-raylet Ray cluster with ``--address``.

One real run (the expensive part, shared by the tests through a module fixture) places a
4-node chain packed two nodes per actor on a cluster of two raylets, with
``runtime.placement: auto`` (which must resolve to ``spread`` on a cluster).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from qnemu.emulation import Emulation
from qnemu.scenario import load_scenario

from .conftest import cluster_env

pytestmark = pytest.mark.ray

QNEMU = [sys.executable, "-m", "qnemu.cli"]
CHAIN = {
    "name": "cluster-chain",
    "seed": 11,
    "duration_s": 0.3,
    "dilation": 50,
    "topology": {
        "generator": "chain",
        "n": 4,
        "hop_km": 10,
        "hardware": "trapped_ion",
        "memories": 8,
    },
    "runtime": {"nodes_per_actor": 2, "placement": "auto"},
    "tenants": [
        {
            "name": "t",
            "app": "dqc",
            "src": "n0",
            "dst": "n3",
            "rate_hz": 100,
            "arrivals": "backlog",
            "f_min": 0.5,
        }
    ],
}


def _qnemu(args: list[str], timeout_s: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*QNEMU, *args], env=cluster_env(), capture_output=True, text=True, timeout=timeout_s
    )


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.fixture(scope="module")
def cluster_run(two_raylets, tmp_path_factory):
    folder = tmp_path_factory.mktemp("cluster")
    scenario = _write(folder / "chain.yaml", CHAIN)
    done = _qnemu(
        [
            "run",
            str(scenario),
            "--address",
            two_raylets,
            "--results",
            str(folder / "runs"),
            "--no-metrics",
            "--quiet",
        ]
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (run,) = (folder / "runs").iterdir()
    return scenario, run, json.loads((run / "summary.json").read_text()), done.stdout


def test_actors_are_spread_over_both_raylets(cluster_run):
    _, _, summary, stdout = cluster_run
    emulator = summary["emulator"]
    assert emulator["mode"] == "ray"
    assert emulator["placement"] == "spread"  # auto on a 2-node cluster
    assert emulator["ray_nodes"] == 2
    assert emulator["actors"] == 2 and emulator["nodes_per_actor"] == 2
    assert emulator["ray_nodes_used"] == 2
    assert "cluster: 2 Ray nodes" in stdout


def test_cluster_run_delivers_pairs_and_measures_clocks(cluster_run):
    _, _, summary, _ = cluster_run
    assert summary["tenants"]["t"]["pairs_delivered"] > 0
    emulator = summary["emulator"]
    assert len(emulator["clock_offsets_s"]) == 2  # one entry per Ray node used
    # same machine, same clock: the measured offsets are within the tolerance
    assert emulator["clock_offset_max_s"] <= emulator["clock_offset_tolerance_s"]
    assert emulator["handovers"] > 0  # ground truth crossed between the two raylets


def test_results_folder_has_the_form_of_a_local_run(cluster_run, tmp_path):
    """Same files, same summary keys as a local run of the same scenario (virtual mode
    stands in for the local run's folder layout; the emulator block keeps the keys of a
    local Ray run and adds the cluster ones)."""
    scenario, run, summary, _ = cluster_run
    local = Emulation(load_scenario(scenario), results_dir=tmp_path, mode="virtual").run()
    local_run = Path(local["results"])
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in local_run.iterdir())
    assert set(summary) == set(local)
    assert set(summary["tenants"]["t"]) == set(local["tenants"]["t"])
    for key in (
        "dilation",
        "actors",
        "nodes_per_actor",
        "ray_nodes_used",
        "lateness_p99_s",
        "overloaded",
        "messages",
        "startup_s",
    ):
        assert key in summary["emulator"]
    for line in (run / "pairs.jsonl").read_text().splitlines():
        json.loads(line)


def test_host_label_no_ray_node_has_is_exit_2(two_raylets, tmp_path):
    data = {
        **CHAIN,
        "topology": {
            "nodes": [
                {"id": "a", "hardware": "trapped_ion", "memories": 4, "machine": "qnemu_host_a"},
                {"id": "b", "hardware": "trapped_ion", "memories": 4, "machine": "no-such-machine"},
            ],
            "links": [{"a": "a", "b": "b", "length_km": 10}],
        },
        "tenants": [
            {
                "name": "t",
                "app": "qkd",
                "src": "a",
                "dst": "b",
                "rate_hz": 10,
                "arrivals": "backlog",
                "f_min": 0.5,
            }
        ],
    }
    scenario = _write(tmp_path / "bad-host.yaml", data)
    done = _qnemu(
        [
            "run",
            str(scenario),
            "--address",
            two_raylets,
            "--results",
            str(tmp_path / "runs"),
            "--no-metrics",
            "--quiet",
        ]
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "machine: no Ray node answers to 'no-such-machine'" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize(
    "metrics",
    [["--metrics-port", "0", "--metrics-linger", "0"], ["--no-metrics"]],
    ids=["metrics", "no-metrics"],
)
def test_unreachable_address_is_exit_2_within_30_s(tmp_path, metrics):
    from .conftest import free_port

    started = time.monotonic()
    done = _qnemu(
        [
            "run",
            "--address",
            f"127.0.0.1:{free_port()}",
            "--results",
            str(tmp_path / "runs"),
            *metrics,
            "--quiet",
        ],
        timeout_s=60,
    )
    assert time.monotonic() - started < 30
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no Ray cluster answers at 127.0.0.1:" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "runs").exists()  # nothing half-written
