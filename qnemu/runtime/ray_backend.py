"""Every Ray call qnemu makes lives here: starting Ray, the QuantumNode actor, placement.

A ``QuantumNode`` actor is a thin shell over :class:`qnemu.runtime.host.Host`: it owns
the host's socket transport and real-time scheduler and answers the driver's control
calls (listen, connect, calibrate, run, drain, finish). Classical messages never travel
as Ray calls: Ray only places, starts, stops and collects.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import time
from typing import Any

from qnemu.clock import Clock
from qnemu.errors import EmulationError
from qnemu.nodes.plan import NetworkPlan
from qnemu.runtime.host import Host
from qnemu.runtime.scheduler import RealTimeScheduler
from qnemu.runtime.transport import SocketTransport
from qnemu.scenario import Scenario

PING = -9


class QuantumNode:
    """The Ray actor hosting one or more quantum nodes (see module docstring)."""

    def __init__(self, host_id: int, scenario: Scenario, node_ids: list[str],
                 placement: dict[str, int], bind_host: str = "127.0.0.1") -> None:
        self.plan = NetworkPlan.build(scenario)
        self.host = Host(host_id, self.plan, node_ids, placement)
        self.transport = SocketTransport(host_id, self._on_frame, bind_host)
        self.scheduler: RealTimeScheduler | None = None
        self._pings: list[float] = []

    def _on_frame(self, payload: list[Any]) -> None:
        if payload[0] == PING:
            self._pings.append(time.time() - payload[1])
        else:
            self.host.on_frame(payload)

    async def listen(self) -> dict[str, Any]:
        """Open the listening socket; returns its address and where Ray placed us."""
        import ray

        address, port = await self.transport.listen()
        return {"address": address, "port": port, "pid": os.getpid(),
                "ray_node": ray.get_runtime_context().get_node_id()}

    async def connect(self, book: dict[int, tuple[str, int]]) -> None:
        """Dial every other host."""
        await self.transport.connect(book)

    async def calibrate(self, samples: int = 100, spacing_s: float = 0.002) -> dict[str, list]:
        """Measure timer lateness and one-way frame latency to oneself, in wall seconds."""
        loop = asyncio.get_running_loop()
        clock = Clock(time.time() + 0.01)
        scheduler = RealTimeScheduler(clock, loop, stop_at_s=math.inf)
        done = loop.create_future()
        for i in range(samples):
            scheduler.schedule(i * spacing_s, lambda: None, measured=True)
        scheduler.schedule(samples * spacing_s, lambda: done.set_result(None))
        scheduler.start()
        await self.transport.connect({-1: (self.transport.bind_host,
                                           self.transport._server.sockets[0].getsockname()[1])})
        for _ in range(samples // 2):
            self.transport.send(-1, [PING, time.time()])
            await asyncio.sleep(spacing_s)
        await done
        return {"timer": scheduler.lateness_s, "transport": self._pings}

    async def run(self, t0_wall: float, dilation: float, duration_s: float) -> None:
        """Arm the scheduler: nodes start at emulated 0 (wall ``t0_wall``)."""
        loop = asyncio.get_running_loop()
        self.scheduler = RealTimeScheduler(Clock(t0_wall, dilation), loop, stop_at_s=duration_s)
        self.host.attach(self.scheduler, self.transport.send)
        self.scheduler.schedule(0.0, self.host.start)
        self.scheduler.start()

    async def drain(self) -> dict[str, Any]:
        """Events and samples recorded since the last drain (see ``Host.drain``)."""
        return self.host.drain()

    async def finish(self) -> dict[str, Any]:
        """Stop releasing events, close sockets, return the last events and statistics."""
        if self.scheduler is not None:
            self.scheduler.stop_at_s = -math.inf
        await self.transport.close()
        return {
            **self.host.drain(),
            "messages_sent": self.host.messages_sent,
            "messages_released": self.host.messages_released,
            "frames_sent": self.transport.frames_sent,
            "handovers": self.host.store.handovers,
        }


def start_ray(address: str | None) -> bool:
    """Connect to ``address`` or start an embedded local Ray; True if we started it."""
    import ray

    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    try:
        ray.init(address=address or "local", include_dashboard=False,
                 logging_level=logging.WARNING, configure_logging=True,
                 log_to_driver=True, namespace="qnemu")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise EmulationError(f"ray: cannot connect to {address or 'local'}: {exc}") from exc
    return address is None


def stop_ray() -> None:
    """Shut the embedded Ray down."""
    import ray

    ray.shutdown()


def spawn(scenario: Scenario, groups: list[list[str]], bind_host: str = "127.0.0.1") -> list:
    """One QuantumNode actor per group of nodes; returns the actor handles."""
    import ray

    placement = {node: i for i, group in enumerate(groups) for node in group}
    actor_class = ray.remote(QuantumNode).options(num_cpus=0, max_concurrency=64)
    return [actor_class.remote(i, scenario, group, placement, bind_host)
            for i, group in enumerate(groups)]


def call_all(actors: list, method: str, *args: Any, timeout_s: float = 60.0) -> list:
    """Call one method on every actor and wait for all results."""
    import ray

    try:
        return ray.get([getattr(a, method).remote(*args) for a in actors], timeout=timeout_s)
    except ray.exceptions.RayError as exc:
        raise EmulationError(f"ray: {method} failed on a node actor: {exc}") from exc


def kill(actors: list) -> None:
    """Terminate actors without waiting for them."""
    import ray

    for actor in actors:
        ray.kill(actor)
