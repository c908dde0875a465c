"""One rule for a parameter that does nothing, shared by ``qnemu run --set`` and
``qnemu compare --set``/``--sweep``.

A parameter does nothing in a scenario when either

- the resolved scenario is the same without it, or with any of its values (no node, link
  or tenant uses it: a hardware profile no node has, say); or
- the control plane ignores it: ``control.location`` and ``control.report_interval_s``
  under a per-node controller (``distributed``), ``control.domains`` under any but a
  per-domain one (``hierarchical``).

``run`` and ``compare --set`` warn (the run is still what you asked for); ``compare
--sweep`` refuses (every point of the sweep would be the same run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from qnemu.control.registry import load_controller
from qnemu.errors import QnemuError
from qnemu.scenario.spec import Scenario

__all__ = ["USED_BY_PLACEMENT", "ignored_by_control", "unused_overrides", "unused_reason"]

#: The control fields each controller placement reads; a controller whose placement does
#: not list one ignores it.
USED_BY_PLACEMENT: Mapping[str, frozenset[str]] = {
    "node": frozenset(),
    "central": frozenset({"control.location", "control.report_interval_s"}),
    "domain": frozenset({"control.location", "control.report_interval_s", "control.domains"}),
}
_PLACEMENT_FIELDS = frozenset().union(*USED_BY_PLACEMENT.values())
_NOTHING = "changes nothing: no node, link or tenant uses it"


def ignored_by_control(param: str, architectures: Iterable[str]) -> str | None:
    """Why every one of ``architectures`` ignores ``param``, or None when one reads it
    (or one cannot be loaded: its own error comes later, where it is loaded)."""
    if param not in _PLACEMENT_FIELDS:
        return None
    names = list(architectures)
    for name in names:
        try:
            placement = load_controller(name).placement
        except QnemuError:
            return None
        if param in USED_BY_PLACEMENT.get(placement, _PLACEMENT_FIELDS):
            return None
    return f"ignored by the {', '.join(names)} control plane (its controllers run in the nodes)"


def unused_reason(
    param: str, resolved: Iterable[Scenario], architectures: Iterable[str]
) -> str | None:
    """Why ``param`` does nothing, given the scenario ``resolved`` with each of its values
    (and, for ``--set``, without it), or None when it does something."""
    plain = [scenario.to_dict() for scenario in resolved]
    if len(plain) > 1 and all(data == plain[0] for data in plain):
        return _NOTHING
    return ignored_by_control(param, architectures)


def unused_overrides(
    load: Callable[[Mapping[str, Any]], Scenario],
    overrides: Mapping[str, Any],
    params: Iterable[str],
    scenario: Scenario,
    architectures: Iterable[str] | None = None,
) -> list[str]:
    """``--set PARAM: why`` for each of ``params`` (keys of ``overrides``) that does
    nothing in ``scenario`` (loaded with ``overrides``) under ``architectures`` (default:
    the scenario's); ``load`` loads the same source with other overrides. A scenario
    that does not load without a parameter uses it."""
    planes = list(architectures or [scenario.control.architecture])
    lines = []
    for param in params:
        rest = {key: value for key, value in overrides.items() if key != param}
        try:
            without = load(rest)
        except QnemuError:
            continue
        reason = unused_reason(param, [scenario, without], planes)
        if reason:
            lines.append(f"--set {param}: {reason}")
    return lines
