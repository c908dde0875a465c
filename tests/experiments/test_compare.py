"""``qnemu compare`` end to end, in a subprocess: rows, statistics, tables, plots, resume."""

import csv
import json
import re
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from matplotlib.image import imread
from scipy import stats

from qnemu.experiments import ComparisonInterrupted, compare
from qnemu.experiments.metrics import metric_columns

T2 = "hardware.trapped_ion.t2_s"


def compare_cli(*args, timeout=300):
    """``python -m qnemu.experiments.cli ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "qnemu.experiments.cli", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


TABLE_HEADINGS = {
    "rate (Hz)": "rate_hz",
    "F mean": "fidelity_mean",
    "utility": "utility",
    "violations": "violations",
}


def _folder(done):
    match = re.search(r"^comparison: (.+)$", done.stdout, re.MULTILINE)
    assert match, done.stdout + done.stderr
    return Path(match.group(1))


def _rows(folder):
    with (folder / "runs.csv").open(newline="") as stream:
        return list(csv.DictReader(stream))


def _recompute(values):
    """Mean and 95% t half-width straight from scipy, independent of qnemu's helper."""
    sample = [float(v) for v in values if v != ""]
    n = len(sample)
    mean = sum(sample) / n
    sem = stats.sem(sample)
    return mean, (0.0 if sem == 0 else stats.t.interval(0.95, n - 1, mean, sem)[1] - mean)


def _table(folder):
    """The whole-network tables of table.md (split to fit 100 columns) as
    {(t2, controller): {heading: cell}}."""
    text = (folder / "table.md").read_text()
    section = text.split("## Whole network")[1].split("##")[0]
    table = {}
    for block in section.split("\n\n"):
        lines = [line for line in block.splitlines() if line.startswith("|")]
        if not lines:
            continue
        header = [c.strip() for c in lines[0].strip("|").split("|")]
        for line in lines[2:]:
            cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
            table.setdefault((cells["t2_s"], cells["controller"]), {}).update(cells)
    return table, text


def _shown(cell):
    """(mean, interval's ends, half a unit of the last digit shown) of a table cell:
    ``m ± h`` or, clipped to the metric's range, ``m [lo, hi]``."""
    mean = cell.split(" ")[0]
    unit = 0.5 * 10.0 ** -len(mean.partition(".")[2])
    if " ± " in cell:
        half = float(cell.split(" ± ")[1])
        return float(mean), (float(mean) - half, float(mean) + half), unit
    low, high = (float(x) for x in cell.split("[")[1].rstrip("]").split(","))
    return float(mean), (low, high), unit


