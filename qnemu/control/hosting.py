"""Runs one controller instance inside the actor of its location node.

The :class:`ControllerHost` turns node news into controller events, measures the wall
time each batch of handlers takes, and sends the instructions they emit as classical
messages from the controller's node, stamped ``now + compute time × cpu_scale``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from qnemu.control.api import (
    Controller,
    ControllerContext,
    ControllerEvent,
    DiscardPair,
    Instruction,
    Swap,
    Timer,
)
from qnemu.control.sites import ControllerSite
from qnemu.records import MessageLost
from qnemu.wire.messages import DiscardInstruction, SwapInstruction


class ControllerHost:
    """One controller instance and the plumbing between it and the emulated network."""

    def __init__(
        self,
        site: ControllerSite,
        cls: type[Controller],
        plan: Any,
        env: Any,
        rng: np.random.Generator,
    ) -> None:
        self.site = site
        self.plan = plan
        self.env = env
        self.rng = rng
        self.cpu_scale = plan.scenario.control.cpu_scale
        self.decision_cost_s = plan.scenario.control.decision_cost_s
        self._queued: list[Instruction] = []
        context = ControllerContext(
            name=site.name,
            graph=plan.graph.copy(as_view=True),
            paths=dict(plan.paths),
            served=site.served,
            location=site.location,
            clock=env.now,
            instruct=lambda instruction: self._queued.append(instruction),
            set_timer=self._set_timer,
        )
        self.controller = cls(context)
        self.decisions = 0

    def dispatch(self, events: Sequence[ControllerEvent]) -> None:
        """Hand events to the controller; send what it decided, after its compute time.

        Real time charges the measured wall time of the handlers; virtual time charges
        ``control.decision_cost_s`` per event, so virtual runs are reproducible. Both are
        multiplied by ``control.cpu_scale``.
        """
        world = getattr(self.env, "faults", None)
        if world is not None and world.site_down(self.site.name):
            return  # a controller fault: this site decides nothing meanwhile
        start = time.perf_counter()
        for event in events:
            self.controller.handle(event)
        if getattr(self.env.scheduler, "measures_wall_time", True):
            compute = (time.perf_counter() - start) * self.cpu_scale
        else:
            compute = self.decision_cost_s * len(events) * self.cpu_scale
        queued, self._queued = self._queued, []
        now = self.env.now()
        for instruction in queued:
            self._send(instruction, now + compute, compute)

    def _send(self, instruction: Instruction, at_s: float, compute_s: float) -> None:
        message_type: type[SwapInstruction] | type[DiscardInstruction]
        fields: dict[str, Any]
        if isinstance(instruction, Swap):
            message_type, fields = (
                SwapInstruction,
                {
                    "tenant": instruction.tenant,
                    "left_pair": instruction.left_pair,
                    "right_pair": instruction.right_pair,
                    "compute_s": compute_s,
                },
            )
        elif isinstance(instruction, DiscardPair):
            message_type, fields = DiscardInstruction, {"link_pair": instruction.pair}
        else:
            raise TypeError(
                f"controller {self.site.name}: unsupported instruction "
                f"{type(instruction).__name__} (Swap or DiscardPair)"
            )
        self.decisions += 1
        classical, world = self.plan.classical, getattr(self.env, "faults", None)
        if world is not None:  # faults: the location node's own routing, and the true world
            classical = self.env.nodes[self.site.location].plan.classical
        delay = classical.sample_delay_s(self.rng, self.site.location, instruction.node)
        if delay is not None and world is not None:
            route = classical.route(self.site.location, instruction.node)
            if route is None or not world.carries(route, self.rng):
                delay = None
        if delay is None:
            self.env.emit(
                MessageLost(
                    t_s=at_s,
                    node=self.site.location,
                    dst=instruction.node,
                    kind=message_type.__name__,
                )
            )
            return
        self.env.send(
            message_type(
                src=self.site.location,
                dst=instruction.node,
                sent_at_s=at_s,
                deliver_at_s=at_s + delay,
                site=self.site.name,
                **fields,
            )
        )

    def _set_timer(self, delay_s: float, name: str) -> None:
        at = self.env.now() + delay_s
        self.env.schedule(at, lambda: self.dispatch([Timer(at, name)]))
