"""Quantum federated learning: a server aggregating its clients' teleported updates.

Each client teleports model parameters to the server through its sub-tenant's pairs (the
``teleport`` protocol: Bell measurement at the client, two bits to the server, correction
there when they arrive). A client's *update* is ``pairs_per_round`` parameters that have
arrived at the server. :class:`Aggregator` runs at the server:

- ``sync``: a round takes the first ``pairs_per_round`` arrivals of every client after
  the previous aggregation; the server aggregates when the slowest client's last one
  arrives. Arrivals from a client already done wait for nothing and are counted as
  surplus (not used).
- ``async``: the server aggregates each client's update when it is complete, if it is at
  most ``staleness`` model versions old (its base is the version current when the
  client's previous update was taken); a staler update is rejected. Each accepted update
  is a round (a new version).

The model broadcast back to the clients is not emulated as a message: a client's next
update counts arrivals from the moment its previous one was taken.

Model (equal clients, docs/apps.md): if each client's parameters arrive as a Poisson
process of rate lambda, the time a client needs for m of them from the start of a round
is Gamma(m, lambda) (memoryless), so a sync round lasts the maximum of K such times
(:func:`qnemu.physics.analytic.sync_round_time_mean`); async rounds (no rejection) come
K times as often as one client's updates: mean m / (K lambda).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qnemu import records
from qnemu.scenario.spec import GroupSpec


@dataclass
class _Client:
    """One client's update in progress at the server."""

    base_version: int = 0
    started_s: float = 0.0
    pairs: list[str] = field(default_factory=list)
    done_s: float | None = None  # sync: when its update completed this round


class Aggregator:
    """The server's side of one qfl tenant: which arrival completes which update and
    round. :meth:`arrival` returns the events to emit (updates, rounds)."""

    def __init__(self, group: GroupSpec, start_s: float = 0.0) -> None:
        self.group = group
        self.version = 0
        self.round_started_s = start_s
        self.surplus = 0
        self.clients = {c: _Client(started_s=start_s) for c in group.members}

    def arrival(self, client: str, pair: str, now: float) -> list[records.RunEvent]:
        """Parameter ``pair`` from ``client`` arrived at the server at ``now`` (s)."""
        state = self.clients[client]
        m = self.group.pairs_per_round
        if self.group.aggregation == "sync" and state.done_s is not None:
            self.surplus += 1
            return []
        state.pairs.append(pair)
        if len(state.pairs) < m:
            return []
        if self.group.aggregation == "sync":
            return self._sync_update(client, state, now)
        return self._async_update(client, state, now)

    def _update(
        self, client: str, state: _Client, now: float, staleness: int, accepted: bool
    ) -> records.QflUpdate:
        return records.QflUpdate(
            t_s=now,
            tenant=self.group.name,
            client=client,
            started_s=state.started_s,
            staleness=staleness,
            accepted=accepted,
            pairs=list(state.pairs),
        )

    def _sync_update(self, client: str, state: _Client, now: float) -> list[records.RunEvent]:
        state.done_s = now
        out: list[records.RunEvent] = [self._update(client, state, now, 0, True)]
        if any(c.done_s is None for c in self.clients.values()):
            return out
        done = [c.done_s for c in self.clients.values() if c.done_s is not None]
        out.append(
            records.QflRound(
                t_s=now,
                tenant=self.group.name,
                round=self.version,
                started_s=self.round_started_s,
                aggregation="sync",
                clients=list(self.clients),
                pairs=[p for c in self.clients.values() for p in c.pairs],
                straggler_s=max(done) - min(done),
                surplus=self.surplus,
            )
        )
        self.version += 1
        self.round_started_s, self.surplus = now, 0
        for c in self.clients.values():
            c.pairs, c.done_s, c.started_s, c.base_version = [], None, now, self.version
        return out

    def _async_update(self, client: str, state: _Client, now: float) -> list[records.RunEvent]:
        staleness = self.version - state.base_version
        bound = self.group.staleness
        accepted = bound is None or staleness <= bound
        out: list[records.RunEvent] = [self._update(client, state, now, staleness, accepted)]
        if accepted:
            out.append(
                records.QflRound(
                    t_s=now,
                    tenant=self.group.name,
                    round=self.version,
                    started_s=self.round_started_s,
                    aggregation="async",
                    clients=[client],
                    pairs=list(state.pairs),
                )
            )
            self.version += 1
            self.round_started_s = now
        state.pairs, state.started_s, state.base_version = [], now, self.version
        return out


@dataclass
class QflTally:
    """What a qfl tenant got, folded from its ``qfl_round``/``qfl_update`` events and its
    pairs' teleported fidelities (oracle)."""

    rounds: list[records.QflRound] = field(default_factory=list)
    updates: list[records.QflUpdate] = field(default_factory=list)
    fidelities: dict[str, float] = field(default_factory=dict)  # by pair key

    def add_fidelity(self, pair: str, fidelity: float) -> None:
        """The teleported parameter's fidelity (oracle) for the pair ``pair``."""
        self.fidelities[pair] = fidelity

    def block(self) -> dict[str, Any]:
        """The tenant's ``qfl`` block of ``summary.json`` (the first round, which includes
        the paths' setup, is left out of the round-time figures)."""
        timed = self.rounds[1:]
        times = [r.t_s - r.started_s for r in timed]
        stragglers = [r.straggler_s for r in timed if r.straggler_s is not None]
        round_fidelities = [
            float(np.mean(values))
            for r in self.rounds
            if (values := [self.fidelities[p] for p in r.pairs if p in self.fidelities])
        ]
        accepted = [u for u in self.updates if u.accepted]
        by_client: dict[str, int] = {}
        for u in accepted:
            by_client[u.client] = by_client.get(u.client, 0) + 1
        return {
            "aggregation": self.rounds[0].aggregation if self.rounds else None,
            "rounds": len(self.rounds),
            "round_time_mean_s": _mean(times),
            "round_time_se_s": _se(times),
            "round_time_p95_s": float(np.percentile(times, 95)) if times else None,
            "straggler_time_s": _mean(stragglers),
            "surplus_pairs": sum(r.surplus for r in self.rounds),
            "updates_accepted": len(accepted),
            "updates_rejected": len(self.updates) - len(accepted),
            "staleness_mean": _mean([float(u.staleness) for u in accepted]),
            "updates_by_client": dict(sorted(by_client.items())),
            "round_fidelity_mean": _mean(round_fidelities),
        }


def _mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if values else None


def _se(values: Sequence[float]) -> float | None:
    if len(values) < 2:
        return None
    return float(np.std(values, ddof=1) / math.sqrt(len(values)))
