"""A tenant asked for while a run goes: validated exactly like a scenario tenant.

The northbound API (``POST /v1/requests``) and the live console (``tenant add``) both
hand a plain body here: the scenario's pydantic ``TenantModel`` and the same cross checks
(unknown node or slice, ``until_s`` before ``at_s``), plus ``duration_s`` (emulated
seconds from now). Each problem names its field, as scenario validation does.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from qnemu.scenario import Scenario, TenantSpec
from qnemu.scenario.problems import _validate
from qnemu.scenario.resolve import tenant_spec
from qnemu.scenario.schema import TenantModel
from qnemu.scenario.service import tenant_problems


class RequestInvalid(ValueError):
    """A request body with problems; ``problems`` lists each (field path first)."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(problems[0])
        self.problems = problems


def parse_request(scenario: Scenario, body: Any, now_s: float) -> TenantSpec:
    """The tenant spec of a request body at emulated time ``now_s`` (seconds); raises
    :class:`RequestInvalid` naming every problem's field."""
    body = dict(body) if isinstance(body, dict) else body
    duration = body.pop("duration_s", None) if isinstance(body, dict) else None
    problems: list[str] = []
    model = _validate(TenantModel, body, problems)
    if model is not None:
        problems += tenant_problems("", model, {s.name for s in scenario.slices}, None)
        nodes = {n.id for n in scenario.nodes}
        problems += [
            f"{end}: unknown node {getattr(model, end)!r}"
            for end in ("src", "dst")
            if getattr(model, end) not in nodes
        ]
        if model.src == model.dst:
            problems.append(f"dst: same as src, got {model.dst!r}")
    if duration is not None and not (
        isinstance(duration, int | float) and not isinstance(duration, bool) and duration > 0
    ):
        problems.append(f"duration_s: must be > 0, got {duration!r}")
    if problems or model is None:
        raise RequestInvalid([p.lstrip(".") for p in problems] or ["body: invalid"])
    try:
        spec = tenant_spec(model)
    except ValueError as exc:  # a tenant of several nodes: scenario only
        raise RequestInvalid([str(exc)]) from None
    if duration is not None:
        spec = dataclasses.replace(spec, until_s=now_s + float(duration))
    return spec
