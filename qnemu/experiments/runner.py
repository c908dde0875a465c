"""``compare``: run every controller on the same scenario and seeds, over a sweep grid.

Each run is a fresh :class:`~qnemu.emulation.Emulation` (fresh actors) with its own
results folder under ``<comparison>/runs/``. As each run ends its row is appended to
``runs.csv`` and flushed, so an interrupted comparison keeps what it finished and
``resume=`` skips it. At the end (or at the interruption) the statistics, ``table.md``,
``summary.json`` and the plots are written from ``runs.csv``.

Ray is started once per comparison (embedded, unless ``address`` joins a cluster) and
kept until the comparison ends, however it ends; every run spawns fresh node actors on it.
All runs share ONE dilation, so that they are comparable: ``--dilation`` (or the
scenario's), else the first run calibrates once and its choice (the largest any sweep
point needs) holds for every later run, and for the runs a ``--resume`` adds.
``comparison.json`` and ``summary.json`` record it under ``dilation``.

With ``metrics=`` (``qnemu compare --metrics-port``) one ``/metrics`` endpoint serves every
run as it goes, each run's series labeled ``run=<comparison>/<run folder>`` and its
``controller``, so a Prometheus scraping it shows the control planes side by side.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qnemu.errors import ScenarioError
from qnemu.experiments import metrics as run_metrics
from qnemu.experiments.plan import (
    ComparisonPlan,
    RunSpec,
    build_plan,
    parse_controllers,
    parse_sweep,
)
from qnemu.experiments.plots import write_plots
from qnemu.experiments.report import (
    all_metrics,
    group_rows,
    markdown_table,
    rich_table,
    write_summary,
)
from qnemu.experiments.store import RunStore
from qnemu.results import VIOLATION_KINDS
from qnemu.scenario import ARCHITECTURES, load_scenario

__all__ = ["DEFAULT_CONTROLLERS", "ComparisonInterrupted", "MetricsOptions", "compare"]

DEFAULT_CONTROLLERS = ARCHITECTURES
PLAN_FILE = "comparison.json"


class ComparisonInterrupted(KeyboardInterrupt):
    """Ctrl-C during a comparison; ``folder`` keeps every finished run for ``--resume``."""

    def __init__(self, folder: Path, finished: int, total: int) -> None:
        super().__init__(
            f"interrupted after {finished} of {total} runs; continue with --resume {folder}"
        )
        self.folder = folder
        self.finished = finished
        self.total = total


@dataclass(frozen=True)
class MetricsOptions:
    """Where a comparison serves ``/metrics`` (as ``qnemu run``'s ``--metrics-*``)."""

    port: int
    host: str = "127.0.0.1"
    linger_s: float = 5.0


@dataclass
class Dilation:
    """The one dilation of a comparison's runs: ``value`` (None: not known yet, or
    virtual time, or swept), where it came from (``source``) and why."""

    value: float | None
    source: str  # auto | --dilation | scenario | swept | virtual
    reason: str | None = None
    calibrated_lateness_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "source": self.source,
            "reason": self.reason,
            "calibrated_lateness_s": self.calibrated_lateness_s,
        }


