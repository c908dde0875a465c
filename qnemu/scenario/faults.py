"""The scenario's ``faults:`` timeline: each entry checked against the network and turned
into a :class:`~qnemu.scenario.spec.FaultSpec`.

One entry names its time (``at_s``), exactly one target and what happens to it:

- ``link: [a, b]`` with ``down_for_s`` (or nothing: down to the end) — the link's quantum
  and classical channel stop; or with ``classical_loss: P`` (and ``for_s``) — classical
  messages routed over it are lost with probability P;
- ``node: x`` with ``crash_for_s`` — the node loses its memories and state and restarts
  empty; or with ``t2_s`` (and ``for_s``) — its memories' T2 degrades (new pairs);
- ``controller: central | NODE`` with ``down_for_s`` — the central controller (the
  hierarchical root's path computation), or the controller sites at that node, stop
  deciding.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import networkx as nx

from qnemu.scenario.problems import _validate
from qnemu.scenario.schema import FaultModel
from qnemu.scenario.spec import FaultSpec, _names

#: The controller target that names the central controller (or the hierarchical root).
CENTRAL = "central"


def resolve_faults(
    raw: Any, model_faults: Sequence[FaultModel] | None, g: nx.Graph | None, problems: list[str]
) -> tuple[FaultSpec, ...]:
    """The faults of a scenario, in the order listed; each problem appended to
    ``problems`` with its path (``faults[i].field: reason``)."""
    if model_faults is None:  # the whole scenario failed: check what is well formed
        items = raw if isinstance(raw, list) else []
        models = [_validate(FaultModel, item, None) for item in items]
    else:
        models = list(model_faults)
    out = []
    for i, model in enumerate(models):
        if model is None:
            continue
        spec = _fault(f"faults[{i}]", model, g, problems)
        if spec is not None:
            out.append(spec)
    return tuple(out)


def _fault(path: str, m: FaultModel, g: nx.Graph | None, problems: list[str]) -> FaultSpec | None:
    targets = [name for name in ("link", "node", "controller") if getattr(m, name) is not None]
    if len(targets) != 1:
        problems.append(f"{path}: name exactly one of link, node, controller, got {targets or 0}")
        return None
    where = targets[0]
    effects = {
        name: getattr(m, name)
        for name in ("down_for_s", "crash_for_s", "classical_loss", "t2_s")
        if getattr(m, name) is not None
    }
    allowed = {
        "link": ("down_for_s", "classical_loss"),
        "node": ("crash_for_s", "t2_s"),
        "controller": ("down_for_s",),
    }[where]
    wrong = [name for name in effects if name not in allowed]
    if wrong:
        problems.append(f"{path}.{wrong[0]}: not for a {where} (use {' or '.join(allowed)})")
        return None
    if len(effects) > 1:
        problems.append(f"{path}: one effect per fault, got {', '.join(effects)}")
        return None
    if where == "node" and not effects:
        problems.append(f"{path}: a node fault needs crash_for_s or t2_s")
        return None
    target = _target(path, where, getattr(m, where), g, problems)
    if target is None:
        return None
    effect = next(iter(effects), "down_for_s")
    if effect in ("classical_loss", "t2_s"):
        kind = "classical_loss" if effect == "classical_loss" else "memory_t2"
        return FaultSpec(kind, target, m.at_s, m.for_s, float(effects[effect]))
    if m.for_s is not None:
        problems.append(f"{path}.for_s: only with classical_loss or t2_s (use {effect})")
        return None
    kind = {"link": "link_down", "node": "node_crash", "controller": "controller_down"}[where]
    return FaultSpec(kind, target, m.at_s, effects.get(effect))


def _target(
    path: str, where: str, value: Any, g: nx.Graph | None, problems: list[str]
) -> tuple[str, ...] | None:
    if g is None:
        return None
    if where == "link":
        a, b = value
        for end in (a, b):
            if end not in g:
                problems.append(f"{path}.link: unknown node {end!r} (nodes: {_names(g.nodes)})")
                return None
        if not g.has_edge(a, b):
            problems.append(f"{path}.link: no link between {a!r} and {b!r}")
            return None
        order = {n: i for i, n in enumerate(g.nodes)}
        return (a, b) if order[a] < order[b] else (b, a)
    if where == "controller" and value == CENTRAL:
        return (CENTRAL,)
    if value not in g:
        extra = "central, or a node: " if where == "controller" else "nodes: "
        problems.append(f"{path}.{where}: unknown {where} {value!r} ({extra}{_names(g.nodes)})")
        return None
    return (value,)
