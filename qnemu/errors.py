"""One hierarchy of qnemu's own exceptions.

Every error a user can cause by bad input is a :class:`QnemuError`; the CLI turns
those into a one-line message and exit status 2. Anything else is a bug.
"""

from __future__ import annotations


class QnemuError(Exception):
    """Base class of every error qnemu raises on purpose."""


class ScenarioError(QnemuError, ValueError):
    """A scenario failed validation; ``problems`` lists each one with its path."""

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class EmulationError(QnemuError):
    """The emulation could not start or run (Ray, sockets, placement)."""
