"""Checks of the service layer's scenario fields: tenants' times, slices and SLAs.

One place for the rules a tenant's ``at_s``/``until_s``/``slice``/``sla`` and the
``slices:`` section obey, used when a scenario is resolved and when a tenant is added
live through the API (``qnemu.service.api``), so both report a problem the same way:
``tenants[2].until_s: must be after at_s (1.5 s), got 1``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from qnemu.scenario.problems import _fmt
from qnemu.scenario.spec import SlaSpec, TenantSpec

#: Shares of every node's memory the slices may reserve together (the rest is shared).
MAX_TOTAL_SHARE = 1.0


def check_service(
    tenants: Sequence[Any], slices: Sequence[Any], duration_s: float | None, problems: list[str]
) -> None:
    """Append a problem for every inconsistent slice or tenant time; ``tenants`` and
    ``slices`` are validated models (None where a model was invalid)."""
    names = check_slices(slices, problems)
    for i, tenant in enumerate(tenants):
        if tenant is not None:
            problems.extend(tenant_problems(f"tenants[{i}]", tenant, names, duration_s))


def check_slices(slices: Sequence[Any], problems: list[str]) -> set[str]:
    """Slice names unique, shares summing to at most one; returns the names."""
    names: dict[str, int] = {}
    for i, item in enumerate(slices):
        if item.name in names:
            problems.append(
                f"slices[{i}].name: duplicate slice {item.name!r} (also slices[{names[item.name]}])"
            )
        names.setdefault(item.name, i)
    total = sum(s.memory_share for s in slices)
    if total > MAX_TOTAL_SHARE + 1e-9:
        problems.append(
            f"slices: the memory_share of all slices must add up to at most 1, got {total:.4g}"
        )
    return set(names)


def tenant_problems(
    path: str, tenant: Any, slices: set[str], duration_s: float | None
) -> list[str]:
    """What is wrong with one tenant's times, slice and SLA (an empty list: nothing)."""
    out = []
    at, until = tenant.at_s, tenant.until_s
    # an invalid duration is reported once, where it is, not again for every tenant
    if duration_s is not None and duration_s > 0 and at >= duration_s:
        out.append(
            f"{path}.at_s: must be before the end of the run ({_fmt(duration_s)} s), got {_fmt(at)}"
        )
    if until is not None and until <= at:
        out.append(f"{path}.until_s: must be after at_s ({_fmt(at)} s), got {_fmt(until)}")
    if tenant.slice is not None and tenant.slice not in slices:
        valid = ", ".join(sorted(slices)) or "none defined"
        out.append(f"{path}.slice: unknown slice {tenant.slice!r} (slices: {valid})")
    return out


def tenant_from_dict(values: dict[str, Any]) -> TenantSpec:
    """A tenant spec from plain data (a :class:`~qnemu.wire.messages.TenantJoin`'s
    ``spec``, or a validated API body); keys it does not know are left out."""
    names = {f.name for f in dataclasses.fields(TenantSpec)}
    fields = {k: v for k, v in values.items() if k in names}
    if isinstance(fields.get("sla"), dict):
        fields["sla"] = SlaSpec(**fields["sla"])
    return TenantSpec(**fields)
