"""One run's row in ``runs.csv``: what a comparison measures, taken from its results.

Per tenant: delivered rate, mean true fidelity, Q-NUM utility; for the whole run: total
rate, pair-weighted mean fidelity, total utility, violations (total and by kind), the
controller's mean decision latency (emulated) and the emulator's lateness and overload.

Utility is the summary's realized utility (R · mean q(F), :func:`qnemu.apps.realized_utility`)
and decision latency the summary's ``controller_decision_latency_s`` (from the ``decision``
events). Where the summary has none the cell is left empty, never invented.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from qnemu.results import VIOLATION_KINDS

__all__ = [
    "APP_METRICS",
    "BOUNDS",
    "FAULT_METRICS",
    "RUN_COLUMNS",
    "TENANT_METRICS",
    "TOTAL_METRICS",
    "fault_metrics",
    "metric_bounds",
    "metric_columns",
    "run_metrics",
]

#: Bookkeeping columns of every row, before the sweep parameters.
RUN_COLUMNS = ("run", "controller", "repeat", "seed")
#: Whole-run metrics, in table order.
TOTAL_METRICS = (
    "rate_hz",
    "fidelity_mean",
    "utility",
    "violations",
    "controller_decision_latency_s",
    "lateness_p50_s",
    "lateness_p99_s",
    "tenants_admitted",
    "sla_met_ratio",
)
#: Per-tenant metrics; their columns are ``tenant.<name>.<metric>``.
TENANT_METRICS = ("pairs_delivered", "rate_hz", "fidelity_mean", "utility", "latency_mean_s")
#: Per-tenant application results (``tenant.<name>.<app>.<field>`` from the summary's app
#: block, docs/apps.md); empty for a tenant whose app has no such block.
APP_METRICS = (
    "qkd.secret_key_rate_bps",
    "qkd.qber_z",
    "qkd.qber_x",
    "qkd.finite_key_rate_bps",
    "teleport.fidelity_mean",
    "dqc.gate_fidelity_mean",
    "dqc.circuit_time_mean_s",
    "dqc.circuit_fidelity_mean",
    "ghz.states",
    "ghz.fidelity_mean",
    "sensing.estimator_variance_rad2",
    "qfl.rounds",
    "qfl.round_time_mean_s",
    "qfl.round_time_p95_s",
    "qfl.straggler_time_s",
    "qfl.round_fidelity_mean",
    "qfl.updates_rejected",
)
#: What the run's faults did (``summary.json``'s ``faults`` block; empty without faults):
#: detection and recovery delays after the fault (emulated s; the mean over the faults
#: that have one), pair halves lost (summed) and the delivered rate while faults were in
#: force (all tenants, pairs per emulated second of fault time).
FAULT_METRICS = ("fault_detected_s", "fault_recovered_s", "fault_pairs_lost", "fault_rate_hz")
#: Bookkeeping columns after the metrics.
TAIL_COLUMNS = ("overloaded", "dilation", "wall_s", "results")
#: The range (low, high; None: unbounded) each metric's values can take by definition.
#: A t-interval knows nothing of it (five rates of 0, 0, 0, 0, 50 Hz give -20 ± 28 Hz's
#: lower end), so tables and plots clip the interval to it; summary.json keeps it raw.
#: Utility is R q(F) with R >= 0 and q in [0, 1] (``qnemu.apps.quality``); lateness is
#: how late an event fired, never early.
BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "tenants_admitted": (0.0, None),
    "sla_met_ratio": (0.0, 1.0),
    "rate_hz": (0.0, None),
    "fidelity_mean": (0.0, 1.0),
    "utility": (0.0, None),
    "violations": (0.0, None),
    "controller_decision_latency_s": (0.0, None),
    "lateness_p50_s": (0.0, None),
    "lateness_p99_s": (0.0, None),
    "pairs_delivered": (0.0, None),
    "latency_mean_s": (0.0, None),
    "secret_key_rate_bps": (0.0, None),
    "finite_key_rate_bps": (0.0, None),
    "qber_z": (0.0, 1.0),
    "qber_x": (0.0, 1.0),
    "gate_fidelity_mean": (0.0, 1.0),
    "circuit_time_mean_s": (0.0, None),
    "circuit_fidelity_mean": (0.0, 1.0),
    "states": (0.0, None),
    "estimator_variance_rad2": (0.0, None),
    "rounds": (0.0, None),
    "round_time_mean_s": (0.0, None),
    "round_time_p95_s": (0.0, None),
    "straggler_time_s": (0.0, None),
    "round_fidelity_mean": (0.0, 1.0),
    "updates_rejected": (0.0, None),
    "fault_detected_s": (0.0, None),
    "fault_recovered_s": (0.0, None),
    "fault_pairs_lost": (0.0, None),
    "fault_rate_hz": (0.0, None),
}


def tenant_column(tenant: str, metric: str) -> str:
    """The CSV column of one tenant's metric."""
    return f"tenant.{tenant}.{metric}"


def metric_bounds(column: str) -> tuple[float | None, float | None]:
    """The range of a ``runs.csv`` column's values: a whole-run metric, ``violations.<kind>``
    or ``tenant.<name>.<metric>``; (None, None) for a column without one."""
    if column in BOUNDS:
        return BOUNDS[column]
    if column.startswith("violations."):
        return BOUNDS["violations"]
    if column.startswith("tenant."):
        return BOUNDS.get(column.rsplit(".", 1)[-1], (None, None))
    return (None, None)


