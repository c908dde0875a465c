"""Loading scenarios: YAML with size and depth limits, then validation and resolving."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from qnemu.errors import ScenarioError
from qnemu.scenario import topology
from qnemu.scenario.overrides import apply_overrides
from qnemu.scenario.resolve import _Resolver
from qnemu.scenario.spec import Scenario
from qnemu.scenario.yaml_text import _check_size, _parse_yaml

# ------------------------------------------------------------------------------- loading


def load_scenario(
    source: str | Path | Mapping[str, Any], overrides: Mapping[str, Any] | None = None
) -> Scenario:
    """Load, validate and resolve a scenario.

    ``source`` is a YAML file path, YAML text (a string with a newline) or an already
    parsed mapping, whose ``topology`` may be a networkx graph (node attributes
    ``hardware``, ``memories``, ``machine``, ``x``, ``y``; edge attributes ``length_km``,
    ``attenuation_db_per_km``). ``overrides`` maps dotted paths (``topology.hop_km``,
    ``hardware.trapped_ion.t2_s``, ``tenants.0.rate_hz``) to values set on the raw
    scenario before validation. A ``topology.file`` path is relative to the scenario
    file (to the working directory for text or a mapping). Raises :class:`ScenarioError`
    listing every problem.
    """
    raw, base_dir, default_name = _read_source(source)
    if overrides:
        raw = apply_overrides(raw, overrides)
    if default_name and "name" not in raw:
        raw["name"] = default_name
    return _Resolver(raw, base_dir).scenario()


def _read_source(source: str | Path | Mapping[str, Any]) -> tuple[dict, Path, str | None]:
    if isinstance(source, Mapping):
        raw = dict(source)
        if isinstance(raw.get("topology"), nx.Graph):
            raw["topology"] = topology.explicit_topology(raw["topology"])
        _check_size(raw, "scenario")
        return copy.deepcopy(raw), Path.cwd(), None
    if isinstance(source, str) and "\n" in source:
        return _parse_yaml(source, "scenario"), Path.cwd(), None
    path = Path(source)
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "scenario file not found"
        raise ScenarioError(f"{path}: {reason}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: cannot read: {exc}") from None
    return _parse_yaml(text, _short_path(path)), path.parent, path.stem


def _short_path(path: Path, limit: int = 80) -> str:
    """``path`` for an error line: its tail when longer than ``limit`` characters, so that
    the problem after it still fits the line."""
    text = str(path)
    return text if len(text) <= limit else "..." + text[-(limit - 3) :]
