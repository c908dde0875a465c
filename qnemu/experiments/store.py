"""``runs.csv``: one row per finished run, appended and flushed as each run ends.

An interrupted comparison therefore keeps every run it finished, and ``--resume`` reads
the file back to skip them. Cells are written as text: numbers with ``repr`` (exact round
trip), empty for "not measured", ``true``/``false`` for flags.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from qnemu.errors import ScenarioError

__all__ = ["RunStore", "cell"]


def cell(value: Any) -> str:
    """One value as CSV text (see the module docstring)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


class RunStore:
    """The rows of ``runs.csv``, in memory and on disk (see the module docstring)."""

    def __init__(self, path: Path, columns: Sequence[str], key_columns: Sequence[str]) -> None:
        self.path = path
        self.key_columns = list(key_columns)
        self.rows: list[dict[str, str]] = []
        self.columns = list(columns)
        if path.exists():
            self._load()

    def _load(self) -> None:
        with self.path.open(newline="", encoding="utf-8") as stream:
            reader = csv.DictReader(stream)
            existing = list(reader.fieldnames or [])
            missing = [c for c in self.key_columns if c not in existing]
            if missing:
                raise ScenarioError(
                    f"{self.path}: not a comparison's runs.csv (no column {', '.join(missing)})"
                )
            self.rows = [dict(row) for row in reader]
        merged = existing + [c for c in self.columns if c not in existing]
        if merged != existing:  # new columns (a newer qnemu): rewrite once, whole
            self.columns = merged
            self._rewrite()
        self.columns = merged

    def _rewrite(self) -> None:
        temporary = self.path.with_suffix(".csv.tmp")
        with temporary.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, self.columns, restval="")
            writer.writeheader()
            writer.writerows(self.rows)
        os.replace(temporary, self.path)

    def key(self, row: Mapping[str, Any]) -> tuple[str, ...]:
        """A row's identity: the values of the key columns, as text."""
        return tuple(cell(row.get(c)) for c in self.key_columns)

    def done(self) -> set[tuple[str, ...]]:
        """Keys of the runs already recorded."""
        return {self.key(row) for row in self.rows}

    def append(self, row: Mapping[str, Any]) -> dict[str, str]:
        """Write one finished run and flush it to disk at once; returns the text row."""
        text = {c: cell(row.get(c)) for c in self.columns}
        new = not self.path.exists()
        with self.path.open("a", newline="", encoding="utf-8") as stream:
            writer = csv.DictWriter(stream, self.columns)
            if new:
                writer.writeheader()
            writer.writerow(text)
            stream.flush()
            os.fsync(stream.fileno())
        self.rows.append(text)
        return text
