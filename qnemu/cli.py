"""The ``qnemu`` command: parses arguments and calls one library function per command.

Start-up stays cheap (well under half a second before Ray starts): this module and the
command modules it registers import typer, rich and qnemu's error types only; each
command imports what it needs when it runs (``tests/test_cli_ux.py`` checks that
importing this module pulls in no numpy, scipy, Ray or prometheus_client).
"""

from __future__ import annotations

import os
import signal
import sys
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from qnemu.cli_errors import HELP, fail, say_error, warn
from qnemu.errors import QnemuError, one_line
from qnemu.experiments.cli import compare as compare_command
from qnemu.service.cli import request_app
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

if TYPE_CHECKING:
    from qnemu.cli_view import LiveView


class _App(typer.Typer):
    """The typer app, whose usage errors (unknown option, ``--dilation abc``) are one
    ``error:`` line and exit status 2, like every other input error, and whose help
    shows flags as flags (no ``<bool>`` after ``--virtual``)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Run the command line; returns the exit status (``sys.exit`` it)."""
        kwargs.setdefault("standalone_mode", False)
        command = typer.main.get_command(self)
        _flags_as_flags(command)
        try:
            return command(*args, **kwargs)
        except typer.TyperException as exc:  # typer's click: usage errors, bad values
            ctx = getattr(exc, "ctx", None)
            if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
                sys.stdout.write(ctx.get_help() + "\n")  # bare ``qnemu``: the help, as before
                return 2
            say_error(_usage_problem(exc))
            return 2
        except typer.Abort:
            sys.stderr.write("aborted\n")
            return 1


def _flags_as_flags(command: Any, parent: Any = None) -> None:
    """Show every flag (``--virtual``, ``--help``) without a value placeholder, and a
    required argument as its bare name in the usage line (``SCENARIO``, not
    ``{SCENARIO}``), in ``command`` and every command under it."""
    ctx = typer.Context(command, parent=parent, help_option_names=HELP)
    help_option = command.get_help_option(ctx)
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if getattr(param, "is_flag", False) and param.metavar is None:
            param.metavar = ""
        if param.required and param.nargs == 1 and hasattr(param, "_usage_display_name"):
            param._usage_display_name = lambda name=param.display_name_raw: name
    for sub in getattr(command, "commands", {}).values():
        _flags_as_flags(sub, ctx)


def _usage_problem(exc: Exception) -> str:
    """A usage error as one line: the command, then typer's reason."""
    ctx = getattr(exc, "ctx", None)
    where = f"{ctx.command_path}: " if ctx is not None and ctx.command_path else ""
    format_message = getattr(exc, "format_message", None)
    reason = format_message() if format_message is not None else str(exc)
    return one_line(where + reason)


app = _App(
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": HELP},
    help="qnemu: a quantum network emulator. Try: qnemu run two-node --virtual",
)
console = Console(soft_wrap=True)  # never wrap a path or a reason mid-line
examples_app = typer.Typer(
    add_completion=False,
    invoke_without_command=True,
    help="The bundled example scenarios: list them, or print one to copy and edit.",
)
_SCENARIO_HELP = "Scenario YAML file, or a bundled example's name (see qnemu examples)."


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"qnemu {version('qnemu')}")
        raise typer.Exit(0)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """qnemu: a quantum network emulator. Try: qnemu run two-node --virtual"""


def _scenario_path(text: str) -> Path:
    """The scenario file a command's argument names: a file or a bundled example."""
    from qnemu.examples import find_scenario

    return find_scenario(text)


_RUN_HELP = (
    "Run an emulation and write its results folder.\n\n"
    "Exit status: 0 completed, 1 failed while running (one line; traceback in the results "
    "folder's error.txt), 2 bad input or an environment that cannot run it, 130 Ctrl-C, "
    "143 SIGTERM."
)


