"""Placement, address and clock checks as pure functions (no Ray started)."""

from __future__ import annotations

import socket
import time

import pytest

from qnemu.errors import EmulationError, ScenarioError
from qnemu.runtime.placement import (
    RayNode,
    auto_nodes_per_actor,
    group_nodes,
    plan_placement,
    resolve_placement,
)
from qnemu.runtime.ray_backend import check_address, check_clock_offsets, resolve_address

HEAD = RayNode("aaaa", "10.0.0.1", frozenset({"qnemu_host_a"}), is_driver=True)
WORKER = RayNode("bbbb", "10.0.0.2", frozenset({"gpu-box"}))


def test_auto_placement_is_spread_on_a_cluster_and_pack_on_one_machine():
    assert resolve_placement("auto", [HEAD, WORKER]) == "spread"
    assert resolve_placement("auto", [HEAD]) == "pack"
    assert resolve_placement("pack", [HEAD, WORKER]) == "pack"


@pytest.mark.parametrize(
    ("nodes", "cpus", "per_actor", "actors"),
    [(4, 2, 1, 4), (8, 2, 1, 8), (9, 2, 5, 2), (20, 2, 10, 2), (200, 2, 100, 2), (200, 16, 13, 16)],
)
def test_auto_packing_is_one_node_per_actor_up_to_four_per_core_then_one_actor_per_core(
    nodes, cpus, per_actor, actors
):
    assert auto_nodes_per_actor(nodes, cpus) == per_actor
    assert len(group_nodes([f"n{i}" for i in range(nodes)], per_actor)) == actors


def test_spread_cuts_contiguous_blocks_and_never_splits_a_pack():
    groups = group_nodes([f"n{i}" for i in range(8)], 2)
    assert groups == [["n0", "n1"], ["n2", "n3"], ["n4", "n5"], ["n6", "n7"]]
    targets = plan_placement(groups, {}, "spread", [HEAD, WORKER])
    assert targets == ["aaaa", "aaaa", "bbbb", "bbbb"]
    assert plan_placement(groups, {}, "pack", [HEAD, WORKER]) == ["aaaa"] * 4


def test_host_labels_pin_packs_and_end_them():
    ids = ["a", "b", "c", "d"]
    hosts = {"a": "10.0.0.2", "b": "10.0.0.2", "c": "gpu-box", "d": None}
    groups = group_nodes(ids, 4, hosts)
    assert groups == [["a", "b"], ["c"], ["d"]]  # a pack ends where the host label changes
    assert plan_placement(groups, hosts, "pack", [HEAD, WORKER]) == ["bbbb", "bbbb", "aaaa"]


def test_unknown_host_label_is_a_clear_error():
    with pytest.raises(EmulationError, match=r"machine: no Ray node answers to 'nowhere'"):
        plan_placement([["a"]], {"a": "nowhere"}, "spread", [HEAD, WORKER])


def test_nodes_per_actor_below_one_is_rejected():
    with pytest.raises(ScenarioError, match="nodes_per_actor"):
        group_nodes(["a", "b"], 0)


@pytest.mark.parametrize(
    "address, expected",
    [
        ("10.1.2.3:6379", ("10.1.2.3", 6379)),
        ("ray://head.example:10001", ("head.example", 10001)),
    ],
)
def test_addresses_resolve(address, expected):
    assert resolve_address(address) == expected


@pytest.mark.parametrize("address", ["head", "http://x:1", "x:99999", ":6379"])
def test_malformed_addresses_are_clear_errors(address):
    with pytest.raises(EmulationError, match="address"):
        resolve_address(address)


def test_dead_address_fails_fast():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connection refused
        started = time.monotonic()
        with pytest.raises(EmulationError, match=f"no Ray cluster answers at 127.0.0.1:{port}"):
            check_address(f"127.0.0.1:{port}")
    assert time.monotonic() - started < 6


def test_clock_offset_beyond_tolerance_refuses_to_start():
    offsets = {
        "aaaa": {"offset_s": 1e-5, "rtt_s": 1e-3},
        "bbbb": {"offset_s": -4e-3, "rtt_s": 1e-3},
    }
    assert check_clock_offsets(offsets, 5e-3) == pytest.approx(4e-3)
    with pytest.raises(EmulationError, match=r"clock: Ray node bbbb is 4.000 ms off"):
        check_clock_offsets(offsets, 1e-3)
