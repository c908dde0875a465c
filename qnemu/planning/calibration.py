"""Calibrating the plan with the digital twin: tenants it shows cannot be served are refused
and the plan assembled again; its delivered rate, fidelity and SLA odds become the
published predictions (closed forms kept beside them)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from qnemu.planning import sla
from qnemu.planning.choice import tenant_utility
from qnemu.planning.prediction import Prediction
from qnemu.planning.twin import Twin, run_twin
from qnemu.records import Admission, Qnum, RunEvent, SlaPredicted
from qnemu.scenario import Scenario

if TYPE_CHECKING:  # the plan imports this module; it passes its class in
    from qnemu.planning.plan import NetworkPlan


@dataclass
class Calibration:
    """What the controller's twin decided: tenants ``refused`` (with the reason), the
    ``twin`` run behind the predictions, or the ``failure`` that stopped it."""

    refused: dict[str, str]
    twin: Twin | None
    failure: str | None = None


def calibrate_plan(cls: type[NetworkPlan], scenario: Scenario) -> tuple[NetworkPlan, Calibration]:
    """Twin the plan; refuse tenants it cannot serve and twin again, until none is left.
    Returns the last plan assembled and what the twin decided."""
    refused: dict[str, str] = {}
    twin, failure = None, None
    plan = cls._assemble(scenario, refused)
    for _ in range(len(scenario.tenants) + 1):
        if not plan.paths:
            twin = None
            break
        try:
            twin = run_twin(plan)
        except Exception as exc:  # the run will meet the same fault, visibly
            twin, failure = None, f"{type(exc).__name__}: {exc}"[:300]
            break
        if scenario.control.admission == "none":
            break
        unserved = _unserved(scenario, plan, twin) or _sla_unmet(scenario, twin)
        if not unserved:
            break
        refused.update(unserved)
        plan = cls._assemble(scenario, refused)
    return plan, Calibration(refused, twin, failure)


def _unserved(scenario: Scenario, plan: NetworkPlan, twin: Twin) -> dict[str, str]:
    """Admitted tenants the twin could not serve: no pairs, or no utility at the fidelity
    it delivered (below the tenant's f_min)."""
    out = {}
    for tenant in scenario.tenants:
        got = twin.tenants.get(tenant.name)
        if got is None:
            continue
        if got.pairs == 0:
            out[tenant.name] = (
                f"twin: no pair delivered in {twin.horizon_s:.3g} s on "
                f"{'-'.join(plan.paths[tenant.name])}"
            )
        elif tenant_utility(tenant, Prediction(got.rate_hz, got.fidelity)) <= 0.0:
            out[tenant.name] = (
                f"twin: delivered F {got.fidelity:.4f} gives no utility (f_min {tenant.f_min:g})"
            )
    return out


def sla_predictions(scenario: Scenario, twin: Twin) -> list[SlaPredicted]:
    """The SLA model's verdict on every tenant with an SLA that the twin served."""
    out = []
    for tenant in scenario.tenants:
        got = twin.tenants.get(tenant.name)
        if tenant.sla is None or got is None:
            continue
        target = sla.target_pairs(tenant.rate_hz, tenant.sla.window_s)
        out.append(
            SlaPredicted(
                t_s=0.0,
                tenant=tenant.name,
                window_s=tenant.sla.window_s,
                target_pairs=target,
                probability=sla.window_probability(target, tenant.sla.window_s, got.gaps),
                required=tenant.sla.probability,
                gap_mean_s=None if got.gaps is None else got.gaps.m1,
                gap_std_s=None if got.gaps is None else got.gaps.std_s,
            )
        )
    return out


def _sla_unmet(scenario: Scenario, twin: Twin) -> dict[str, str]:
    """Admitted tenants whose SLA the model says is not met often enough."""
    return {
        p.tenant: (
            f"sla: P(>= {p.target_pairs} pairs above f_min in {p.window_s:g} s) = "
            f"{p.probability:.3f} < {p.required:g}"
        )
        for p in sla_predictions(scenario, twin)
        if p.probability < p.required
    }


def publish_twin(scenario: Scenario, decisions: list[RunEvent], twin: Twin) -> None:
    """The twin's numbers become the Q-NUM decisions' predictions (closed forms kept)."""
    specs = {t.name: t for t in scenario.tenants}
    for i, record in enumerate(decisions):
        if isinstance(record, Admission) and record.admitted:
            got = twin.tenants.get(record.tenant)
            if got is not None:
                decisions[i] = replace(
                    record,
                    reason=(
                        f"twin: {got.rate_hz:.4g} Hz at F {got.fidelity:.4f} "
                        f"(closed form: {record.reason})"
                    ),
                )
        elif isinstance(record, Qnum) and record.tenant in twin.tenants:
            got = twin.tenants[record.tenant]
            decisions[i] = replace(
                record,
                analytic_rate_hz=record.predicted_rate_hz,
                analytic_fidelity=record.predicted_fidelity,
                predicted_rate_hz=got.rate_hz,
                predicted_fidelity=got.fidelity,
                model="twin",
                utility=tenant_utility(specs[record.tenant], Prediction(got.rate_hz, got.fidelity)),
                twin_pairs=got.pairs,
                twin_horizon_s=twin.horizon_s,
            )
