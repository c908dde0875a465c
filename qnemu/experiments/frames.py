"""A comparison's results as pandas DataFrames (the optional ``qnemu[analysis]`` extra).

``load_runs(folder)`` reads ``runs.csv`` (one row per run: controller, sweep point, repeat,
every metric); ``export_parquet(folder)`` writes the same table as ``runs.parquet`` for
tools that prefer columns with types.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from qnemu import analysis
from qnemu.errors import QnemuError

RUNS_FILE = "runs.csv"
PARQUET_FILE = "runs.parquet"


def load_runs(folder: str | Path) -> Any:
    """A comparison folder's ``runs.csv`` as a DataFrame, one row per run."""
    pd = analysis.pandas()
    path = Path(folder) / RUNS_FILE
    if not path.is_file():
        raise QnemuError(f"{path}: no such file (is {folder} a qnemu compare folder?)")
    return pd.read_csv(path)


def export_parquet(folder: str | Path, path: str | Path | None = None) -> Path:
    """Write a comparison's runs as Parquet (default: ``runs.parquet`` beside
    ``runs.csv``); returns the file written."""
    target = Path(path) if path is not None else Path(folder) / PARQUET_FILE
    try:
        load_runs(folder).to_parquet(target, index=False)
    except ImportError as exc:  # pandas without a Parquet engine
        raise QnemuError(f"parquet needs pyarrow: pip install 'qnemu[analysis]' ({exc})") from None
    return target