def metric_columns(tenants: Sequence[str]) -> list[str]:
    """Every metric column, whole-run first, then by violation kind, then per tenant."""
    columns = list(TOTAL_METRICS)
    columns += list(FAULT_METRICS)
    columns += [f"violations.{kind}" for kind in VIOLATION_KINDS]
    columns += [tenant_column(t, m) for t in tenants for m in TENANT_METRICS]
    columns += [tenant_column(t, m) for t in tenants for m in APP_METRICS]
    return columns


def run_metrics(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The metric cells (and the overload tail) of one finished run."""
    row: dict[str, Any] = {}
    every = summary["tenants"]
    # a multi-node tenant's row (``members``) joins its sub-tenants': app columns only
    tenants = {name: f for name, f in every.items() if "members" not in f}
    for name, figures in every.items():
        if "members" in figures:
            for metric in APP_METRICS:
                app, field = metric.split(".")
                row[tenant_column(name, metric)] = (figures.get(app) or {}).get(field)
    utilities = []
    for name, figures in tenants.items():
        for metric in ("pairs_delivered", "rate_hz", "fidelity_mean", "latency_mean_s"):
            row[tenant_column(name, metric)] = figures.get(metric)
        for metric in APP_METRICS:
            app, field = metric.split(".")
            row[tenant_column(name, metric)] = (figures.get(app) or {}).get(field)
        utility = _tenant_utility(figures)
        row[tenant_column(name, "utility")] = utility
        utilities.append(utility)
    row["rate_hz"] = sum(f["rate_hz"] for f in tenants.values())
    row["fidelity_mean"] = _weighted_fidelity(tenants.values())
    row["utility"] = None if None in utilities else sum(utilities)
    violations = summary.get("violations", {})
    row["violations"] = sum(violations.values())
    for kind in VIOLATION_KINDS:
        row[f"violations.{kind}"] = violations.get(kind, 0)
    row["controller_decision_latency_s"] = _decision_latency(summary)
    row.update(_emulator(summary.get("emulator", {})))
    row.update(_service(summary))
    row.update(fault_metrics(summary))
    return row


def fault_metrics(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The :data:`FAULT_METRICS` cells of one run (all empty for a run without faults)."""
    faults = summary.get("faults") or []
    if not faults:
        return dict.fromkeys(FAULT_METRICS)
    detected = [f["detected_s"] for f in faults if f.get("detected_s") is not None]
    recovered = [f["recovered_s"] for f in faults if f.get("recovered_s") is not None]
    end = summary.get("emulated_s") or summary.get("duration_s") or 0.0
    spans = [
        min(end, f["until_s"] if f.get("until_s") is not None else end) - f["at_s"] for f in faults
    ]
    span = sum(max(0.0, s) for s in spans)
    delivered = sum(f.get("delivered_during", 0) for f in faults)
    return {
        "fault_detected_s": sum(detected) / len(detected) if detected else None,
        "fault_recovered_s": sum(recovered) / len(recovered) if recovered else None,
        "fault_pairs_lost": sum(f.get("pairs_lost", 0) for f in faults),
        "fault_rate_hz": delivered / span if span > 0 else None,
    }


def _service(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The service layer's figures, for a run with tenants that arrive or have an SLA
    (else empty): tenants admitted (not refused by admission control), and the SLA
    windows met over all SLA tenants' windows (pooled; empty before any window ended)."""
    # a multi-node tenant's row (``members``) is not a tenant of its own: its members are
    tenants = {n: f for n, f in summary["tenants"].items() if "members" not in f}
    slas = [f["sla"] for f in tenants.values() if f.get("sla")]
    arriving = any(f.get("added_at_s") is not None for f in tenants.values())
    if not slas and not arriving:
        return {"tenants_admitted": None, "sla_met_ratio": None}
    refused = {n for n, v in summary.get("admission", {}).items() if not v.get("admitted", True)}
    windows = sum(s["windows"] for s in slas)
    return {
        "tenants_admitted": sum(1 for name in tenants if name not in refused),
        "sla_met_ratio": sum(s["met"] for s in slas) / windows if windows else None,
    }


def _tenant_utility(figures: Mapping[str, Any]) -> float | None:
    """The realized utility the run's summary reports (one definition:
    :func:`qnemu.apps.realized_utility`); empty when it reports none."""
    return None if figures.get("utility") is None else float(figures["utility"])


def _weighted_fidelity(tenants: Any) -> float | None:
    pairs = [
        (f["pairs_delivered"], f["fidelity_mean"]) for f in tenants if f.get("pairs_delivered")
    ]
    total = sum(n for n, _ in pairs)
    return sum(n * f for n, f in pairs) / total if total else None


def _decision_latency(summary: Mapping[str, Any]) -> float | None:
    value = summary.get("controller_decision_latency_s")
    return None if value is None else float(value)


def _emulator(emulator: Mapping[str, Any]) -> dict[str, Any]:
    """Lateness only means something against a wall clock: empty in virtual mode."""
    virtual = emulator.get("mode") == "virtual"
    return {
        "lateness_p50_s": None if virtual else emulator.get("lateness_p50_s"),
        "lateness_p99_s": None if virtual else emulator.get("lateness_p99_s"),
        "overloaded": bool(emulator.get("overloaded", False)),
        "dilation": emulator.get("dilation"),
    }
