"""The results folder of one run, streamed as the run goes so a crash loses nothing.

``runs/<time>-<scenario>/`` holds the resolved ``scenario.yaml``, ``pairs.jsonl`` and
``events.jsonl`` (one JSON object a line, flushed after every batch) and, at the end,
``summary.json`` (written to a temporary name and renamed, so it is whole or absent).
"""

from __future__ import annotations

import json
import math
import os
import re
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from qnemu.apps import quality

VIOLATION_KINDS = ("herald_late", "correction_late", "cutoff_expired", "below_threshold",
                   "controller_late")


class RunFolder:
    """Creates the folder and streams records into it."""

    def __init__(self, root: str | Path, scenario_name: str, resolved: dict[str, Any]) -> None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", scenario_name) or "scenario"
        base = Path(root) / f"{stamp}-{safe}"
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        path.mkdir(parents=True)
        self.path = path
        (path / "scenario.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
        self._pairs = open(path / "pairs.jsonl", "a", encoding="utf-8")  # noqa: SIM115
        self._events = open(path / "events.jsonl", "a", encoding="utf-8")  # noqa: SIM115

    def write(self, events: list[dict[str, Any]]) -> None:
        """Append a batch of events; delivered pairs also go to ``pairs.jsonl``."""
        for event in events:
            line = json.dumps(event, default=_plain) + "\n"
            self._events.write(line)
            if event.get("event") == "delivered":
                self._pairs.write(line)
        self._events.flush()
        self._pairs.flush()

    def write_summary(self, summary: dict[str, Any]) -> Path:
        """Write ``summary.json`` atomically; returns its path."""
        target = self.path / "summary.json"
        temporary = target.with_suffix(".json.tmp")
        temporary.write_text(json.dumps(summary, indent=2, default=_plain))
        os.replace(temporary, target)
        return target

    def close(self) -> None:
        """Close the streams (idempotent)."""
        self._pairs.close()
        self._events.close()


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


class SummaryBuilder:
    """Accumulates per-tenant figures and violation counts from the event stream.

    ``tenants``: (name, app, f_min) of every tenant. A tenant's utility is its delivered
    rate times the mean quality q(F) of what it got: (1 / duration) · Σ q(F_i).
    """

    def __init__(self, tenants: list[tuple[str, str, float]]) -> None:
        self.tenants = {name: {"fidelities": [], "latencies": [], "quality": 0.0,
                               "app": app, "f_min": f_min}
                        for name, app, f_min in tenants}
        self.violations = dict.fromkeys(VIOLATION_KINDS, 0)
        self.counts: dict[str, int] = {}
        self.decision_latencies: list[float] = []
        self.admission: dict[str, dict[str, Any]] = {}

    def add(self, events: list[dict[str, Any]]) -> None:
        """Fold a batch of events in."""
        for event in events:
            kind = event.get("event", "")
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind == "delivered":
                record = self.tenants[event["tenant"]]
                record["fidelities"].append(event["fidelity"])
                record["latencies"].append(event["latency_s"])
                record["quality"] += quality(record["app"], event["fidelity"], record["f_min"])
            elif kind == "violation":
                self.violations[event["kind"]] = self.violations.get(event["kind"], 0) + 1
            elif kind == "decision":
                self.decision_latencies.append(event["latency_s"])
            elif kind == "admission":
                self.admission[event["tenant"]] = {"admitted": event["admitted"],
                                                   "reason": event["reason"]}

    @property
    def delivered(self) -> int:
        """Pairs delivered so far, all tenants."""
        return self.counts.get("delivered", 0)

    def tenant_table(self, duration_s: float) -> dict[str, dict[str, float | int | None]]:
        """The per-tenant block of ``summary.json``."""
        table = {}
        for name, record in self.tenants.items():
            fidelities, latencies = record["fidelities"], record["latencies"]
            table[name] = {
                "pairs_delivered": len(fidelities),
                "rate_hz": len(fidelities) / duration_s if duration_s > 0 else 0.0,
                "fidelity_mean": float(np.mean(fidelities)) if fidelities else None,
                "fidelity_min": float(np.min(fidelities)) if fidelities else None,
                "latency_mean_s": float(np.mean(latencies)) if latencies else None,
                "utility": record["quality"] / duration_s if duration_s > 0 else 0.0,
            }
        return table

    def decision_latency_s(self) -> float | None:
        """Mean emulated time from a repeater knowing its pairs to its swap instruction."""
        return float(np.mean(self.decision_latencies)) if self.decision_latencies else None


def percentile(samples: list[float], q: float) -> float | None:
    """The q-th percentile of samples, or None when there are none."""
    if not samples:
        return None
    value = float(np.percentile(samples, q))
    return None if math.isnan(value) else value
