"""The bundled examples: scenario YAML files and example controllers, installed with qnemu.

A bundled scenario is named by its file's stem (``two-node``); ``qnemu run two-node``,
``qnemu examples`` and ``qnemu examples show two-node`` find it from any directory. Each
file says at its top, in a comment, what it shows; its first sentence is the one-line
description. Cheap to import (no numpy): the command line lists examples with it.
"""

from __future__ import annotations

import re
from pathlib import Path

from qnemu.errors import ScenarioError

__all__ = ["EXAMPLES_DIR", "description", "example_path", "find_scenario", "names"]

#: Where the bundled scenario files are.
EXAMPLES_DIR = Path(__file__).parent
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def names() -> list[str]:
    """Every bundled scenario's name, sorted."""
    return sorted(path.stem for path in EXAMPLES_DIR.glob("*.yaml"))


def example_path(name: str) -> Path | None:
    """The file of the bundled scenario ``name`` (``two-node`` or ``two-node.yaml``), or
    None when there is none by that name."""
    stem = name.removesuffix(".yaml")
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        return None
    path = EXAMPLES_DIR / f"{stem}.yaml"
    return path if path.is_file() else None


def description(path: Path) -> str:
    """The first sentence of the comment at the top of a scenario file ("" if none)."""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        text = line.strip()
        if not text.startswith("#"):
            break
        text = text.lstrip("#").strip()
        if not text:  # the first paragraph of the comment only
            break
        lines.append(text)
    paragraph = " ".join(lines)
    return _SENTENCE_END.split(paragraph, maxsplit=1)[0]


#: Words a user may have meant as a flag's value (``--virtual true``): flags take none.
_FLAG_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "1", "0"})


def find_scenario(text: str | Path) -> Path:
    """The scenario file ``text`` names: a file, else a bundled example by name.

    Raises :class:`~qnemu.errors.ScenarioError` listing the bundled names when it is
    neither (and saying that flags take no value when ``text`` is ``true`` or the like).
    """
    path = Path(text)
    if path.exists():
        return path
    bundled = example_path(str(text))
    if bundled is not None:
        return bundled
    if str(text).lower() in _FLAG_WORDS:
        raise ScenarioError(
            f"{text}: not a scenario; flags such as --virtual or --quiet take no value "
            "(write --virtual, not --virtual true)"
        )
    raise ScenarioError(
        f"{text}: scenario file not found, nor a bundled example "
        f"(bundled: {', '.join(names())}; see qnemu examples)"
    )
