"""What a comparison shows a reader: intervals clipped to what a metric can take, a table
that fits 100 columns without cutting a name, and numbers to the interval's precision."""

import itertools
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.collections import LineCollection
from rich.console import Console

from qnemu.experiments.metrics import (
    BOUNDS,
    TENANT_METRICS,
    TOTAL_METRICS,
    metric_bounds,
    metric_columns,
)
from qnemu.experiments.plots import SWEEP_METRICS, bar_figure, scatter_figure, sweep_figure
from qnemu.experiments.report import (
    MAX_WIDTH,
    TABLE_METRICS,
    all_metrics,
    group_rows,
    markdown_table,
    rich_table,
)
from qnemu.experiments.stats import format_interval, mean_ci

ROOT = Path(__file__).resolve().parents[2]
T2 = "hardware.trapped_ion.t2_s"
LONG = "examples/controllers/freshest_first.py:FreshestFirst"
CONTROLLERS = ["centralized", "hierarchical", LONG]
#: Per run: rates whose t-interval reaches below 0 (0, 0, 50 Hz: 17 ± 72) at the first
#: T2, fidelities whose interval passes 1 at the last (0.97, 0.999, 0.93).
RATES = {"0.005": [0.0, 0.0, 50.0], "0.02": [40.0, 55.0, 48.0], "1": [80.0, 95.0, 88.0]}
FIDELITIES = {"0.005": [0.61, 0.64, 0.58], "0.02": [0.71, 0.74, 0.73], "1": [0.97, 0.999, 0.93]}


def _rows(controllers=CONTROLLERS):
    """``runs.csv`` rows (text cells, as read back) of 3 repeats at 3 T2 values."""
    rows = []
    for controller, t2, repeat in itertools.product(controllers, RATES, range(3)):
        rate, fidelity = RATES[t2][repeat], FIDELITIES[t2][repeat]
        rows.append(
            {
                "run": str(len(rows)),
                "controller": controller,
                "repeat": str(repeat),
                T2: t2,
                "rate_hz": str(rate),
                "fidelity_mean": str(fidelity) if rate else "",
                "utility": str(rate),
                "violations": str(3 * repeat),
                "controller_decision_latency_s": str(0.002 + 0.0001 * repeat),
                "lateness_p99_s": str(0.001 * repeat),
                "tenants_admitted": str(1 + repeat),  # the service layer's columns
                "sla_met_ratio": str(0.9 + 0.05 * repeat),
                "tenant.e2e.rate_hz": str(rate),
                "tenant.e2e.fidelity_mean": str(fidelity) if rate else "",
                "tenant.e2e.utility": str(rate),
                "overloaded": "false",
            }
        )
    return rows


def _groups(rows=None):
    return group_rows(rows or _rows(), [T2], CONTROLLERS, all_metrics(["e2e"]))


# -- the metric's range -------------------------------------------------------------------


def test_every_metric_column_has_its_range():
    for column in (*metric_columns(["qkd", "a.b"]), *TOTAL_METRICS):
        assert metric_bounds(column)[0] == 0.0, column
    assert metric_bounds("fidelity_mean") == (0.0, 1.0)
    assert metric_bounds("tenant.a.b.fidelity_mean") == (0.0, 1.0)
    assert metric_bounds("wall_s") == (None, None)
    assert set(TOTAL_METRICS) | set(TENANT_METRICS) <= set(BOUNDS)


def test_summary_keeps_the_raw_interval_the_display_clips():
    interval = mean_ci([0.0, 0.0, 50.0])
    assert interval.low < 0 < interval.high  # the raw t-interval, as summary.json has it
    assert interval.to_dict()["low"] == interval.low
    assert interval.ends((0.0, None)) == (0.0, interval.high)
    assert interval.is_clipped((0.0, None)) and not interval.is_clipped()
    assert format_interval(interval, bounds=(0.0, None)) == "17 [0, 88]"
    assert format_interval(interval) == "17 ± 72"
    assert format_interval(mean_ci([0.97, 0.999, 0.93]), bounds=(0.0, 1.0)) == (
        "0.966 [0.880, 1.000]"
    )


# -- plots ----------------------------------------------------------------------------------


def _error_ends(figure):
    """The lower and upper y of every error bar drawn (the errorbar LineCollections)."""
    axes = figure.axes[0]
    segments = [
        s for c in axes.collections if isinstance(c, LineCollection) for s in c.get_segments()
    ]
    assert segments, "no error bars drawn"
    return [min(s[:, 1]) for s in segments], [max(s[:, 1]) for s in segments]


