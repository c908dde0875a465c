"""``compare``: run every controller on the same scenario and seeds, over a sweep grid.

Each run is a fresh :class:`~qnemu.emulation.Emulation` (fresh actors) with its own
results folder under ``<comparison>/runs/``. As each run ends its row is appended to
``runs.csv`` and flushed, so an interrupted comparison keeps what it finished and
``resume=`` skips it. At the end (or at the interruption) the statistics, ``table.md``,
``summary.json`` and the plots are written from ``runs.csv``.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from qnemu.errors import ScenarioError
from qnemu.experiments import metrics as run_metrics
from qnemu.experiments.plan import Plan, RunSpec, build_plan, parse_controllers, parse_sweep
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

__all__ = ["DEFAULT_CONTROLLERS", "ComparisonInterrupted", "compare"]

DEFAULT_CONTROLLERS = ARCHITECTURES
PLAN_FILE = "comparison.json"


class ComparisonInterrupted(KeyboardInterrupt):
    """Ctrl-C during a comparison; ``folder`` keeps every finished run for ``--resume``."""

    def __init__(self, folder: Path, finished: int, total: int) -> None:
        super().__init__(f"interrupted after {finished} of {total} runs; "
                         f"continue with --resume {folder}")
        self.folder = folder
        self.finished = finished
        self.total = total


def compare(scenario_path: str | Path,
            controllers: str | Iterable[str] = DEFAULT_CONTROLLERS,
            repeats: int = 5, seed: int | None = None, sweep: Iterable[str] = (),
            results_dir: str | Path = "runs", mode: str = "ray",
            resume: str | Path | None = None, *, address: str | None = None,
            console: Console | None = None, quiet: bool = False,
            on_run_done: Callable[[RunSpec, dict[str, str]], None] | None = None) -> Path:
    """Run the comparison and return its folder (see the module docstring).

    ``controllers``: names or ``package.module:Class`` paths (a list or ``"a,b"``);
    ``sweep``: items ``PARAM=v1,v2``, their grid is run; repeat ``i`` uses seed
    ``seed + i`` (default: the scenario's seed); ``mode``: ``"ray"`` or ``"virtual"``;
    ``resume``: an earlier comparison folder whose recorded runs are skipped.
    ``on_run_done`` is called with each finished run and its row. Every input problem
    is raised at once as a :class:`~qnemu.errors.ScenarioError` before anything runs.
    """
    if mode not in ("ray", "virtual"):
        raise ScenarioError(f"mode: must be 'ray' or 'virtual', got {mode!r}")
    problems: list[str] = []
    names = _collect(problems, parse_controllers, controllers)
    sweeps = _collect(problems, parse_sweep, list(sweep))
    if problems:
        raise ScenarioError(problems)
    plan = build_plan(scenario_path, names, repeats, seed, sweeps)
    folder = _resume_folder(Path(resume), plan) if resume else _new_folder(Path(results_dir),
                                                                            plan)
    store = RunStore(folder / "runs.csv", _columns(plan), _key_columns(plan))
    done = store.done()
    todo = [spec for spec in plan.runs if store.key(spec.cells()) not in done]
    console = console or Console(soft_wrap=True)
    if not quiet and len(todo) < len(plan.runs):
        console.print(f"resuming: {len(plan.runs) - len(todo)} of {len(plan.runs)} runs "
                      "already recorded", markup=False)
    try:
        _run_all(plan, todo, store, folder, mode, address, console, quiet, on_run_done)
    except KeyboardInterrupt:
        _report(plan, store, folder, console, show=False)
        finished = len(plan.runs) - len([s for s in plan.runs
                                         if store.key(s.cells()) not in store.done()])
        raise ComparisonInterrupted(folder, finished, len(plan.runs)) from None
    _report(plan, store, folder, console, show=True)
    return folder


def _collect(problems: list[str], parse: Callable[[Any], Any], value: Any) -> Any:
    try:
        return parse(value)
    except ScenarioError as exc:
        problems.extend(exc.problems)
        return []


def _columns(plan: Plan) -> list[str]:
    return [*run_metrics.RUN_COLUMNS, *plan.params,
            *run_metrics.metric_columns(plan.tenants), *run_metrics.TAIL_COLUMNS]


def _key_columns(plan: Plan) -> list[str]:
    return ["controller", "repeat", "seed", *plan.params]


def _new_folder(root: Path, plan: Plan) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", plan.base.name) or "scenario"
    base = root / f"{time.strftime('%Y%m%d-%H%M%S')}-compare-{safe}"
    folder, n = base, 1
    while folder.exists():
        n += 1
        folder = base.with_name(f"{base.name}-{n}")
    folder.mkdir(parents=True)
    (folder / PLAN_FILE).write_text(json.dumps(plan.describe(), indent=2))
    return folder


def _resume_folder(folder: Path, plan: Plan) -> Path:
    """An earlier comparison of the same scenario and seeds (else a ScenarioError)."""
    recorded_path = folder / PLAN_FILE
    if not recorded_path.is_file():
        raise ScenarioError(f"--resume {folder}: not a comparison folder (no {PLAN_FILE})")
    recorded = json.loads(recorded_path.read_text())
    problems = []
    if recorded.get("scenario") != plan.base.to_dict():
        problems.append(f"--resume {folder}: recorded for a different scenario than "
                        f"{plan.scenario_path} (the resolved scenarios differ)")
    if recorded.get("seed") != plan.seed:
        problems.append(f"--resume {folder}: recorded with seed {recorded.get('seed')}, "
                        f"got {plan.seed}")
    if problems:
        raise ScenarioError(problems)
    return folder


def _run_all(plan: Plan, todo: Sequence[RunSpec], store: RunStore, folder: Path, mode: str,
             address: str | None, console: Console, quiet: bool,
             on_run_done: Callable[[RunSpec, dict[str, str]], None] | None) -> None:
    bar = Progress(TextColumn("comparing"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("{task.description}"), TimeElapsedColumn(), console=console,
                   disable=quiet or not console.is_terminal)
    task = bar.add_task("", total=len(todo))
    with ExitStack() as stack:
        if mode == "ray" and todo:
            stack.enter_context(_shared_ray(address))
        stack.enter_context(bar)
        for number, spec in enumerate(todo):
            bar.update(task, description=spec.label)

            def progress(p: Any, number: int = number) -> None:
                bar.update(task, completed=number + min(1.0, p.emulated_s / p.duration_s))

            row = _one_run(plan, spec, folder, mode, address, progress)
            text = store.append({**row, "run": len(store.rows)})
            bar.update(task, completed=number + 1)
            if not quiet:
                console.print(_line(spec, text), markup=False, highlight=False)
            if on_run_done is not None:
                on_run_done(spec, text)


class _shared_ray:
    """Start embedded Ray once for all runs (each Emulation then reuses it)."""

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


def _one_run(plan: Plan, spec: RunSpec, folder: Path, mode: str, address: str | None,
             progress: Callable[[Any], None]) -> dict[str, Any]:
    from qnemu.emulation import Emulation

    overrides = {**spec.overrides, "control.architecture": spec.controller, "seed": spec.seed}
    scenario = load_scenario(plan.scenario_path, overrides)
    emulation = Emulation(scenario, address=address, results_dir=folder / "runs" / spec.slug,
                          mode=mode, on_progress=progress)
    started = time.perf_counter()
    summary = emulation.run()
    row = run_metrics.run_metrics(summary, scenario)
    row.update(spec.cells())
    row["wall_s"] = time.perf_counter() - started
    row["results"] = str(Path(summary["results"]).relative_to(folder))
    return row


def _line(spec: RunSpec, row: dict[str, str]) -> str:
    flag = "  OVERLOADED (excluded)" if row["overloaded"] == "true" else ""
    fidelity = row["fidelity_mean"]
    fidelity = f"{float(fidelity):.3f}" if fidelity else "-"
    return (f"done {spec.label}: rate {float(row['rate_hz']):.1f} Hz, F {fidelity}, "
            f"violations {row['violations']}{flag}")


def _report(plan: Plan, store: RunStore, folder: Path, console: Console, show: bool) -> None:
    """Statistics, table.md, summary.json and plots from every recorded row."""
    if not store.rows:
        return
    extra = [f"violations.{k}" for k in VIOLATION_KINDS]
    groups = group_rows(store.rows, plan.params, plan.controllers,
                        all_metrics(plan.tenants, extra))
    title = f"{plan.base.name}: {', '.join(plan.controllers)}, {plan.repeats} repeats"
    (folder / "table.md").write_text(markdown_table(groups, plan.params, plan.tenants, title))
    write_summary(folder / "summary.json", plan.describe(), store.rows, groups)
    write_plots(folder, groups, store.rows, plan.params, plan.controllers, plan.tenants)
    if show:
        console.print(rich_table(groups, plan.params, title))
