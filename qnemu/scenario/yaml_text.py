"""YAML text in, plain data out: a safe loader with limits on size, depth and aliases,
and numbers such as ``1e-6`` read as floats."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from typing import Any

import yaml

from qnemu.errors import ScenarioError
from qnemu.scenario.problems import _loc_path
from qnemu.scenario.spec import MAX_YAML_DEPTH, MAX_YAML_VALUES


def _parse_yaml(text: str, where: str) -> dict:
    data = load_yaml(text, where)
    if not isinstance(data, dict):
        kind = "empty" if data is None else type(data).__name__
        raise ScenarioError(f"{where}: the top level must be a mapping of keys, got {kind}")
    return data


#: YAML 1.2 floats: ``1e-6``, ``2E3``, ``.5``, ``-1.5e+3``, ``.inf`` (YAML 1.1, which
#: PyYAML follows, wants a dot and a signed exponent, so reads ``1e-6`` as a string).
_FLOAT = re.compile(
    r"""^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+
    |[-+]?[0-9][0-9_]*\.[0-9_]*
    |[-+]?\.[0-9][0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.X,
)

_FLOAT_TAG = "tag:yaml.org,2002:float"


class ScenarioLoader(yaml.SafeLoader):
    """Safe YAML loading for scenarios, overrides and sweeps.

    Differs from ``yaml.SafeLoader`` in two ways: numbers written the way people write
    them (``1e-6``, ``2E3``, ``.5``) are floats, and a document nested deeper than
    :data:`MAX_YAML_DEPTH` levels is a YAML error naming the path where it happened.
    Expanded size (alias bombs) is checked on the loaded data by :func:`load_yaml`.
    """

    # a class attribute here as in PyYAML, whose stubs declare it per instance
    yaml_implicit_resolvers: typing.ClassVar[dict] = {  # type: ignore[misc]
        first: [(tag, regexp) for tag, regexp in resolvers if tag != _FLOAT_TAG]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._path: list[Any] = []

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        """Compose as usual, keeping the path of keys and indices to refuse deep nesting."""
        if isinstance(index, yaml.ScalarNode):
            part: Any = index.value
        elif isinstance(index, int) and not isinstance(index, bool):
            part = index
        else:
            part = "<key>" if parent is not None else None
        if part is not None:
            self._path.append(part)
        try:
            if len(self._path) > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"{_loc_path(self._path)}: nested deeper than {MAX_YAML_DEPTH} levels "
                    f"(MAX_YAML_DEPTH)",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            if part is not None:
                self._path.pop()


ScenarioLoader.yaml_implicit_resolvers = {  # floats first, as in yaml.SafeLoader
    first: [(_FLOAT_TAG, _FLOAT), *resolvers] if first in "-+0123456789." else resolvers
    for first, resolvers in ScenarioLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str, where: str) -> Any:
    """``text`` read with :class:`ScenarioLoader`; ScenarioError naming ``where`` when it is
    not YAML, is nested too deep, or expands (through aliases) to too many values."""
    try:
        data = yaml.load(text, Loader=ScenarioLoader)  # a SafeLoader subclass: safe
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ScenarioError(f"{where}: invalid YAML{at}: {reason}") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ScenarioError(f"{where}: invalid YAML: {exc}") from None
    _check_size(data, where)
    return data


def _check_size(data: Any, where: str) -> None:
    """ScenarioError when ``data`` is nested too deep or has too many values once shared
    parts (YAML aliases) are counted every time they appear; names the biggest key."""
    sizes: dict[int, int] = {}
    parts = data.items() if isinstance(data, dict) else [(None, data)]
    total = 1
    biggest: tuple[int, Any] = (0, None)
    for key, value in parts:
        size = _expanded_size(value, sizes, [key] if key is not None else [])
        total += size
        biggest = max(biggest, (size, key), key=lambda pair: pair[0])
    if total > MAX_YAML_VALUES:
        at = f"{_loc_path([biggest[1]])}: " if biggest[1] is not None else ""
        raise ScenarioError(
            f"{where}: {at}expands to {_count(biggest[0])} values through aliases, above the bound "
            f"of {MAX_YAML_VALUES:,} (MAX_YAML_VALUES)"
        )


def _count(n: int) -> str:
    return f"{n:,}" if n < 10**12 else f"about {n:.2e}"


def _expanded_size(value: Any, sizes: dict[int, int], path: list[Any]) -> int:
    """Values in ``value`` with shared containers counted each time (memoised by id)."""
    if not isinstance(value, (dict, list, tuple)):
        return 1
    known = sizes.get(id(value))
    if known is not None:
        return known
    if len(path) > MAX_YAML_DEPTH:
        raise ScenarioError(
            f"{_loc_path(path)}: nested deeper than {MAX_YAML_DEPTH} levels (MAX_YAML_DEPTH)"
        )
    keyed = isinstance(value, dict)  # a key is one value more
    items: Iterable[tuple[Any, Any]] = (
        value.items() if isinstance(value, dict) else enumerate(value)
    )
    size = 1 + sum(keyed + _expanded_size(child, sizes, [*path, key]) for key, child in items)
    sizes[id(value)] = size
    return size
