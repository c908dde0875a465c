"""The one error a run ends with when something failed while it ran (exit status 1)."""

from __future__ import annotations

from qnemu.errors import EmulationError


class RunFailed(EmulationError):
    """A run failed while it ran: a node's or controller's exception, a dead or frozen actor,
    a lost connection, a results folder that could not be written.

    ``str()`` is the one line the user sees (it names the node where one is to blame);
    ``details`` the full traceback or diagnosis, written to ``error.txt``. Picklable, so an
    actor can raise it through Ray.
    """

    def __init__(self, message: str, details: str = "") -> None:
        super().__init__(message, details)

    def __str__(self) -> str:
        return str(self.args[0])

    @property
    def details(self) -> str:
        """The traceback or diagnosis behind the one-line message."""
        return str(self.args[1]) if len(self.args) > 1 else ""
