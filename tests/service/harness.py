"""A virtual-time run of the real node logic that tenants are added to live, at set
emulated times, as the driver adds them (``LiveTenants`` with the host's nodes)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import qnemu
from qnemu.planning.plan import NetworkPlan
from qnemu.runtime.host import Host
from qnemu.runtime.scheduler import VirtualScheduler
from qnemu.service.live import LiveTenants

Action = Callable[[LiveTenants], object]


def run_live(path: Path, actions: list[tuple[float, Action]]) -> tuple[LiveTenants, list[dict]]:
    """Run the scenario at ``path``, doing each (emulated s, action) on its live tenants;
    returns them and every record of the run."""
    plan = NetworkPlan.build(qnemu.load_scenario(path))
    ids = [n.id for n in plan.scenario.nodes]
    host = Host(0, plan, ids, dict.fromkeys(ids, 0))
    scheduler = VirtualScheduler(stop_at_s=plan.scenario.duration_s)
    host.attach(scheduler, lambda *_: None)
    scheduler.schedule(0.0, host.start)

    def add(node: str, spec: dict, path: list[str], rounds: int) -> None:
        host.nodes[node].add_tenant(spec, path, rounds)

    def remove(node: str, tenant: str) -> bool:
        return host.nodes[node].remove_tenant(tenant, "api")

    live = LiveTenants(plan, host.now, add, remove)
    events: list[dict] = []
    for at_s, act in actions:
        scheduler.run(at_s)
        events += host.drain()["events"]
        act(live)
    scheduler.run(plan.scenario.duration_s)
    return live, events + host.drain()["events"]
