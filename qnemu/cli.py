"""The ``qnemu`` command: parses arguments and calls one library function per command."""

from __future__ import annotations

import signal
import sys
import traceback
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from qnemu.errors import QnemuError, one_line
from qnemu.experiments.cli import compare as compare_command
from qnemu.telemetry.cli import (
    DEFAULT_HOST,
    DEFAULT_LINGER_S,
    DEFAULT_PORT,
    MetricsHost,
    MetricsLinger,
    MetricsPort,
    NoMetrics,
    dashboards_app,
    metrics_sink,
)


class _App(typer.Typer):
    """The typer app, whose usage errors (unknown option, ``--dilation abc``) are one
    ``error:`` line and exit status 2, like every other input error."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line; returns the exit status (``sys.exit`` it)."""
        kwargs.setdefault("standalone_mode", False)
        try:
            return super().__call__(*args, **kwargs)
        except typer.TyperException as exc:  # typer's click: usage errors, bad values
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
                sys.stdout.write(ctx.get_help() + "\n")  # bare ``qnemu``: the help, as before
                return 2
            sys.stderr.write(f"error: {_usage_problem(exc)}\n")
            return 2
        except typer.Abort:
            sys.stderr.write("aborted\n")
            return 1


def _usage_problem(exc: Exception) -> str:
    """A usage error as one line: the command, then typer's reason."""
    ctx = getattr(exc, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None and ctx.command_path else ""
    format_message = getattr(exc, "format_message", None)
    reason = format_message() if format_message is not None else str(exc)
    return one_line(where + reason)


app = _App(add_completion=False, no_args_is_help=True, help="qnemu: a quantum network emulator.")
console = Console(soft_wrap=True)  # never wrap a path or a reason mid-line
app.command(name="compare")(compare_command)
app.add_typer(dashboards_app, name="dashboards")


def _fail(exc: QnemuError) -> None:
    problems = getattr(exc, "problems", None) or [str(exc)]
    for problem in problems:  # plain writes: one problem is one line, never wrapped
        sys.stderr.write(f"error: {one_line(problem)}\n")
    raise typer.Exit(2)


@app.command()
def validate(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    load_controllers: Annotated[
        bool,
        typer.Option(
            "--load-controllers",
            help="Import the scenario's user controller (package.module:Class or file.py:Class) "
            "to check it. This RUNS that code; without it only its name is checked.",
        ),
    ] = False,
) -> None:
    """Check a scenario and print the resolved network, or every problem (exit 2)."""
    from qnemu.planning.plan import NetworkPlan
    from qnemu.scenario import describe, load_scenario

    try:
        resolved = load_scenario(scenario)
        user = resolved.control.architecture if _is_user_controller(resolved) else None
        plan = NetworkPlan.build(
            resolved if load_controllers or user is None else _with_builtin_controller(resolved)
        )
    except QnemuError as exc:
        _fail(exc)
    console.print(describe(resolved), markup=False, highlight=False)
    console.print(_describe_plan(plan), markup=False, highlight=False)
    if user is not None and not load_controllers:
        console.print(
            f"controller {user}: not loaded (its code was not run; pass "
            f"--load-controllers to import and check it)",
            markup=False,
            highlight=False,
        )


def _describe_plan(plan: Any) -> str:
    """The controller's plan: memory pairs per link, and per tenant its admission, path
    and the rate and fidelity the controller predicts (its digital twin's, when it ran)."""
    lines = ["", "Plan (what the controller decided and predicts):"]
    for lp in plan.links.values():
        lines.append(
            f"  link {lp.a}-{lp.b}: {lp.modes} memory pairs attempting "
            f"independently, cutoff {lp.cutoff_s * 1e3:.3g} ms"
        )
    from qnemu.records import Admission, Qnum, TwinFailed

    admission = {d.tenant: d for d in plan.decisions if isinstance(d, Admission)}
    predicted = {d.tenant: d for d in plan.decisions if isinstance(d, Qnum)}
    for tenant in plan.scenario.tenants:
        decision = admission.get(tenant.name)
        if decision is not None and not decision.admitted:
            lines.append(f"  {tenant.name}: rejected: {decision.reason}")
            continue
        got = predicted.get(tenant.name)
        if got is None:
            continue
        model = "digital twin" if got.model == "twin" else "closed form"
        lines.append(
            f"  {tenant.name}: {'-'.join(got.path)}, {got.rounds} purification "
            f"rounds, predicted {got.predicted_rate_hz:.4g} Hz at F "
            f"{got.predicted_fidelity:.4f} ({model})"
        )
    for failed in (d for d in plan.decisions if isinstance(d, TwinFailed)):
        lines.append(f"  the digital twin failed ({failed.error}): closed forms stand")
    return "\n".join(lines)


def _is_user_controller(scenario: Any) -> bool:
    from qnemu.control.registry import BUILT_IN

    return scenario.control.architecture not in BUILT_IN


def _with_builtin_controller(scenario: Any) -> Any:
    """``scenario`` planned under the distributed control plane, so that validating it
    imports no user code (routing, admission and memory checks are the same)."""
    import dataclasses

    control = dataclasses.replace(scenario.control, architecture="distributed")
    return dataclasses.replace(scenario, control=control)


@app.command()
def topo(
    scenario: Annotated[Path, typer.Argument(help="Scenario YAML file.")],
    out: Annotated[Path, typer.Option(help="PNG file to write.")] = Path("topology.png"),
) -> None:
    """Draw the scenario's network, its tenants' paths and its controllers to a PNG."""
    from qnemu.drawing import draw_topology
    from qnemu.scenario import load_scenario

    try:
        written = draw_topology(load_scenario(scenario), out)
    except QnemuError as exc:
        _fail(exc)
    console.print(f"topology: {written}", markup=False, highlight=False)


@app.command()
def run(
    scenario: Annotated[
        Path | None, typer.Argument(help="Scenario YAML file (default: the bundled 5-node chain).")
    ] = None,
    results: Annotated[Path, typer.Option(help="Folder for the run's results.")] = Path("runs"),
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster to join (auto, HOST:PORT or ray://...); default: embedded local Ray."
        ),
    ] = None,
    dilation: Annotated[
        float | None,
        typer.Option(help="Wall seconds per emulated second (default: the scenario's, auto)."),
    ] = None,
    virtual: Annotated[
        bool,
        typer.Option(
            "--virtual", help="Run in virtual time in this process (no Ray, no wall clock)."
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
    controller: Annotated[
        str | None,
        typer.Option(
            help="Control plane: distributed, centralized, hierarchical or package.module:Class "
            "(default: the scenario's control.architecture)."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a scenario field, e.g. --set hardware.trapped_ion.t2_s=0.1 "
            "(repeatable).",
        ),
    ] = None,
    metrics_port: MetricsPort = DEFAULT_PORT,
    metrics_host: MetricsHost = DEFAULT_HOST,
    metrics_linger: MetricsLinger = DEFAULT_LINGER_S,
    no_metrics: NoMetrics = False,
    debug: Annotated[
        bool,
        typer.Option(
            "--debug", help="On a failure, print the full traceback too (always in error.txt)."
        ),
    ] = False,
) -> None:
    """Run an emulation and write its results folder.

    Exit status: 0 completed, 1 failed while running (one line; traceback in the results
    folder's error.txt), 2 bad input or an environment that cannot run it, 130 Ctrl-C,
    143 SIGTERM.
    """
    from qnemu.emulation import Emulation
    from qnemu.results import check_results_root
    from qnemu.scenario import DEFAULT_SCENARIO_PATH, load_scenario, parse_overrides

    try:
        overrides = parse_overrides(set_ or [])
        if dilation is not None:  # checked with the scenario: finite, duration x dilation bound
            overrides["dilation"] = dilation
        if controller is not None:
            overrides["control.architecture"] = controller
        loaded = load_scenario(scenario or DEFAULT_SCENARIO_PATH, overrides=overrides)
        check_results_root(results)  # before Ray (or telemetry) starts
        emulation = Emulation(
            loaded,
            address=address,
            results_dir=results,
            dilation=dilation,
            mode="virtual" if virtual else "ray",
            say=lambda text: console.print(text, markup=False),
            warn=_warn,
            dilation_reason=dilation_reason(dilation, loaded),
        )
        sink = metrics_sink(
            no_metrics,
            metrics_host,
            metrics_port,
            metrics_linger,
            virtual,
            address=address,
            say=lambda text: console.print(text, markup=False),
        )
    except QnemuError as exc:
        _fail(exc)
    emulation.telemetry = sink
    if sink is not None:
        console.print(f"metrics: {sink.url}", markup=False, highlight=False)
    console.print(
        f"qnemu: {loaded.name}: {len(loaded.nodes)} nodes, {len(loaded.links)} links, "
        f"{len(loaded.tenants)} tenants, {loaded.duration_s:g} s emulated",
        markup=False,
    )
    bar = Progress(
        TextColumn("emulating"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        disable=quiet or not console.is_terminal,
    )
    task = bar.add_task("", total=loaded.duration_s)

    def on_progress(progress: Any) -> None:
        bar.update(
            task,
            completed=progress.emulated_s,
            description=f"{progress.emulated_s:.3f}/{progress.duration_s:g} s, "
            f"{progress.delivered} pairs delivered",
        )

    emulation.on_progress = on_progress
    summary = _run_to_the_end(emulation, bar, debug)
    print_summary(summary)
    console.print(f"results: {summary['results']}", markup=False, highlight=False)


def dilation_reason(option: float | None, scenario: Any) -> str:
    """Why a run uses a dilation it did not choose: ``--dilation`` or the scenario's."""
    if option is not None:
        return "set by --dilation"
    return f"set by the scenario's dilation: {scenario.dilation:g}" if scenario.dilation else ""


def _warn(text: str) -> None:
    """A live warning (the run goes on): one line on stderr."""
    sys.stderr.write(f"warning: {one_line(text)}\n")
    sys.stderr.flush()


def _run_to_the_end(emulation: Any, bar: Progress, debug: bool) -> dict[str, Any]:
    """Run; turn how it ended into one line and an exit status (see ``run``)."""
    from qnemu.emulation import Terminated
    from qnemu.runtime.failure import RunFailed

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with bar:
            return emulation.run()
    except KeyboardInterrupt as exc:
        if emulation.folder is None:
            sys.stderr.write("interrupted before the run started; nothing was written\n")
        else:
            sys.stderr.write(f"interrupted; results kept in {emulation.folder.path}\n")
        raise typer.Exit(143 if isinstance(exc, Terminated) else 130) from None
    except RunFailed as exc:
        _run_failed(str(exc), exc.details, emulation.folder, debug)
    except QnemuError as exc:
        _fail(exc)
    except Exception as exc:  # a bug: still one line, the traceback kept in error.txt
        text = " ".join(str(exc).split())
        _run_failed(
            f"internal error: {type(exc).__name__}: {text}",
            "".join(traceback.format_exception(exc)),
            emulation.folder,
            debug,
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    raise AssertionError("unreachable")


def _terminate(signum: int, frame: Any) -> None:
    """SIGTERM handler: stop the run the way Ctrl-C does."""
    from qnemu.emulation import Terminated

    raise Terminated(signal.Signals(signum).name)


def _run_failed(line: str, details: str, folder: Any, debug: bool) -> None:
    """A run that failed while it ran: one line (and where its records are), exit 1."""
    if debug and details:
        sys.stderr.write(details if details.endswith("\n") else details + "\n")
    sys.stderr.write(f"error: {line}\n")
    if folder is not None:
        console.print(
            f"results: {folder.path} (status failed; traceback in error.txt)",
            markup=False,
            highlight=False,
        )
    raise typer.Exit(1)


def print_summary(summary: dict[str, Any]) -> None:
    """The end-of-run tables: per tenant, violations, emulator health."""
    table = Table(title=f"{summary['scenario']} ({summary['controller']})")
    table.add_column("tenant", justify="right", no_wrap=True)
    for column in ("pairs", "rate (Hz)", "F mean", "F min", "latency (ms)", "served"):
        table.add_column(column, justify="right")
    for name, row in summary["tenants"].items():
        # requests served / requests that arrived (the tenant's demand)
        served = f"{row['served']}/{row['requested']}" if row.get("requested") else "-"
        table.add_row(
            name,
            str(row["pairs_delivered"]),
            f"{row['rate_hz']:.1f}",
            _fmt(row["fidelity_mean"], "{:.4f}"),
            _fmt(row["fidelity_min"], "{:.4f}"),
            _fmt(row["latency_mean_s"], "{:.3f}", 1e3),
            served,
        )
    console.print(table)
    violations = ", ".join(f"{k} {v}" for k, v in summary["violations"].items() if v) or "none"
    console.print(f"violations: {violations}", markup=False)
    emulator = summary["emulator"]
    if emulator.get("mode") == "ray":
        console.print(
            f"emulator: {emulator['actors']} actors on {emulator.get('ray_nodes_used', 1)} Ray "
            f"node(s) ({emulator.get('placement', 'pack')}), "
            f"dilation {emulator['dilation']:g}, "
            f"lateness p50 {_fmt(emulator['lateness_p50_s'], '{:.3f}', 1e3)} ms "
            f"p99 {_fmt(emulator['lateness_p99_s'], '{:.3f}', 1e3)} ms (wall), "
            f"overloaded: {_overload(emulator)}",
            markup=False,
        )
    elif emulator:
        console.print(f"emulator: virtual time, {emulator['wall_s']:.2f} s wall", markup=False)


def _overload(emulator: dict[str, Any]) -> str:
    if not emulator["overloaded"]:
        return "no"
    seen = emulator.get("overload_seen_at_s")
    at = "" if seen is None else f" (first seen at {seen:.3g} s emulated)"
    return f"YES - numbers not trusted{at}"


def _fmt(value: float | None, pattern: str, scale: float = 1.0) -> str:
    return "-" if value is None else pattern.format(value * scale)


def main() -> None:
    """Entry point for ``python -m qnemu`` (the console script calls ``app`` alike)."""
    sys.exit(app())


if __name__ == "__main__":
    main()