@pytest.mark.parametrize(
    ("draw", "metric"),
    [*(("bar", m) for m, _, _ in TABLE_METRICS), *(("sweep", m) for m in SWEEP_METRICS)],
)
def test_error_bars_stay_within_what_the_metric_can_take(draw, metric):
    groups = _groups()
    figure = (
        bar_figure(groups, metric, CONTROLLERS)
        if draw == "bar"
        else sweep_figure(groups, metric, [T2])
    )
    lows, highs = _error_ends(figure)
    assert min(lows) >= 0.0
    if metric == "fidelity_mean":
        assert max(highs) <= 1.0
    clipped = any(g.stats[metric].is_clipped(metric_bounds(metric)) for g in groups)
    assert ("clipped" in figure.axes[0].get_title()) == clipped
    if metric == "rate_hz":
        assert clipped and "clipped at 0" in figure.axes[0].get_title()
        assert max(highs) > 0  # the upper ends are still drawn


def test_coinciding_lines_stay_visible():
    """hierarchical and the long-named controller give the same numbers: their lines
    differ in marker and dash pattern and are shifted sideways, not drawn on top."""
    figure = sweep_figure(_groups(), "utility", [T2])
    lines = [line for line in figure.axes[0].get_lines() if line.get_linestyle() != "None"]
    assert len(lines) == 3
    styles = {(line.get_marker(), line.get_linestyle()) for line in lines}
    assert len({m for m, _ in styles}) == 3 and len({s for _, s in styles}) == 3
    xs = [tuple(line.get_xdata()) for line in lines]
    assert len(set(xs)) == 3
    for a, b in itertools.combinations(xs, 2):  # shifted by a few percent, not moved
        assert all(0 < abs(np.log10(x / y)) < 0.2 for x, y in zip(a, b, strict=True))


def _rendered_boxes(figure):
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    axes = figure.axes[0]
    low, high = sorted(axes.get_xlim())
    labels = [
        t
        for t in axes.get_xticklabels()  # those drawn: inside the axis' range
        if t.get_text() and low <= t.get_position()[0] <= high
    ]
    texts = [*labels, axes.title, axes.xaxis.label, axes.yaxis.label, *figure.legends]
    return renderer, labels, [t.get_window_extent(renderer) for t in texts]


@pytest.mark.parametrize("params", [[T2], ["tenants.0.dst", "control.scheduling"]])
def test_labels_are_horizontal_inside_the_figure_and_apart(params):
    rows = []
    for row in _rows():
        for dst, scheduling in itertools.product(
            ("n2", "n3", "n4", "n6"), ("synchronous", "asynchronous")
        ):
            rows.append({**row, "tenants.0.dst": dst, "control.scheduling": scheduling})
    groups = group_rows(rows, params, CONTROLLERS, all_metrics(["e2e"]))
    for figure in (
        bar_figure(groups, "rate_hz", CONTROLLERS),
        sweep_figure(groups, "rate_hz", params),
        scatter_figure(rows, "e2e", CONTROLLERS),
    ):
        renderer, labels, boxes = _rendered_boxes(figure)
        assert all(label.get_rotation() == 0 for label in labels)
        whole = figure.bbox
        for box in boxes:  # nothing clipped at the figure's edge
            assert whole.x0 <= box.x0 and box.x1 <= whole.x1, box
            assert whole.y0 <= box.y0 and box.y1 <= whole.y1, box
        ticks = sorted((t.get_window_extent(renderer) for t in labels), key=lambda b: b.x0)
        for left, right in itertools.pairwise(ticks):
            assert left.x1 <= right.x0  # no tick label over its neighbor


# -- the table ------------------------------------------------------------------------------

CELL = re.compile(r"^(-?\d+(?:\.(\d+))?)(?: ± (\d+(?:\.(\d+))?)| \[(-?[\d.]+), (-?[\d.]+)\])?$")


def _decimals(number):
    return len(number.partition(".")[2])


def _check_cell(cell):
    """Mean and interval to the same decimal place; the half-width to two significant
    digits (a place finer than the mean's fourth would be floating-point noise)."""
    if cell == "-" or cell.endswith("± 0"):
        return
    match = CELL.match(cell)
    assert match, cell
    mean = match.group(1)
    if match.group(3) is not None:
        half = match.group(3)
        assert _decimals(half) == _decimals(mean), cell
        digits = half.replace(".", "").lstrip("0")
        assert len(digits) == 2 or _decimals(half) == 0, cell
    elif match.group(5) is not None:
        assert _decimals(match.group(5)) == _decimals(mean) == _decimals(match.group(6)), cell


@pytest.mark.parametrize("seed", range(5))
def test_mean_and_interval_to_the_same_digits(seed):
    rng = np.random.default_rng(seed)
    for _ in range(200):
        scale = 10.0 ** rng.uniform(-4, 4)
        sample = rng.normal(scale, scale * rng.uniform(0.001, 2), size=int(rng.integers(2, 6)))
        _check_cell(format_interval(mean_ci(sample)))
        _check_cell(format_interval(mean_ci(sample), bounds=(0.0, None)))


