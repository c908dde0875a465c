"""Planned node crashes that kill a real process (a Ray run with one node per actor).

A ``node`` crash fault on a node that has an actor to itself kills that actor's process
for real and starts a new one at the crash's end, which rejoins the run:

1. At the crash's ``at_s`` every host applies the crash in its own world (as with packing:
   the node is wiped and silent; see :mod:`qnemu.runtime.faults`).
2. At the driver's next heartbeat the crashed actor hands the true state of the pairs
   that outlive it to the hosts of their live qubits (``HostActor.evacuate``) and returns
   its last records; every other actor marks its host down (frames for it are then lost
   and counted, its connections closing is no failure); the driver kills the process
   (``ray.kill``) and waits until Ray reports it dead.
3. :data:`REJOIN_LEAD_S` wall seconds before the crash's end the driver spawns a new
   actor for the node, which listens; the others dial it and it dials them (a fresh
   handshake on the run secret); armed with the run's clock, it restarts the node empty
   at the crash's end (``Host.rejoin``), with the faults in force then.

Only these planned deaths are forgiven: the dead actor is out of the heartbeat while it
is down, so any other actor death still fails the run. With packing (several nodes per
actor) a crash stays an in-actor wipe.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from qnemu import records
from qnemu.runtime import ray_backend
from qnemu.scenario import Scenario
from qnemu.scenario.spec import FaultSpec

#: Wall seconds before a crash's end at which the new process is started (spawning,
#: listening and connecting one actor takes about 0.5 to 2 s on a small machine).
REJOIN_LEAD_S = 4.0
#: Wall seconds to wait for Ray to report a killed actor dead.
KILL_TIMEOUT_S = 30.0


@dataclass
class PlannedCrash:
    """One node crash that kills its actor's process; ``state``: ``armed`` (not yet),
    ``down`` (killed; it rejoins if the crash ends before the run does) or ``up`` (a new
    process rejoined)."""

    fault: FaultSpec
    host: int
    count: int  # the node's how-many-th crash this is (1 = its first)
    state: str = "armed"
    killed_pid: int | None = None
    killed_wall: float | None = None


@dataclass
class ProcessCrashes:
    """The driver's side of planned process crashes (see the module docstring)."""

    scenario: Scenario
    groups: list[list[str]]
    actors: list[Any]  # the run's actors; a rejoined one replaces its predecessor here
    pids: list[int]
    secret: bytes
    calibration: Any
    bind_host: str
    t0_wall: float
    dilation: float
    emit: Callable[[list[dict[str, Any]]], None]  # records for the results folder
    book: dict[int, tuple[str, int]]  # each actor's transport address (kept up to date)
    planned: list[PlannedCrash] = field(default_factory=list)
    down: set[int] = field(default_factory=set)  # hosts killed and not yet back
    finals: list[dict[str, Any]] = field(default_factory=list)  # killed actors' last reports
    live_faults: list[FaultSpec] = field(default_factory=list)  # injected while running
    rejoin_wall_s: list[float] = field(default_factory=list)  # kill to rejoined, wall s
    spawn_wall_s: list[float] = field(default_factory=list)  # spawn to armed, wall s

    def __post_init__(self) -> None:
        alone = {group[0]: i for i, group in enumerate(self.groups) if len(group) == 1}
        counts: dict[str, int] = {}
        for fault in sorted(self.scenario.faults, key=lambda f: f.at_s):
            if fault.kind == "node_crash" and fault.target[0] in alone:
                counts[fault.target[0]] = counts.get(fault.target[0], 0) + 1
                host = alone[fault.target[0]]
                self.planned.append(PlannedCrash(fault, host, counts[fault.target[0]]))

    def add_live(self, fault: FaultSpec) -> None:
        """A fault injected while the run goes (the console); a node crash on a node with
        an actor to itself kills its process too."""
        self.live_faults.append(fault)
        alone = {group[0]: i for i, group in enumerate(self.groups) if len(group) == 1}
        if fault.kind == "node_crash" and fault.target[0] in alone:
            count = 1 + sum(1 for c in self.planned if c.fault.target == fault.target)
            self.planned.append(PlannedCrash(fault, alone[fault.target[0]], count))

    def end_live(self, fault: FaultSpec, at_s: float) -> None:
        """A live fault ends at ``at_s``: a killed process comes back then."""
        done = dataclasses.replace(fault, for_s=max(0.0, at_s - fault.at_s))
        self.live_faults = [done if f == fault else f for f in self.live_faults]
        for crash in self.planned:
            if crash.fault == fault and crash.state in ("armed", "down"):
                crash.fault = done

    def alive(self) -> tuple[list[Any], list[list[str]]]:
        """The actors that must answer now, and their nodes."""
        keep = [i for i in range(len(self.actors)) if i not in self.down]
        return [self.actors[i] for i in keep], [self.groups[i] for i in keep]

    def now_s(self) -> float:
        """Emulated time now, by the driver's clock."""
        return (time.time() - self.t0_wall) / self.dilation

    def tick(self) -> None:
        """Kill the processes whose node crashed; start the ones whose crash ends soon."""
        for crash in self.planned:
            if crash.state == "armed" and self.now_s() >= crash.fault.at_s:
                self._kill(crash)
            elif crash.state == "down" and crash.fault.until_s < self._end_s():
                lead = REJOIN_LEAD_S / self.dilation
                if self.now_s() >= crash.fault.until_s - lead:
                    self._rejoin(crash)

    def _kill(self, crash: PlannedCrash) -> None:
        actor = self.actors[crash.host]
        final = ray_backend.call_one(actor, "evacuate")
        if final is None:  # its scheduler has not reached the crash yet: next heartbeat
            return
        # its last records now, in step with the other hosts' (the crash's own fault record
        # must precede the neighbours' detections, and survive a run that fails later);
        # its counters at the end, with everyone's
        self.emit(final["events"])
        self.finals.append({**final, "events": []})
        others, names = self._others(crash.host)
        ray_backend.call_all(others, "peer_down", crash.host, names=names)
        pid = self.pids[crash.host]
        ray_backend.kill_dead(actor, self.groups[crash.host], KILL_TIMEOUT_S)
        crash.state, crash.killed_pid, crash.killed_wall = "down", pid, time.time()
        self.down.add(crash.host)
        node = self.groups[crash.host][0]
        self.emit(
            [
                records.ActorKilled(
                    t_s=max(crash.fault.at_s, self.now_s()), host=crash.host, node=node, pid=pid
                ).to_dict()
            ]
        )

    def _rejoin(self, crash: PlannedCrash) -> None:
        host = crash.host
        group = self.groups[host]
        began = time.time()
        placement = {node: i for i, g in enumerate(self.groups) for node in g}
        (actor,) = ray_backend.respawn(
            self.scenario, host, group, placement, self.bind_host, self.secret, self.calibration
        )
        self.actors[host] = actor
        placed = ray_backend.call_one(actor, "listen")
        address = (placed["address"], placed["port"])
        others, names = self._others(host)
        ray_backend.call_all(others, "reconnect", host, address, names=names)
        self.book[host] = address
        book = {i: self._address(i) for i in range(len(self.actors)) if i not in self.down}
        ray_backend.call_one(actor, "connect", book)
        faults = list(self.scenario.faults) + self.live_faults
        joined_s = ray_backend.call_one(
            actor,
            "rejoin",
            self.t0_wall,
            self.dilation,
            self.scenario.duration_s,
            crash.fault,
            crash.count,
            faults,
        )
        self.pids[host] = placed["pid"]
        self.down.discard(host)
        crash.state = "up"
        self.spawn_wall_s.append(time.time() - began)
        if crash.killed_wall is not None:
            self.rejoin_wall_s.append(time.time() - crash.killed_wall)
        self.emit(
            [
                records.ActorRejoined(
                    t_s=joined_s,
                    host=host,
                    node=group[0],
                    pid=placed["pid"],
                    previous_pid=crash.killed_pid or 0,
                    restart_s=max(joined_s, crash.fault.until_s),
                ).to_dict()
            ]
        )

    def _others(self, host: int) -> tuple[list[Any], list[list[str]]]:
        keep = [i for i in range(len(self.actors)) if i != host and i not in self.down]
        return [self.actors[i] for i in keep], [self.groups[i] for i in keep]

    def _address(self, host: int) -> tuple[str, int]:
        return self.book[host]

    def _end_s(self) -> float:
        return self.scenario.duration_s

    def summary(self) -> dict[str, Any]:
        """The emulator block's account of process crashes."""
        return {
            "process_crashes": sum(1 for c in self.planned if c.state != "armed"),
            "process_rejoins": sum(1 for c in self.planned if c.state == "up"),
            "rejoin_wall_s": [round(x, 3) for x in self.rejoin_wall_s],
            "rejoin_spawn_wall_s": [round(x, 3) for x in self.spawn_wall_s],
        }