def _is_png(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    width, height = struct.unpack(">II", data[16:24])
    assert width > 100 and height > 100
    assert imread(path).ndim == 3


def test_compare_end_to_end(tiny, tmp_path):
    done = compare_cli(
        tiny,
        "--controllers",
        "centralized,distributed",
        "--repeats",
        2,
        "--seed",
        11,
        "--sweep",
        f"{T2}=0.02,1",
        "--results",
        tmp_path / "out",
        "--virtual",
    )
    assert done.returncode == 0, done.stderr
    folder = _folder(done)
    assert folder.parent == tmp_path / "out" and folder.name.endswith("-compare-tiny")

    rows = _rows(folder)
    assert len(rows) == 2 * 2 * 2
    expected = {
        "run",
        "controller",
        "repeat",
        "seed",
        T2,
        "overloaded",
        "results",
        *metric_columns(["qkd", "dqc"]),
    }
    assert expected <= set(rows[0])
    for row in rows:
        for column in (
            "rate_hz",
            "violations",
            "tenant.qkd.rate_hz",
            "tenant.dqc.utility",
            "utility",
            "fidelity_mean",
        ):
            assert row[column] != "", (column, row)
        assert row["seed"] == str(11 + int(row["repeat"]))
        assert (folder / row["results"] / "summary.json").is_file()
    keys = {(r["controller"], r["repeat"], r[T2]) for r in rows}
    assert len(keys) == 8

    table, text = _table(folder)
    assert "Overloaded runs excluded from the statistics: 0" in text
    summary = json.loads((folder / "summary.json").read_text())
    assert len(summary["runs"]) == 8 and len(summary["groups"]) == 4
    for (t2, controller), cells in table.items():
        members = [r for r in rows if r[T2] == t2 and r["controller"] == controller]
        assert cells["runs"] == "2 (0)"
        group = next(
            g for g in summary["groups"] if g["point"] == {T2: t2} and g["controller"] == controller
        )
        for heading, column in TABLE_HEADINGS.items():
            mean, half = _recompute(r[column] for r in members)
            shown_mean, (low, high), unit = _shown(cells[heading])
            assert abs(shown_mean - mean) <= unit + 1e-12  # rounded to the digits shown
            # clipped (only) to the metric's range: >= 0, and a fidelity <= 1
            top = 1.0 if column == "fidelity_mean" else float("inf")
            assert low == pytest.approx(max(mean - half, 0.0), abs=2 * unit + 1e-12)
            assert high == pytest.approx(min(mean + half, top), abs=2 * unit + 1e-12)
            assert group["metrics"][column]["mean"] == pytest.approx(mean, rel=1e-12)
            assert group["metrics"][column]["half_width"] == pytest.approx(
                half, rel=1e-9, abs=1e-12
            )
    assert "mean ± 95% CI" in done.stdout

    pngs = sorted(p.name for p in folder.glob("*.png"))
    for name in (
        "bar-rate_hz.png",
        "bar-violations.png",
        "bar-fidelity_mean.png",
        "sweep-utility.png",
        "sweep-violations.png",
        "scatter-qkd.png",
        "scatter-dqc.png",
    ):
        assert name in pngs
    for name in pngs:
        _is_png(folder / name)


def test_resume_skips_the_runs_already_recorded(tiny, tmp_path):
    def stop_after_first(spec, row):
        raise KeyboardInterrupt

    with pytest.raises(ComparisonInterrupted) as caught:
        compare(
            tiny,
            "centralized,distributed",
            repeats=2,
            results_dir=tmp_path,
            mode="virtual",
            quiet=True,
            on_run_done=stop_after_first,
        )
    folder = caught.value.folder
    assert caught.value.finished == 1 and caught.value.total == 4
    [first] = _rows(folder)
    assert (folder / "table.md").is_file()  # what was finished is already reported

    done = compare_cli(
        tiny,
        "--controllers",
        "centralized,distributed",
        "--repeats",
        2,
        "--resume",
        folder,
        "--virtual",
    )
    assert done.returncode == 0, done.stderr
    assert "resuming: 1 of 4 runs already recorded" in done.stdout
    assert done.stdout.count("done ") == 3
    rows = _rows(folder)
    assert rows[0] == first
    assert sorted((r["controller"], r["repeat"]) for r in rows) == [
        ("centralized", "0"),
        ("centralized", "1"),
        ("distributed", "0"),
        ("distributed", "1"),
    ]
    first_runs = list((folder / "runs" / "centralized-r0").iterdir())
    assert len(first_runs) == 1  # the recorded run was not run again

    again = compare_cli(
        tiny,
        "--controllers",
        "centralized,distributed",
        "--repeats",
        2,
        "--resume",
        folder,
        "--virtual",
        "--quiet",
    )
    assert again.returncode == 0 and len(_rows(folder)) == 4


def test_resume_refuses_a_different_scenario_or_seed(tiny, tmp_path):
    folder = compare(
        tiny, "distributed", repeats=1, results_dir=tmp_path, mode="virtual", quiet=True
    )
    done = compare_cli(
        tiny,
        "--controllers",
        "distributed",
        "--repeats",
        1,
        "--seed",
        99,
        "--resume",
        folder,
        "--virtual",
    )
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: --resume {folder}: recorded with seed 5, got 99"
    done = compare_cli(tiny, "--controllers", "distributed", "--resume", tmp_path, "--virtual")
    assert done.returncode == 2 and "not a comparison folder" in done.stderr


@pytest.mark.ray
def test_compare_with_real_ray_actors(tiny, tmp_path):
    done = compare_cli(
        tiny,
        "--controllers",
        "distributed",
        "--repeats",
        1,
        "--sweep",
        "duration_s=0.02",
        "--results",
        tmp_path,
        "--quiet",
    )
    assert done.returncode == 0, done.stderr
    folder = _folder(done)
    [row] = _rows(folder)
    assert float(row["dilation"]) >= 1
    assert float(row["lateness_p99_s"]) >= 0  # measured against the wall clock
    excluded = 1 if row["overloaded"] == "true" else 0
    assert (
        f"Overloaded runs excluded from the statistics: {excluded}"
        in (folder / "table.md").read_text()
    )
    assert float(row["tenant.qkd.rate_hz"]) >= 0
    assert (folder / row["results"] / "events.jsonl").is_file()


@pytest.mark.parametrize(
    ("args", "lines"),
    [
        (
            ["--controllers", "distributed,central"],
            [
                "unknown controller 'central' (valid: centralized, distributed, hierarchical, "
                "package.module:Class or path/to/file.py:Class)"
            ],
        ),
        (["--sweep", "hardware.trapped_ion.t2_s"], ["must look like PARAM=v1,v2"]),
        (["--sweep", "control.nosuch=1,2"], ["control.nosuch: unknown key"]),
        (
            ["--controllers", "nope", "--sweep", "x.y=1", "--sweep", "bad"],
            ["unknown controller 'nope'", "must look like PARAM=v1,v2"],
        ),
    ],
)
def test_bad_input_is_one_line_per_problem_and_exit_2(tiny, tmp_path, args, lines):
    done = compare_cli(tiny, *args, "--results", tmp_path / "out", "--virtual")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    errors = done.stderr.strip().splitlines()
    assert all(line.startswith("error: ") for line in errors)
    assert len(errors) == len(lines)
    for line, words in zip(errors, lines, strict=True):
        assert words in line
    assert not (tmp_path / "out").exists()  # nothing half-written