def test_a_constant_sample_is_shown_exactly():
    assert format_interval(mean_ci([0.9224] * 3)) == "0.9224 ± 0"
    assert format_interval(mean_ci([0.9224, 0.9224 + 1e-16, 0.9224])) == "0.9224 ± 0"
    assert format_interval(mean_ci([0, 0])) == "0 ± 0"


def _table_lines(text):
    return [line for line in text.splitlines() if line.startswith("|")]


def _cells(line):
    return [c.strip() for c in line.strip("|").split("|")]


def test_markdown_table_fits_100_columns_with_whole_names():
    text = markdown_table(_groups(), [T2], ["e2e"], "long names")
    lines = _table_lines(text)
    assert lines
    assert max(len(line) for line in text.splitlines()) <= MAX_WIDTH
    shown = {c for line in lines for c in _cells(line)}
    assert set(CONTROLLERS) <= shown and not any("…" in c for c in shown)
    headings = {h for line in lines if "controller" in line for h in _cells(line)}
    assert {h for _, h, _ in TABLE_METRICS} <= headings  # every metric, none dropped
    for line in lines:
        if not line.startswith("|-") and "controller" not in line:
            for cell in _cells(line)[3:]:
                _check_cell(cell)
    assert "[a, b]: the 95% interval clipped" in text  # said where it happened


@pytest.mark.parametrize(
    ("width", "controllers"),
    [(100, CONTROLLERS), (80, ["centralized", "distributed", "hierarchical"])],
)
def test_terminal_table_fits_the_console_with_whole_names(width, controllers):
    """Split into as many tables as the console's width needs, each repeating the keys."""
    groups = group_rows(_rows(controllers), [T2], controllers, all_metrics(["e2e"]))
    console = Console(width=width, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(rich_table(groups, [T2], "names"))
    text = console.export_text()
    table_lines = [line for line in text.splitlines() if line[:1] in "┏┃┡│└"]
    assert table_lines and max(len(line) for line in table_lines) <= width
    tables = text.count("┏")
    assert tables > 1  # six metrics do not fit one table of this width
    for name in controllers:
        assert sum(name in line for line in table_lines) == 3 * tables  # 3 T2 values
    for _, heading, _ in TABLE_METRICS:
        assert heading in text
    assert "…" not in text


def test_compare_cli_table_fits_100_columns(tiny, tmp_path):
    """The real command, a user controller named by its file and 3 T2 values."""
    long = "examples/controllers/freshest_first.py:FreshestFirst"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qnemu.experiments.cli",
            tiny,
            "--controllers",
            f"distributed,{long}",
            "--repeats",
            "2",
            "--sweep",
            f"{T2}=0.005,0.02,1",
            "--results",
            tmp_path,
            "--virtual",
            "--quiet",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "100"},
    )
    assert done.returncode == 0, done.stderr
    folder = Path(re.search(r"^comparison: (.+)$", done.stdout, re.MULTILINE).group(1))
    table = [line for line in done.stdout.splitlines() if line[:1] in "┏┃┡│└"]
    assert table and max(len(line) for line in table) <= 100
    assert any(long in line for line in table) and "…" not in done.stdout
    text = (folder / "table.md").read_text()
    assert max(len(line) for line in text.splitlines()) <= 100
    assert sum(long in line for line in _table_lines(text)) >= 3


def test_application_results_get_their_own_table_with_intervals():
    """Each tenant's app results (here a QKD key rate and QBERs, per T2) in a table of
    their own, with the same intervals; every app column a comparison records is in it."""
    from qnemu.experiments.metrics import APP_METRICS
    from qnemu.experiments.report import APP_TABLE

    assert sorted(m for m, _, _ in APP_TABLE) == sorted(APP_METRICS)
    rows = _rows()
    for row, key in zip(rows, itertools.cycle([100.0, 120.0, 110.0]), strict=False):
        row["tenant.e2e.qkd.secret_key_rate_bps"] = str(key)
        row["tenant.e2e.qkd.qber_z"] = "0.05"
        row["tenant.e2e.qkd.qber_x"] = "0.07"
    text = markdown_table(_groups(rows), [T2], ["e2e"], "apps")
    section = text.split("## Tenant e2e: application")[1]
    headings = {h for line in _table_lines(section) if "controller" in line for h in _cells(line)}
    assert {"key rate (bps)", "QBER Z", "QBER X"} <= headings
    assert "teleport F" not in headings  # an app nobody ran is not a column
    assert "110 ± 25" in section  # mean ± 95% t half-width of 100, 120, 110
    assert "## Tenant e2e: application" not in markdown_table(_groups(), [T2], ["e2e"], "none")