def compare(
    scenario_path: str | Path,
    controllers: str | Iterable[str] = DEFAULT_CONTROLLERS,
    repeats: int = 5,
    seed: int | None = None,
    sweep: Iterable[str] = (),
    results_dir: str | Path = "runs",
    mode: str = "ray",
    resume: str | Path | None = None,
    *,
    address: str | None = None,
    dilation: float | None = None,
    overrides: Mapping[str, Any] | None = None,
    console: Console | None = None,
    quiet: bool = False,
    on_run_done: Callable[[RunSpec, dict[str, str]], None] | None = None,
    metrics: MetricsOptions | None = None,
) -> Path:
    """Run the comparison and return its folder (see the module docstring).

    ``controllers``: names or ``package.module:Class`` paths (a list or ``"a,b"``);
    ``sweep``: items ``PARAM=v1,v2``, their grid is run; repeat ``i`` uses seed
    ``seed + i`` (default: the scenario's seed); ``mode``: ``"ray"`` or ``"virtual"``;
    ``resume``: an earlier comparison folder whose recorded runs are skipped;
    ``dilation``: every run's (default: the scenario's, else calibrated once);
    ``overrides``: scenario fields set for every run (``--set``, e.g.
    ``{"hardware.trapped_ion.t2_s": 0.1}``).
    ``on_run_done`` is called with each finished run and its row. Every input problem
    is raised at once as a :class:`~qnemu.errors.ScenarioError` before anything runs.
    ``metrics``: serve the runs' metrics on one endpoint (a port in use is a
    :class:`~qnemu.telemetry.TelemetryError` before anything runs or is written).
    """
    if mode not in ("ray", "virtual"):
        raise ScenarioError(f"mode: must be 'ray' or 'virtual', got {mode!r}")
    if metrics is not None:
        from qnemu.telemetry.collector import check_endpoint

        check_endpoint(metrics.host, metrics.port)
    problems: list[str] = []
    names = _collect(problems, parse_controllers, controllers)
    sweeps = _collect(problems, parse_sweep, list(sweep))
    if problems:
        raise ScenarioError(problems)
    fixed = dict(overrides or {})
    if dilation is not None:  # checked with the scenario: >= 1, finite, wall-time bound
        fixed["dilation"] = dilation
    plan = build_plan(scenario_path, names, repeats, seed, sweeps, fixed)
    shared = _initial_dilation(plan, mode, "--dilation" if dilation is not None else "scenario")
    if resume:
        folder = _resume_folder(Path(resume), plan)
        shared = _recorded_dilation(folder, shared)
    else:
        folder = _new_folder(Path(results_dir), plan, shared)
    store = RunStore(folder / "runs.csv", _columns(plan), _key_columns(plan))
    done = store.done()
    todo = [spec for spec in plan.runs if store.key(spec.cells()) not in done]
    console = console or Console(soft_wrap=True)
    if not quiet and len(todo) < len(plan.runs):
        console.print(
            f"resuming: {len(plan.runs) - len(todo)} of {len(plan.runs)} runs already recorded",
            markup=False,
        )
    try:
        _run_all(
            plan, todo, store, folder, mode, address, console, quiet, on_run_done, shared, metrics
        )
    except KeyboardInterrupt:
        _report(plan, store, folder, console, show=False, dilation=shared)
        finished = len(plan.runs) - len(
            [s for s in plan.runs if store.key(s.cells()) not in store.done()]
        )
        raise ComparisonInterrupted(folder, finished, len(plan.runs)) from None
    _report(plan, store, folder, console, show=True, dilation=shared)
    return folder


def _initial_dilation(plan: ComparisonPlan, mode: str, given_by: str) -> Dilation:
    """What is known of the comparison's dilation before any run."""
    if mode == "virtual":
        return Dilation(None, "virtual", "virtual time has no dilation")
    if "dilation" in plan.params:
        return Dilation(None, "swept", "each sweep point sets its own dilation")
    if plan.base.dilation is not None:
        return Dilation(
            plan.base.dilation,
            given_by,
            f"set by {given_by}" if given_by == "--dilation" else "set by the scenario",
        )
    return Dilation(None, "auto", "calibrated at the comparison's first run")


def _recorded_dilation(folder: Path, shared: Dilation) -> Dilation:
    """On ``--resume`` an auto dilation is the one the comparison calibrated before."""
    if shared.source != "auto":
        return shared
    recorded = json.loads((folder / PLAN_FILE).read_text()).get("dilation") or {}
    if recorded.get("source") != "auto" or not recorded.get("value"):
        return shared
    return Dilation(
        float(recorded["value"]),
        "auto",
        recorded.get("reason"),
        recorded.get("calibrated_lateness_s"),
    )


def _collect(problems: list[str], parse: Callable[[Any], Any], value: Any) -> Any:
    try:
        return parse(value)
    except ScenarioError as exc:
        problems.extend(exc.problems)
        return []


def _columns(plan: ComparisonPlan) -> list[str]:
    return [
        *run_metrics.RUN_COLUMNS,
        *plan.params,
        *run_metrics.metric_columns(plan.tenants),
        *run_metrics.TAIL_COLUMNS,
    ]


def _key_columns(plan: ComparisonPlan) -> list[str]:
    return ["controller", "repeat", "seed", *plan.params]


def _new_folder(root: Path, plan: ComparisonPlan, dilation: Dilation) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", plan.base.name) or "scenario"
    base = root / f"{time.strftime('%Y%m%d-%H%M%S')}-compare-{safe}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir(parents=True)
    _write_plan(folder, plan, dilation)
    return folder


def _write_plan(folder: Path, plan: ComparisonPlan, dilation: Dilation) -> None:
    """``comparison.json``: the plan and the comparison's dilation (atomically)."""
    temporary = folder / f"{PLAN_FILE}.tmp"
    temporary.write_text(json.dumps({**plan.describe(), "dilation": dilation.to_dict()}, indent=2))
    os.replace(temporary, folder / PLAN_FILE)


