"""runs.csv: rows are on disk as soon as they are appended; old files gain new columns."""

import csv

from qnemu.experiments.store import RunStore, cell


def test_cells_round_trip_as_text():
    assert cell(None) == "" and cell(True) == "true" and cell(0.1) == "0.1"
    assert float(cell(1 / 3)) == 1 / 3


def test_append_is_on_disk_at_once(tmp_path):
    store = RunStore(tmp_path / "runs.csv", ["controller", "repeat", "x"], ["controller"])
    store.append({"controller": "distributed", "repeat": 0, "x": 0.5})
    with (tmp_path / "runs.csv").open() as stream:
        rows = list(csv.DictReader(stream))
    assert rows == [{"controller": "distributed", "repeat": "0", "x": "0.5"}]


def test_reopened_store_knows_its_runs_and_adds_new_columns(tmp_path):
    path = tmp_path / "runs.csv"
    RunStore(path, ["controller", "repeat"], ["controller", "repeat"]).append(
        {"controller": "centralized", "repeat": 1}
    )
    again = RunStore(path, ["controller", "repeat", "utility"], ["controller", "repeat"])
    assert again.done() == {("centralized", "1")}
    again.append({"controller": "distributed", "repeat": 0, "utility": 2.0})
    with path.open() as stream:
        rows = list(csv.DictReader(stream))
    assert [r["utility"] for r in rows] == ["", "2.0"]
