"""How every ``qnemu`` command reports a problem: one line per problem, exit status 2.

The one home of the command line's error printing (``qnemu run``, ``validate``, ``topo``,
``examples``, ``compare`` and ``dashboards`` all call it): a
:class:`~qnemu.errors.QnemuError` becomes ``error: ...`` lines on stderr, each escaped to
one printable line of bounded length (:func:`qnemu.errors.one_line`), and the command
exits 2; a live warning is one ``warning: ...`` line and the command goes on.
Cheap to import: nothing here pulls in numpy, Ray or telemetry.
"""

from __future__ import annotations

import sys
from typing import NoReturn

import typer

from qnemu.errors import QnemuError, one_line

__all__ = ["BAD_INPUT", "HELP", "fail", "problems", "say_error", "warn"]

#: Exit status of bad input or an environment a command cannot run in.
BAD_INPUT = 2
#: The help option of every command and group.
HELP = ["-h", "--help"]


def problems(exc: BaseException) -> list[str]:
    """The problems an error stands for: a ScenarioError's list, else its message."""
    return list(getattr(exc, "problems", None) or [str(exc)])


def say_error(line: str) -> None:
    """Write one ``error:`` line to stderr (plain write: never wrapped, never styled)."""
    sys.stderr.write(f"error: {one_line(line)}\n")
    sys.stderr.flush()


def fail(exc: QnemuError | str, status: int = BAD_INPUT) -> NoReturn:
    """Report ``exc`` (an error or one line of text), one ``error:`` line per problem,
    and end the command with ``status``."""
    for problem in problems(exc) if isinstance(exc, BaseException) else [exc]:
        say_error(problem)
    raise typer.Exit(status)


def warn(text: str) -> None:
    """A warning the command goes on after: one ``warning:`` line on stderr."""
    sys.stderr.write(f"warning: {one_line(text)}\n")
    sys.stderr.flush()