def _resume_folder(folder: Path, plan: ComparisonPlan) -> Path:
    """An earlier comparison of the same scenario and seeds (else a ScenarioError)."""
    recorded_path = folder / PLAN_FILE
    if not recorded_path.is_file():
        raise ScenarioError(f"--resume {folder}: not a comparison folder (no {PLAN_FILE})")
    recorded = json.loads(recorded_path.read_text())
    problems = []
    if recorded.get("scenario") != plan.base.to_dict():
        problems.append(
            f"--resume {folder}: recorded for a different scenario than "
            f"{plan.scenario_path} (the resolved scenarios differ)"
        )
    if recorded.get("seed") != plan.seed:
        problems.append(
            f"--resume {folder}: recorded with seed {recorded.get('seed')}, got {plan.seed}"
        )
    if problems:
        raise ScenarioError(problems)
    return folder


def _run_all(
    plan: ComparisonPlan,
    todo: Sequence[RunSpec],
    store: RunStore,
    folder: Path,
    mode: str,
    address: str | None,
    console: Console,
    quiet: bool,
    on_run_done: Callable[[RunSpec, dict[str, str]], None] | None,
    shared: Dilation,
    metrics: MetricsOptions | None = None,
) -> None:
    bar = Progress(
        TextColumn("comparing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
    )
    task = bar.add_task("", total=len(todo))
    with ExitStack() as stack:
        if mode == "ray" and todo:
            ray = stack.enter_context(_shared_ray(address))
            if ray.started and not quiet:
                console.print(
                    f"ray: embedded Ray started once for {len(todo)} runs",
                    markup=False,
                    highlight=False,
                )
        sink = _metrics_sink(stack, metrics, mode, address, console, quiet) if todo else None
        stack.enter_context(bar)
        for number, spec in enumerate(todo):
            bar.update(task, description=spec.label)

            def progress(p: Any, number: int = number) -> None:
                bar.update(task, completed=number + min(1.0, p.emulated_s / p.duration_s))

            if sink is not None:
                sink.expect(f"{folder.name}/{spec.slug}")
            row = _one_run(
                plan,
                spec,
                folder,
                mode,
                address,
                progress,
                shared,
                None if quiet else console,
                sink,
            )
            text = store.append({**row, "run": len(store.rows)})
            bar.update(task, completed=number + 1)
            if not quiet:
                console.print(_line(spec, text), markup=False, highlight=False)
            if on_run_done is not None:
                on_run_done(spec, text)


def _metrics_sink(
    stack: ExitStack,
    metrics: MetricsOptions | None,
    mode: str,
    address: str | None,
    console: Console,
    quiet: bool,
) -> Any:
    """One telemetry sink kept open across the runs; it lingers and stops with the stack."""
    if metrics is None:
        return None
    from qnemu.telemetry import start_telemetry

    say = None if quiet else (lambda text: console.print(text, markup=False, highlight=False))
    sink = start_telemetry(
        metrics.host,
        metrics.port,
        metrics.linger_s,
        in_process=mode == "virtual",
        address=address,
        say=say,
    )
    sink.keep_open = True  # each run's close ends that run only
    stack.callback(sink.stop)
    if not quiet:
        console.print(
            f"metrics: {sink.url} (every run, labeled run=<comparison>/<run>)",
            markup=False,
            highlight=False,
        )
    return sink


class _shared_ray:
    """Start embedded Ray once for all runs (each Emulation then reuses it) and stop it
    when the comparison ends, also on Ctrl-C or a failure; its processes die with this
    driver however it exits (:mod:`qnemu.runtime.reaper`)."""

    def __init__(self, address: str | None) -> None:
        self.address = address
        self.started = False

    def __enter__(self) -> _shared_ray:
        from qnemu.runtime import ray_backend

        self.started = ray_backend.start_ray(self.address)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            from qnemu.runtime import ray_backend

            ray_backend.stop_ray()


def _one_run(
    plan: ComparisonPlan,
    spec: RunSpec,
    folder: Path,
    mode: str,
    address: str | None,
    progress: Callable[[Any], None],
    shared: Dilation,
    console: Console | None,
    sink: Any = None,
) -> dict[str, Any]:
    from qnemu.emulation import Emulation

    scenario = load_scenario(plan.scenario_path, _run_overrides(spec))

    def say(text: str) -> None:
        if console is not None:
            console.print(f"{spec.label}: {text}", markup=False, highlight=False)

    def warn(text: str) -> None:
        sys.stderr.write(f"warning: {spec.label}: {text}\n")
        sys.stderr.flush()

    options: dict[str, Any] = {}
    if shared.source == "auto" and shared.value is not None:
        options = {
            "dilation": shared.value,
            "dilation_reason": "auto, calibrated once at the comparison's first run",
        }
    elif shared.source == "auto":
        options = {"choose": _comparison_choice(plan, spec)}
    elif shared.value is not None:
        options = {"dilation": shared.value, "dilation_reason": shared.reason}
    emulation = Emulation(
        scenario,
        address=address,
        results_dir=folder / "runs" / spec.slug,
        mode=mode,
        on_progress=progress,
        say=say,
        warn=warn,
        telemetry=sink,
        **options,
    )
    started = time.perf_counter()
    try:
        summary = emulation.run()
    finally:
        _keep_calibration(plan, folder, shared, emulation)
    row = run_metrics.run_metrics(summary)
    row.update(spec.cells())
    row["wall_s"] = time.perf_counter() - started
    row["results"] = str(Path(summary["results"]).relative_to(folder))
    return row


def _run_overrides(spec: RunSpec) -> dict[str, Any]:
    return {**spec.overrides, "control.architecture": spec.controller, "seed": spec.seed}


def _comparison_choice(
    plan: ComparisonPlan, first: RunSpec
) -> Callable[[float], tuple[float, str]]:
    """For the first run: from its measured lateness, the dilation every sweep point's
    runs need (the largest), so that one dilation holds for the whole comparison."""

    def choose(lateness_s: float) -> tuple[float, str]:
        from qnemu.planning.plan import NetworkPlan
        from qnemu.runtime.pacing import dilation_for

        best: tuple[float, str] | None = None
        points: dict[tuple, RunSpec] = {}
        for spec in plan.runs:
            points.setdefault(spec.point, spec)
        for spec in points.values():
            network = NetworkPlan.build(load_scenario(plan.scenario_path, _run_overrides(spec)))
            value, reason = dilation_for(network, lateness_s)
            if len(points) > 1:
                where = ", ".join(f"{p}={v}" for p, v in spec.point)
                reason = f"{reason} (at {where}, the most demanding of {len(points)} points)"
            if best is None or value > best[0]:
                best = (value, reason)
        assert best is not None
        return best

    return choose


def _keep_calibration(plan: ComparisonPlan, folder: Path, shared: Dilation, emulation: Any) -> None:
    """The first run that calibrated fixes the comparison's dilation (and records it)."""
    if shared.source != "auto" or shared.value is not None:
        return
    emulator = (emulation.summary or {}).get("emulator") or emulation.emulator
    if not emulator.get("dilation") or emulator.get("calibrated_lateness_s") is None:
        return
    shared.value = float(emulator["dilation"])
    shared.reason = emulator.get("dilation_reason", "").removeprefix("auto: ")
    shared.calibrated_lateness_s = emulator["calibrated_lateness_s"]
    _write_plan(folder, plan, shared)


def _line(spec: RunSpec, row: dict[str, str]) -> str:
    flag = "  OVERLOADED (excluded)" if row["overloaded"] == "true" else ""
    fidelity = row["fidelity_mean"]
    fidelity = f"{float(fidelity):.3f}" if fidelity else "-"
    return (
        f"done {spec.label}: rate {float(row['rate_hz']):.1f} Hz, F {fidelity}, "
        f"violations {row['violations']}{flag}"
    )


def _report(
    plan: ComparisonPlan,
    store: RunStore,
    folder: Path,
    console: Console,
    show: bool,
    dilation: Dilation,
) -> None:
    """Statistics, table.md, summary.json and plots from every recorded row."""
    if not store.rows:
        return
    extra = [f"violations.{k}" for k in VIOLATION_KINDS]
    groups = group_rows(store.rows, plan.params, plan.controllers, all_metrics(plan.tenants, extra))
    title = f"{plan.base.name}: {', '.join(plan.controllers)}, {plan.repeats} repeats"
    (folder / "table.md").write_text(markdown_table(groups, plan.params, plan.tenants, title))
    write_summary(
        folder / "summary.json",
        {**plan.describe(), "dilation": dilation.to_dict()},
        store.rows,
        groups,
    )
    write_plots(
        folder,
        groups,
        store.rows,
        plan.params,
        plan.controllers,
        plan.tenants,
        plan.base.faults,
        plan.base.duration_s,
    )
    if show:
        console.print(rich_table(groups, plan.params, title))
