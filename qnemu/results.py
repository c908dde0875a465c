"""The results folder of one run, streamed as the run goes so a crash loses nothing.

``runs/<time>-<scenario>/`` holds the resolved ``scenario.yaml``, ``pairs.jsonl`` and
``events.jsonl`` (one JSON object a line, flushed after every batch) and, at the end,
``summary.json`` (written to a temporary name and renamed, so it is whole or absent) and,
for a failed run, ``error.txt`` (the full traceback or diagnosis).

A write that fails (disk full, file too large) is undone to the last whole line and ends
the run (:class:`ResultsWriteError`); a ``.reserve`` file holds back disk space while the
run goes, freed then so that the summary and ``error.txt`` still fit.
:func:`check_results_root` refuses, before anything starts, a results folder that cannot
be created or written.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from qnemu import analysis, records
from qnemu.apps import quality, realized_utility
from qnemu.apps.outcomes import AppOutcomes
from qnemu.errors import EmulationError
from qnemu.fault_report import FaultTally
from qnemu.runtime.failure import RunFailed
from qnemu.scenario.spec import GROUP_APPS

RESERVE_BYTES = 64 << 10  # disk space held back so a full disk still gets summary and error
VIOLATION_KINDS = (
    "herald_late",
    "correction_late",
    "cutoff_expired",
    "below_threshold",
    "controller_late",
)


class ResultsWriteError(RunFailed):
    """The results folder could not be written while the run went (disk full, ...)."""


def check_results_root(root: str | Path) -> None:
    """Raise :class:`EmulationError` (one line) unless run folders can be made under ``root``.

    The nearest existing ancestor must be a directory in which a file can be created (the
    probe file is removed: nothing is left behind).
    """
    root = Path(root)
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if root.exists() and not root.is_dir():
        raise EmulationError(f"results: {root} is not a directory")
    if not existing.is_dir():
        raise EmulationError(f"results: cannot create {root}: {existing} is not a directory")
    try:
        handle, probe = tempfile.mkstemp(prefix=".qnemu-probe-", dir=existing)
    except OSError as exc:
        raise EmulationError(
            f"results: cannot write in {existing.resolve()}: {exc.strerror or exc}"
        ) from None
    os.close(handle)
    os.unlink(probe)


class _Stream:
    """An append-only file whose every write is whole lines or nothing."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def append(self, text: str) -> None:
        """Append ``text``; on failure cut the file back to where it was and re-raise."""
        data = text.encode("utf-8")
        start = os.lseek(self._fd, 0, os.SEEK_END)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, start)
            raise

    def close(self) -> None:
        """Close the file (idempotent)."""
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


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
        try:
            path.mkdir(parents=True)
            self.path = path
            (path / "scenario.yaml").write_text(yaml.safe_dump(resolved, sort_keys=False))
            self._pairs = _Stream(path / "pairs.jsonl")
            self._events = _Stream(path / "events.jsonl")
            self._reserve = path / ".reserve"
            self._reserve.write_bytes(bytes(RESERVE_BYTES))
        except OSError as exc:
            raise EmulationError(f"results: cannot write {path}: {exc.strerror or exc}") from None
        self.broken: str | None = None  # why writing stopped, once it did

    def _release_reserve(self) -> None:
        with contextlib.suppress(OSError):
            self._reserve.unlink()

    def write(self, events: list[dict[str, Any]]) -> None:
        """Append a batch of events; delivered pairs also go to ``pairs.jsonl``.

        A batch lands whole or not at all in each file; a failed write raises
        :class:`ResultsWriteError` and nothing more is written.
        """
        if self.broken is not None:
            return
        encode = _ENCODER.encode  # one encoder for every line (json.dumps builds one each)
        lines = [encode(event) + "\n" for event in events]
        pairs = [
            line
            for line, event in zip(lines, events, strict=True)
            if event["event"] == records.Delivered.event
        ]
        for stream, text in ((self._events, "".join(lines)), (self._pairs, "".join(pairs))):
            if not text:
                continue
            try:
                stream.append(text)
            except OSError as exc:
                self.broken = f"cannot write {stream.path}: {exc.strerror or exc}"
                self._release_reserve()  # room for the summary and error.txt
                raise ResultsWriteError(f"results: {self.broken}") from None

    def write_summary(self, summary: dict[str, Any]) -> Path:
        """Write ``summary.json`` atomically; returns its path.

        On failure the temporary file is removed and :class:`ResultsWriteError` raised.
        """
        target = self.path / "summary.json"
        return self._write_atomic(target, json.dumps(summary, indent=2, default=_plain))

    def write_error(self, text: str) -> Path:
        """Write ``error.txt`` (a failed run's traceback or diagnosis); returns its path."""
        return self._write_atomic(self.path / "error.txt", text)

    def _write_atomic(self, target: Path, text: str) -> Path:
        temporary = target.with_name(target.name + ".tmp")
        try:
            temporary.write_text(text)
            os.replace(temporary, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                temporary.unlink()
            raise ResultsWriteError(
                f"results: cannot write {target}: {exc.strerror or exc}"
            ) from None
        return target

    def close(self) -> None:
        """Close the streams (idempotent)."""
        self._pairs.close()
        self._events.close()
        self._release_reserve()


class Summary(dict[str, Any]):
    """What ``summary.json`` holds, as returned by :meth:`qnemu.Emulation.run`: a dict (so
    ``summary["tenants"]`` works and it serialises as JSON) whose top-level keys also read
    as attributes (``summary.tenants``), with the run's records as pandas DataFrames
    (:meth:`pairs`, :meth:`events`: the optional ``qnemu[analysis]`` extra)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"summary has no field {name!r}") from None

    def to_dict(self) -> dict[str, Any]:
        """A plain dict copy (what ``summary.json`` holds)."""
        return dict(self)

    @property
    def folder(self) -> Path:
        """The run's results folder."""
        return Path(self["results"])

    def pairs(self) -> Any:
        """``pairs.jsonl`` as a DataFrame: one row per delivered pair."""
        return _frame(self.folder / "pairs.jsonl")

    def events(self) -> Any:
        """``events.jsonl`` as a DataFrame: one row per run event (kinds in docs/events.md)."""
        return _frame(self.folder / "events.jsonl")


def _frame(path: Path) -> Any:
    """A JSON-lines file as a pandas DataFrame (pandas is the ``analysis`` extra)."""
    pd = analysis.pandas()
    if not path.is_file() or path.stat().st_size == 0:
        return pd.DataFrame()
    return pd.read_json(path, lines=True)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON-serializable: {type(value).__name__}")


#: what ``json.dumps(event, default=_plain)`` would build for every line, built once
_ENCODER = json.JSONEncoder(default=_plain)


@dataclass
class TenantTally:
    """What the summary keeps of one tenant while a run goes (see ``tenant_table``)."""

    app: str
    f_min: float
    fidelities: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    quality_sum: float = 0.0  # Σ q(F_i) over delivered pairs
    requested: int = 0
    waits: list[float] = field(default_factory=list)  # of requests served
    unrequested: int = 0
    outcomes: AppOutcomes = field(default_factory=AppOutcomes)  # what the app got


#: The kinds of event the summary reads beyond counting them.
_SUMMARY_READS: tuple[type[records.RunEvent], ...] = (
    records.Delivered,
    records.GateDone,
    records.QflRound,
    records.QflUpdate,
    records.Request,
    records.Served,
    records.Discard,
    records.Violation,
    records.Decision,
    records.Admission,
    *FaultTally.READS,
)
_SUMMARY_KINDS = frozenset(cls.event for cls in _SUMMARY_READS)


class SummaryBuilder:
    """Accumulates per-tenant figures and violation counts from the event stream.

    ``tenants``: (name, app, f_min) of every tenant. A tenant's utility is its delivered
    rate times the mean quality q(F) of what it got: (1 / duration) · Σ q(F_i).
    """

    def __init__(self, tenants: list[tuple[str, str, float]]) -> None:
        self.tenants = {name: TenantTally(app, f_min) for name, app, f_min in tenants}
        # multi-node tenants (ghz, sensing, qfl): their sub-tenants' results joined
        self.groups: dict[str, tuple[str, AppOutcomes]] = {
            name.rpartition("/")[0]: (app, AppOutcomes())
            for name, app, _ in tenants
            if app in GROUP_APPS and "/" in name
        }
        self.violations = dict.fromkeys(VIOLATION_KINDS, 0)
        self.counts: dict[str, int] = {}
        self.decision_latencies: list[float] = []
        self.admission: dict[str, dict[str, Any]] = {}
        self.faults = FaultTally()  # summary.json's ``faults`` block

    def add(self, events: list[dict[str, Any]]) -> None:
        """Fold a batch of events (plain records, read through :mod:`qnemu.records`) in."""
        for plain in events:
            kind = plain["event"]
            self.counts[kind] = self.counts.get(kind, 0) + 1
            if kind not in _SUMMARY_KINDS:  # heralds, swaps, uses...: counted, not read
                continue
            event = records.parse(plain)
            self.faults.add(event)
            match event:
                case records.Delivered():
                    tally = self.tenants[event.tenant]
                    tally.fidelities.append(event.fidelity)
                    tally.latencies.append(event.latency_s)
                    tally.quality_sum += quality(tally.app, event.fidelity, tally.f_min)
                    if event.app is not None and event.app.get("group") in self.groups:
                        self.groups[event.app["group"]][1].add(event.app)
                    elif event.app is not None:
                        tally.outcomes.add(event.app)
                case records.QflRound() | records.QflUpdate() if event.tenant in self.groups:
                    self.groups[event.tenant][1].qfl_event(event)
                case records.GateDone():
                    self.tenants[event.tenant].outcomes.gate_done(
                        event.gate, event.pair, event.started_s, event.t_s
                    )
                case records.Request():
                    self.tenants[event.tenant].requested += 1
                case records.Served():
                    self.tenants[event.tenant].waits.append(event.waited_s)
                case records.Discard(reason="unrequested") if event.tenant is not None:
                    self.tenants[event.tenant].unrequested += 1
                case records.Violation():
                    self.violations[event.kind] = self.violations.get(event.kind, 0) + 1
                case records.Decision():
                    self.decision_latencies.append(event.latency_s)
                case records.Admission():
                    self.admission[event.tenant] = {
                        "admitted": event.admitted,
                        "reason": event.reason,
                    }

    @property
    def delivered(self) -> int:
        """Pairs delivered so far, all tenants."""
        return self.counts.get("delivered", 0)

    def tenant_table(self, duration_s: float) -> dict[str, dict[str, Any]]:
        """The per-tenant block of ``summary.json``; rates per ``duration_s``, the emulated
        time the run actually reached."""
        table: dict[str, dict[str, Any]] = {}
        for name, tally in self.tenants.items():
            fidelities, latencies = tally.fidelities, tally.latencies
            table[name] = {
                "pairs_delivered": len(fidelities),
                "rate_hz": len(fidelities) / duration_s if duration_s > 0 else 0.0,
                "fidelity_mean": float(np.mean(fidelities)) if fidelities else None,
                "fidelity_min": float(np.min(fidelities)) if fidelities else None,
                "latency_mean_s": float(np.mean(latencies)) if latencies else None,
                "utility": realized_utility(tally.quality_sum, duration_s),
                **_demand(tally),
                **tally.outcomes.blocks(duration_s),
            }
        for group, (app, outcomes) in self.groups.items():
            members = [name for name in table if name.startswith(group + "/")]
            table[group] = {
                "app": app,
                "members": members,  # its sub-tenants (compare's totals skip this row)
                "pairs_delivered": sum(int(table[m]["pairs_delivered"] or 0) for m in members),
                "rate_hz": sum(float(table[m]["rate_hz"] or 0.0) for m in members),
                "utility": 0.0,  # counted at its members (the run's total sums every row)
                **outcomes.blocks(duration_s),
            }
        return table

    def decision_latency_s(self) -> float | None:
        """Mean emulated time from a repeater knowing its pairs to its swap instruction."""
        return float(np.mean(self.decision_latencies)) if self.decision_latencies else None


def _demand(tally: TenantTally) -> dict[str, Any]:
    """A tenant's demand figures: requests, those served, and how long they waited."""
    waits, requested = tally.waits, tally.requested
    return {
        "requested": requested,
        "served": len(waits),
        "served_ratio": len(waits) / requested if requested else None,
        "request_wait_mean_s": float(np.mean(waits)) if waits else None,
        "request_wait_p95_s": percentile(waits, 95),
        "unrequested_discarded": tally.unrequested,
    }


def percentile(samples: list[float], q: float) -> float | None:
    """The q-th percentile of samples, or None when there are none."""
    if not samples:
        return None
    value = float(np.percentile(samples, q))
    return None if math.isnan(value) else value
