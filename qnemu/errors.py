"""One hierarchy of qnemu's own exceptions.

Every error a user can cause by bad input is a :class:`QnemuError`; the CLI turns
those into a one-line message and exit status 2. Anything else is a bug.
"""

from __future__ import annotations

import unicodedata

#: Longest line the CLI prints for one problem, ``error: `` included (characters).
MAX_LINE = 200
#: Most problems one :class:`ScenarioError` lists; the rest are counted in a last line.
MAX_PROBLEMS = 20
_PREFIX = "error: "


class QnemuError(Exception):
    """Base class of every error qnemu raises on purpose."""


class ScenarioError(QnemuError, ValueError):
    """A scenario failed validation; ``problems`` lists each one with its path.

    Each problem is made one printable line of at most ``MAX_LINE - 7`` characters
    (control characters escaped, the tail cut), and at most ``MAX_PROBLEMS`` are kept.
    """

    def __init__(self, problems: list[str] | str) -> None:
        given = [problems] if isinstance(problems, str) else list(problems)
        kept = [one_line(p) for p in given[:MAX_PROBLEMS]]
        if len(given) > MAX_PROBLEMS:
            kept.append(f"... and {len(given) - MAX_PROBLEMS} more problems")
        self.problems = kept
        super().__init__("; ".join(self.problems))


class EmulationError(QnemuError):
    """The emulation could not start or run (Ray, sockets, placement)."""


def escape_controls(text: str) -> str:
    """``text`` with newlines, tabs, ANSI escapes and other control or separator
    characters written as Python escapes (``\\n``, ``\\x1b``), so it prints on one line."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escaped(ch) for ch in text)


def _escaped(ch: str) -> str:
    if unicodedata.category(ch) == "Zs":  # other spaces: visible enough, keep one space
        return " "
    return ch.encode("unicode_escape").decode("ascii")


def one_line(text: str, limit: int = MAX_LINE - len(_PREFIX)) -> str:
    """``text`` escaped to one printable line of at most ``limit`` characters."""
    text = escape_controls(str(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."