@app.command(help=_RUN_HELP)
def run(
    scenario: Annotated[
        str | None,
        typer.Argument(
            metavar="SCENARIO",
            help="Scenario YAML file, or a bundled example's name (default: the bundled "
            "default, a 4-node chain; see qnemu examples).",
        ),
    ] = None,
    topo: Annotated[
        str | None,
        typer.Option(
            "--topo",
            metavar="KIND,SIZE",
            help="Build the scenario here instead of reading a file: chain,N | ring,N | "
            "star,N | grid,ROWS,COLS (nodes n0, n1, ...; star: N leaves around n0; "
            "10 km hops).",
        ),
    ] = None,
    hardware: Annotated[
        str | None,
        typer.Option(
            "--hardware", metavar="PROFILE", help="With --topo: the nodes' hardware profile."
        ),
    ] = None,
    tenant: Annotated[
        list[str] | None,
        typer.Option(
            "--tenant",
            metavar="APP:SRC-DST[@RATE]",
            help="With --topo: a tenant, e.g. qkd:n0-n4@20 (rate in Hz, default 10; "
            "f_min 0.5; repeatable).",
        ),
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save", metavar="FILE", help="With --topo: also write the scenario to FILE."
        ),
    ] = None,
    results: Annotated[
        Path, typer.Option(metavar="DIR", help="Folder for the run's results.")
    ] = Path("runs"),
    address: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="Ray cluster to join (auto, HOST:PORT or ray://...); default: embedded local Ray.",
        ),
    ] = None,
    dilation: Annotated[
        float | None,
        typer.Option(
            metavar="D", help="Wall seconds per emulated second (default: the scenario's, auto)."
        ),
    ] = None,
    virtual: Annotated[
        bool,
        typer.Option(
            "--virtual", help="Run in virtual time in this process (no Ray, no wall clock)."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No live view (tenants, violations, lateness).")
    ] = False,
    controller: Annotated[
        str | None,
        typer.Option(
            metavar="NAME",
            help="Control plane: distributed, centralized, hierarchical, package.module:Class "
            "or file.py:Class (default: the scenario's control.architecture).",
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PARAM=VALUE",
            help="Override a scenario field, e.g. --set hardware.trapped_ion.t2_s=0.1 "
            "(repeatable; one that does nothing here is a warning).",
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
    api_port: Annotated[
        int | None,
        typer.Option(help="Serve the northbound HTTP API on this port (0: a free one)."),
    ] = None,
    api_host: Annotated[str, typer.Option(help="Address the API listens on.")] = "127.0.0.1",
    api_token: Annotated[
        str | None,
        typer.Option(help="The API's bearer token (default: a random one, printed once)."),
    ] = None,
    live_console: Annotated[
        bool,
        typer.Option(
            "--console",
            help="Open a live console (Mininet style: nodes, links, link A B down, node X "
            "crash, ...; help lists them) while emulated time flows, in virtual time paced "
            "by the wall clock (--dilation, default 50).",
        ),
    ] = False,
    console_ray: Annotated[
        bool,
        typer.Option(
            "--ray",
            help="With --console: drive a real-time Ray run instead (faults, views and "
            "pause reach every actor; a node crash with one node per actor kills its process).",
        ),
    ] = False,
    replay: Annotated[
        Path | None,
        typer.Option(
            "--replay",
            metavar="DIR",
            help="Re-run a recorded run (its results folder) with the same faults and "
            "console actions at the same emulated times.",
        ),
    ] = None,
) -> None:
    """Run an emulation and write its results folder.

    Exit status: 0 completed, 1 failed while running (one line; traceback in the results
    folder's error.txt), 2 bad input or an environment that cannot run it, 130 Ctrl-C,
    143 SIGTERM.
    """
    from qnemu.emulation import Emulation
    from qnemu.results import check_results_root
    from qnemu.scenario import load_scenario, parse_overrides

    try:
        source = _run_source(scenario, topo, hardware, tenant or [])
        settings = parse_overrides(set_ or [])
        overrides = dict(settings)
        if dilation is not None:  # checked with the scenario: finite, duration x dilation bound
            overrides["dilation"] = dilation
        if controller is not None:
            overrides["control.architecture"] = controller
        loaded = load_scenario(source, overrides=overrides)
        if replay is not None or live_console:
            from qnemu.console import replay_scenario, with_recovery

            if replay is not None:
                loaded = replay_scenario(str(replay))
            loaded = with_recovery(loaded)
            if console_ray and virtual:
                raise QnemuError("--ray: a console on Ray cannot also be --virtual")
            # the console paces virtual time unless it drives a Ray run (--ray)
            virtual = virtual or (live_console and not console_ray)
        if save is not None:
            _save(source, overrides, save, _topo_command(topo, hardware, tenant or []))
        _warn_unused(source, overrides, settings, loaded)
        check_results_root(results)  # before Ray (or telemetry) starts
        emulation = Emulation(
            loaded,
            address=address,
            results_dir=results,
            dilation=dilation,
            mode="virtual" if virtual else "ray",
            say=lambda text: console.print(text, markup=False),
            warn=warn,
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
        api = None
        if api_port is not None:
            from qnemu.service.cli import start_api

            api = start_api(emulation, api_host, api_port, api_token)
    except QnemuError as exc:
        fail(exc)
    emulation.telemetry = sink
    if api is not None:
        shown = f", token {api.token} (also in the results folder)" if api.generated else ""
        console.print(f"api: {api.url}{shown}", markup=False, highlight=False)
    if sink is not None:
        console.print(f"metrics: {sink.url}", markup=False, highlight=False)
    console.print(
        f"qnemu: {loaded.name}: {len(loaded.nodes)} nodes, {len(loaded.links)} links, "
        f"{len(loaded.tenants)} tenants, {loaded.duration_s:g} s emulated",
        markup=False,
    )
    from qnemu.cli_view import LiveView, print_summary

    enabled = not quiet and console.is_terminal and not live_console
    view = LiveView(console, loaded.duration_s, enabled=enabled)
    emulation.on_progress = view.update if view.enabled else None
    if live_console:
        from qnemu.console import ConsoleRun

        summary = _run_to_the_end(ConsoleRun(emulation), view, debug)
    else:
        summary = _run_to_the_end(emulation, view, debug)
    print_summary(console, summary)
    console.print(f"results: {summary['results']}", markup=False, highlight=False)


def _run_source(
    scenario: str | None, topo: str | None, hardware: str | None, tenants: list[str]
) -> Any:
    """What ``run`` loads: a file, a bundled example, or the scenario ``--topo`` builds."""
    from qnemu.errors import ScenarioError
    from qnemu.scenario import DEFAULT_SCENARIO_PATH
    from qnemu.scenario.oneline import scenario_from_flags

    if topo is None:
        unused = [
            flag for flag, given in (("--hardware", hardware), ("--tenant", tenants)) if given
        ]
        if unused:
            raise ScenarioError(
                f"{', '.join(unused)}: only with --topo (a scenario file has its own)"
            )
        return DEFAULT_SCENARIO_PATH if scenario is None else _scenario_path(scenario)
    if scenario is not None:
        raise ScenarioError(f"{scenario}: give a scenario file or --topo, not both")
    return scenario_from_flags(topo, hardware, tenants)


def _topo_command(topo: str | None, hardware: str | None, tenants: list[str]) -> str:
    """The flags that built a one-line scenario, to say so at the top of its file."""
    words = ["qnemu run", f"--topo {topo}"]
    words += [f"--hardware {hardware}"] if hardware else []
    return " ".join(words + [f"--tenant {t}" for t in tenants])


def _save(source: Any, overrides: dict[str, Any], target: Path, command: str) -> None:
    """Write the scenario ``--topo`` built (with ``--set``, ``--controller`` and
    ``--dilation`` applied) to ``target``, to edit and run again."""
    import yaml

    from qnemu.errors import ScenarioError
    from qnemu.scenario import apply_overrides

    if not isinstance(source, dict):
        raise ScenarioError(f"--save {target}: only with --topo (the scenario is a file already)")
    header = f"# {source['name']}: built by {command}.\n"
    text = yaml.safe_dump(apply_overrides(source, overrides), sort_keys=False)
    try:
        target.write_text(header + text, encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"--save {target}: cannot write: {exc.strerror}") from None
    console.print(f"scenario: {target}", markup=False, highlight=False)


def _warn_unused(
    source: Any, overrides: dict[str, Any], settings: dict[str, Any], loaded: Any
) -> None:
    """One warning per ``--set`` that does nothing in this run (the rule of
    :mod:`qnemu.scenario.unused`, which ``compare --sweep`` refuses by)."""
    if not settings:
        return
    from qnemu.scenario import load_scenario
    from qnemu.scenario.unused import unused_overrides

    def load(rest: Any) -> Any:
        return load_scenario(source, overrides=rest)

    for line in unused_overrides(load, overrides, settings, loaded):
        warn(line)


app.command(name="compare")(compare_command)


@app.command()
def validate(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO", help=_SCENARIO_HELP)],
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
        resolved = load_scenario(_scenario_path(scenario))
        user = resolved.control.architecture if _is_user_controller(resolved) else None
        plan = NetworkPlan.build(
            resolved if load_controllers or user is None else _with_builtin_controller(resolved)
        )
    except QnemuError as exc:
        fail(exc)
    console.print(describe(resolved), markup=False, highlight=False)
    console.print(_describe_plan(plan), markup=False, highlight=False)
    if user is not None and not load_controllers:
        console.print(
            f"controller {user}: not loaded (its code was not run; pass "
            f"--load-controllers to import and check it)",
            markup=False,
            highlight=False,
        )


@app.command()
def topo(
    scenario: Annotated[str, typer.Argument(metavar="SCENARIO", help=_SCENARIO_HELP)],
    out: Annotated[Path, typer.Option(metavar="FILE", help="PNG file to write.")] = Path(
        "topology.png"
    ),
    lengths: Annotated[
        bool, typer.Option("--lengths", help="Label every link with its length in km.")
    ] = False,
) -> None:
    """Draw the scenario's network, its tenants' paths and its controllers to a PNG."""
    from qnemu.drawing import draw_topology
    from qnemu.scenario import load_scenario

    try:
        written = draw_topology(load_scenario(_scenario_path(scenario)), out, lengths=lengths)
    except QnemuError as exc:
        fail(exc)
    console.print(f"topology: {written}", markup=False, highlight=False)


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


@examples_app.callback()
def examples(ctx: typer.Context) -> None:
    """List the bundled example scenarios, each with its one-line description."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from qnemu.examples import description, example_path, names

    table = Table(box=None, padding=(0, 2), show_header=False)
    table.add_column("name", no_wrap=True, style="bold")
    table.add_column("what it shows")
    for name in names():
        path = example_path(name)
        table.add_row(name, description(path) if path is not None else "")
    console.print(table)
    console.print(
        "Run one with: qnemu run NAME; print it to copy and edit: qnemu examples show NAME",
        markup=False,
        highlight=False,
    )


@examples_app.command("show")
def examples_show(
    name: Annotated[str, typer.Argument(metavar="NAME", help="A bundled example's name.")],
) -> None:
    """Print a bundled example's YAML (redirect it to a file to edit it)."""
    from qnemu.examples import example_path, names

    path = example_path(name)
    if path is None:
        fail(f"{name}: no bundled example by that name (bundled: {', '.join(names())})")
    sys.stdout.write(path.read_text(encoding="utf-8"))


app.add_typer(examples_app, name="examples")
app.add_typer(dashboards_app, name="dashboards")
app.add_typer(request_app, name="request")


def dilation_reason(option: float | None, scenario: Any) -> str:
    """Why a run uses a dilation it did not choose: ``--dilation`` or the scenario's."""
    if option is not None:
        return "set by --dilation"
    return f"set by the scenario's dilation: {scenario.dilation:g}" if scenario.dilation else ""


def _run_to_the_end(emulation: Any, view: LiveView, debug: bool) -> dict[str, Any]:
    """Run; turn how it ended into one line and an exit status (see ``run``)."""
    from qnemu.emulation import Terminated
    from qnemu.runtime.failure import RunFailed

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        with view:
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
        fail(exc)
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
    if folder is None:
        fail(line, status=1)
    say_error(line)
    console.print(
        f"results: {folder.path} (status failed; traceback in error.txt)",
        markup=False,
        highlight=False,
    )
    raise typer.Exit(1)


def main() -> None:
    """Entry point of ``qnemu`` and ``python -m qnemu``."""
    code = app()
    if code in (130, 143) and "ray" in sys.modules:
        # Stopped (Ctrl-C, SIGTERM) with Ray in this process: every file is written and
        # closed by now, but Ray's own teardown at interpreter exit crashed with SIGSEGV
        # in about 1 of 5 runs stopped during its start-up on a loaded machine, turning
        # exit 130 into -11; its processes are the reaper's once we are gone.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    main()
