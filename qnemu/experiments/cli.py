"""``qnemu compare``: parses arguments and calls :func:`qnemu.experiments.compare`.

Registered on the main app as ``app.command()(compare)``; ``python -m
qnemu.experiments.cli`` runs it on its own.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from qnemu.cli_errors import HELP, fail, warn
from qnemu.errors import QnemuError

__all__ = ["compare", "main"]

console = Console(soft_wrap=True)  # never wrap a path or a reason mid-line


def compare(
    scenario: Annotated[
        str,
        typer.Argument(metavar="SCENARIO", help="Scenario YAML file, or a bundled example's name."),
    ],
    controllers: Annotated[
        str,
        typer.Option(
            help="Comma-separated: centralized, distributed, hierarchical, or package.module:Class."
        ),
    ] = "centralized,distributed,hierarchical",
    repeats: Annotated[int, typer.Option(help="Runs per controller and sweep point.")] = 5,
    seed: Annotated[
        int | None,
        typer.Option(help="Seed of repeat 0; repeat i uses seed+i (default: the scenario's)."),
    ] = None,
    sweep: Annotated[
        list[str] | None,
        typer.Option(
            metavar="PARAM=V1,V2",
            help="PARAM=v1,v2,... (repeatable; the grid of all values is run), e.g. "
            "hardware.trapped_ion.t2_s=0.01,0.1,1.",
        ),
    ] = None,
    results: Annotated[
        Path, typer.Option(help="Folder under which the comparison folder is made.")
    ] = Path("runs"),
    resume: Annotated[
        Path | None,
        typer.Option(help="An interrupted comparison folder: skip the runs it recorded."),
    ] = None,
    address: Annotated[
        str | None,
        typer.Option(
            help="Ray cluster to join (auto, HOST:PORT or ray://...); default: embedded Ray."
        ),
    ] = None,
    dilation: Annotated[
        float | None,
        typer.Option(
            help="Wall seconds per emulated second, for every run (default: the scenario's; "
            "auto: calibrated once, at the first run)."
        ),
    ] = None,
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="PARAM=VALUE",
            help="Override a scenario field for every run, e.g. --set "
            "hardware.trapped_ion.t2_s=0.1 (repeatable).",
        ),
    ] = None,
    virtual: Annotated[
        bool,
        typer.Option(
            "--virtual", help="Run in virtual time in this process (no Ray, no wall clock)."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("--quiet", help="No progress bar and no per-run lines.")
    ] = False,
    metrics_port: Annotated[
        int | None,
        typer.Option(
            "--metrics-port",
            help="Serve every run's metrics on this port as they go, labeled "
            "by run and controller (0: pick a free one). Default: none.",
        ),
    ] = None,
    metrics_host: Annotated[
        str,
        typer.Option(
            "--metrics-host", help="Address serving /metrics (loopback unless you say otherwise)."
        ),
    ] = "127.0.0.1",
    metrics_linger: Annotated[
        float,
        typer.Option(
            "--metrics-linger", help="Wall seconds /metrics keeps serving after the last run."
        ),
    ] = 5.0,
) -> None:
    """Compare control planes on one scenario: repeats, sweeps, 95% CIs, tables, plots."""
    from qnemu.examples import find_scenario
    from qnemu.experiments.runner import ComparisonInterrupted, MetricsOptions
    from qnemu.experiments.runner import compare as run_comparison
    from qnemu.scenario import parse_overrides

    try:
        overrides = parse_overrides(set_ or [])  # as ``qnemu run --set`` reads them
        source = find_scenario(scenario)
        _warn_unused(source, overrides, controllers)
        metrics = (
            None
            if metrics_port is None
            else MetricsOptions(metrics_port, metrics_host, metrics_linger)
        )
        folder = run_comparison(
            source,
            controllers,
            repeats,
            seed,
            sweep or [],
            results,
            "virtual" if virtual else "ray",
            resume,
            address=address,
            dilation=dilation,
            overrides=overrides,
            console=console,
            quiet=quiet,
            metrics=metrics,
        )
    except QnemuError as exc:
        fail(exc)
    except ComparisonInterrupted as exc:
        sys.stderr.write(f"{exc}\n")
        raise typer.Exit(130) from None
    console.print(f"comparison: {folder}", markup=False, highlight=False)


def _warn_unused(source: Path, overrides: dict, controllers: str) -> None:
    """A warning for each ``--set`` that does nothing under every compared controller
    (the rule of :mod:`qnemu.scenario.unused`; a swept one is an error, in the plan)."""
    if not overrides:
        return
    from qnemu.experiments.plan import parse_controllers
    from qnemu.scenario import load_scenario
    from qnemu.scenario.unused import unused_overrides

    try:
        names = parse_controllers(controllers)
        scenario = load_scenario(source, overrides)
    except QnemuError:
        return  # the comparison's plan reports it, with everything else
    lines = unused_overrides(
        lambda rest: load_scenario(source, rest), overrides, overrides, scenario, names
    )
    for line in lines:
        warn(line)


def main() -> None:
    """Run ``compare`` as a command of its own."""
    command = typer.Typer(add_completion=False, context_settings={"help_option_names": HELP})
    command.command()(compare)
    command()


if __name__ == "__main__":
    main()
