"""Dotted-path overrides (``--set topology.hop_km=20``) applied to a raw scenario."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from typing import Any

from qnemu.errors import ScenarioError
from qnemu.physics.hardware import PROFILES
from qnemu.scenario.yaml_text import load_yaml

# ----------------------------------------------------------------------------- overrides

_SECTIONS = ("topology", "hardware", "classical", "control", "runtime")


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``["topology.hop_km=20", "control.cutoff_s=auto"]`` -> a dict for ``overrides``.

    Each value is read as YAML (``20`` is a number, ``auto`` a string, ``[1, 2]`` a list).
    """
    out: dict[str, Any] = {}
    problems = []
    for item in items:
        path, sep, text = item.partition("=")
        if not sep or not path.strip():
            problems.append(f"{item}: an override must look like path.to.key=value")
            continue
        try:
            out[path.strip()] = load_yaml(text, path.strip())
        except ScenarioError as exc:
            problems.extend(exc.problems)
    if problems:
        raise ScenarioError(problems)
    return out


def apply_overrides(raw: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``raw`` with each dotted-path override set.

    Missing optional sections (``control``, ``hardware.<built-in>``, ...) are created;
    any other missing parent is a :class:`ScenarioError` naming it.
    """
    out = copy.deepcopy(dict(raw))
    problems = []
    for path, value in overrides.items():
        problem = _set_path(out, path, value)
        if problem:
            problems.append(problem)
    if problems:
        raise ScenarioError(problems)
    return out


def _creatable(keys: list[str]) -> bool:
    if len(keys) == 1:
        return keys[0] in _SECTIONS
    return len(keys) == 2 and keys[0] == "hardware" and keys[1] in PROFILES


def _set_path(root: dict, path: str, value: Any) -> str | None:
    keys = path.split(".")
    if not all(keys):
        return f"{path}: not a dotted path"
    node: Any = root
    for depth, key in enumerate(keys):
        here = ".".join(keys[: depth + 1])
        last = depth == len(keys) - 1
        if isinstance(node, list):
            if not key.isdigit() or int(key) >= len(node):
                return f"{path}: cannot override, '{here}' does not exist ({len(node)} items)"
            index: Any = int(key)
        elif isinstance(node, dict):
            index = key
            if not last and node.get(key) is None:
                if not _creatable(keys[: depth + 1]):
                    return f"{path}: cannot override, '{here}' does not exist"
                node[key] = {}
        else:
            return f"{path}: cannot override, '{'.'.join(keys[:depth])}' is not a mapping"
        if last:
            node[index] = value
        else:
            node = node[index]
    return None
