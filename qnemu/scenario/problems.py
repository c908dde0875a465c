"""Pydantic validation errors turned into one line each: ``path: problem, got value``."""

from __future__ import annotations

import reprlib
import typing
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import (
    BaseModel,
    ValidationError,
)

from qnemu.errors import escape_controls

# ---------------------------------------------------------------- pydantic errors -> lines


def _loc_path(loc: Iterable[Any], max_parts: int = 8, max_key: int = 40) -> str:
    """``topology.links[2].length_km`` from pydantic's ``loc`` (or a YAML path).

    Keys are escaped to one line and cut to ``max_key`` characters; a path of more than
    ``max_parts`` parts keeps its first and last ones around ``...``.
    """
    parts = list(loc)
    if len(parts) > max_parts:
        parts = [*parts[: max_parts - 2], "...", *parts[-2:]]
    out = ""
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
            continue
        text = escape_controls(str(part))
        text = text if len(text) <= max_key else text[: max_key - 3] + "..."
        out += f".{text}" if out and part != "..." else text
    return out


#: Short reprs that never build the whole value (a YAML alias bomb has billions of items).
_SHORT = reprlib.Repr()
_SHORT.maxlevel, _SHORT.maxlist, _SHORT.maxtuple, _SHORT.maxdict = 3, 5, 5, 4
_SHORT.maxstring, _SHORT.maxother, _SHORT.maxlong = 50, 50, 40
_FMT_CHARS = 60


def _fmt(value: Any) -> str:
    """A value as the user wrote it in YAML, kept short (at most 60 characters)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    try:
        text = escape_controls(_SHORT.repr(value))
    except ValueError:  # an int too long to print (sys.get_int_max_str_digits)
        text = f"<a {type(value).__name__} too long to print>"
    return text if len(text) <= _FMT_CHARS else text[: _FMT_CHARS - 3] + "..."


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``list[M]``, ``dict[str, M]``, ``M | None``, if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def _model_at(root: type[BaseModel], loc: Iterable[Any]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for part in loc:
        if model is not None and isinstance(part, str) and part in model.model_fields:
            model = _model_in(model.model_fields[part].annotation)
        # list indices and dict keys leave the model as it is
    return model


_TYPE_WORDS = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "int_parsing": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "string_type": "a string",
    "bool_type": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "finite_number": "a finite number",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
#: The named bound behind a field's upper limit, quoted in its error.
_BOUND_NAMES = {
    "length_km": "MAX_LENGTH_KM",
    "hop_km": "MAX_LENGTH_KM",
    "radius": "MAX_LENGTH_KM",
    "area_km": "MAX_LENGTH_KM",
    "memories": "MAX_MEMORIES",
    "n": "MAX_NODES",
    "rows": "MAX_NODES",
    "cols": "MAX_NODES",
    "duration_s": "MAX_DURATION_S",
    "nodes": "MAX_NODES",
    "links": "MAX_LINKS",
}
_BOUNDS = {
    "greater_than": ("gt", ">"),
    "greater_than_equal": ("ge", ">="),
    "less_than": ("lt", "<"),
    "less_than_equal": ("le", "<="),
}


def _problem(error: Mapping[str, Any], root: type[BaseModel], prefix: tuple = ()) -> str:
    loc = (*prefix, *error["loc"])
    path, kind, got = _loc_path(loc) or "scenario", error["type"], _fmt(error.get("input"))
    if kind == "missing":
        return f"{path}: required"
    if loc and loc[-1] == "[key]":  # YAML read `true:` or `1:` as a bool or a number
        where = _loc_path([*loc[:-2], _fmt(error.get("input"))])
        return f"{where}: a key must be a string, got {got} (quote it: '{got}')"
    if kind == "extra_forbidden":
        parent = _model_at(root, error["loc"][:-1])
        valid = f" (valid: {', '.join(parent.model_fields)})" if parent else ""
        return f"{path}: unknown key{valid}"
    named = _BOUND_NAMES.get(str(loc[-1])) if loc else None
    if kind in _BOUNDS:
        key, sign = _BOUNDS[kind]
        bound = error["ctx"][key]
        bound = f"{bound:g}" if isinstance(bound, float) else bound
        name = f" ({named})" if named and sign.startswith("<") else ""
        return f"{path}: must be {sign} {bound}{name}, got {got}"
    if kind == "too_long":
        name = f" ({named})" if named else ""
        return (
            f"{path}: at most {error['ctx']['max_length']} items{name}, "
            f"got {error['ctx'].get('actual_length', 'more')}"
        )
    if kind in _TYPE_WORDS:
        return f"{path}: must be {_TYPE_WORDS[kind]}, got {got}"
    if kind == "literal_error":
        return f"{path}: must be {error['ctx']['expected']}, got {got}"
    if kind == "string_too_short":
        return f"{path}: must not be empty"
    if kind == "value_error":
        return f"{path}: {error['ctx']['error']}"
    message = error["msg"]
    return f"{path}: {message[:1].lower()}{message[1:]}, got {got}"


def _validate(
    model: type[BaseModel], data: Any, problems: list[str] | None, prefix: tuple = ()
) -> Any:
    """``model`` validated from ``data``, or None with each problem appended as a line."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        if problems is not None:
            problems.extend(_problem(e, model, prefix) for e in exc.errors())
        return None
