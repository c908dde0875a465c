"""Packing several nodes per actor changes where nodes run, not what they do.

What is compared: a 40-node chain (trapped ion, 10 km hops, four QKD tenants whose paths
cross pack boundaries) run with ``nodes_per_actor: 4`` and with ``nodes_per_actor: 1``,
same seeds, several repeats. The runs are in virtual time, through the same code path a
packed Ray run takes: one :class:`~qnemu.runtime.host.Host` per actor, the groups made by
:func:`qnemu.runtime.placement.group_nodes`, and every message and ground-truth hand-over between
hosts encoded as a msgpack frame and decoded by :class:`~qnemu.wire.messages.FrameReader`, as
:class:`~qnemu.runtime.transport.SocketTransport` does. Only the wall clock and the sockets
are left out (a frame reaches its host after the sending handler returns, at the
same emulated time, in order). Per seed and tenant, delivered rate and mean fidelity are
compared: the mean paired difference must be within three standard errors of zero, and
within 10% of the value. One real packed Ray run on two raylets is in ``test_cluster_run.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from qnemu.planning.plan import NetworkPlan
from qnemu.results import SummaryBuilder
from qnemu.runtime.host import Host
from qnemu.runtime.placement import group_nodes
from qnemu.runtime.scheduler import VirtualScheduler
from qnemu.scenario import load_scenario
from qnemu.wire.frames import FrameReader, frame

SEEDS = (1, 2, 3, 4, 5)
TENANTS = [("t0", "n2", "n5"), ("t1", "n12", "n15"), ("t2", "n22", "n25"), ("t3", "n34", "n37")]


def chain(seed: int):
    return load_scenario(
        {
            "name": "chain40",
            "seed": seed,
            "duration_s": 0.4,
            "topology": {
                "generator": "chain",
                "n": 40,
                "hop_km": 10,
                "hardware": "trapped_ion",
                "memories": 8,
            },
            "tenants": [
                {
                    "name": name,
                    "app": "dqc",
                    "src": src,
                    "dst": dst,
                    "rate_hz": 100,
                    "f_min": 0.5,
                    "arrivals": "backlog",
                }
                for name, src, dst in TENANTS
            ],
        }
    )


def run_packed(scenario, per_actor: int) -> dict:
    """Run ``scenario`` with one Host per pack, frames between hosts really encoded."""
    plan = NetworkPlan.build(scenario)
    ids = [n.id for n in scenario.nodes]
    groups = group_nodes(ids, per_actor)
    placement = {node: i for i, group in enumerate(groups) for node in group}
    hosts = [Host(i, plan, group, placement) for i, group in enumerate(groups)]
    readers = [FrameReader() for _ in hosts]
    scheduler = VirtualScheduler(stop_at_s=scenario.duration_s)
    crossings = [0]

    def sender(peer: int, payload: list) -> None:
        # like a socket: the frame arrives after the sending handler returns, in order
        crossings[0] += 1
        data = frame(payload)
        scheduler.schedule(
            scheduler.now(),
            lambda: [hosts[peer].on_frame(decoded) for decoded in readers[peer].feed(data)],
        )

    for host in hosts:
        host.attach(scheduler, sender)
        scheduler.schedule(0.0, host.start)
    scheduler.run(scenario.duration_s)
    builder = SummaryBuilder([(t.name, t.app, t.f_min) for t in scenario.tenants])
    events = sorted(
        (e for h in hosts for e in h.drain_events()),
        key=lambda e: e.get("t_s", e.get("t_delivered_s", 0.0)),
    )
    builder.add(events)
    return {"table": builder.tenant_table(scenario.duration_s), "crossings": crossings[0]}


@pytest.fixture(scope="module")
def paired():
    rows = []
    for seed in SEEDS:
        scenario = chain(seed)
        one, four = run_packed(scenario, 1), run_packed(scenario, 4)
        assert one["crossings"] > four["crossings"] > 0  # packs of 4 still talk across hosts
        for name, *_ in TENANTS:
            rows.append((one["table"][name], four["table"][name]))
    return rows


@pytest.mark.parametrize("key", ["rate_hz", "fidelity_mean"])
def test_packing_4_matches_1_node_per_actor(paired, key):
    pairs = [(a[key], b[key]) for a, b in paired if a[key] is not None and b[key] is not None]
    assert len(pairs) >= len(SEEDS) * len(TENANTS) // 2
    one = np.array([a for a, _ in pairs])
    four = np.array([b for _, b in pairs])
    assert one.mean() > 0
    diff = four - one
    stderr = diff.std(ddof=1) / np.sqrt(len(diff)) if len(diff) > 1 else 0.0
    assert abs(diff.mean()) <= max(3 * stderr, 1e-12), (one.mean(), four.mean(), stderr)
    assert abs(diff.mean()) <= 0.1 * one.mean()
