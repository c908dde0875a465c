"""The ``qnemu dashboards`` commands and the ``--metrics-*`` options of ``qnemu run``.

Parses arguments and calls one library function per command; a
:class:`~qnemu.errors.QnemuError` becomes one line on stderr and exit status 2
(:mod:`qnemu.cli_errors`). Cheap to import: telemetry itself loads when a command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from qnemu.cli_errors import fail
from qnemu.errors import QnemuError
from qnemu.telemetry.endpoints import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PROMETHEUS_URL

if TYPE_CHECKING:
    from qnemu.telemetry import InProcessTelemetry, RayTelemetry

dashboards_app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    help="Grafana dashboards for watching runs live.",
)

# The options `qnemu run` takes for telemetry, as typer annotations (same names everywhere).
MetricsPort = Annotated[
    int,
    typer.Option(
        "--metrics-port", help="Port serving /metrics during the run (0: pick a free one)."
    ),
]
MetricsHost = Annotated[
    str,
    typer.Option(
        "--metrics-host", help="Address serving /metrics (loopback unless you say otherwise)."
    ),
]
MetricsLinger = Annotated[
    float,
    typer.Option(
        "--metrics-linger",
        help="Wall seconds /metrics keeps serving after the run, for a final scrape.",
    ),
]
NoMetrics = Annotated[bool, typer.Option("--no-metrics", help="Do not serve /metrics.")]
DEFAULT_LINGER_S = 5.0


def metrics_sink(
    no_metrics: bool,
    host: str,
    port: int,
    linger_s: float,
    virtual: bool,
    address: str | None = None,
    say: Callable[[str], None] | None = None,
) -> InProcessTelemetry | RayTelemetry | None:
    """The sink ``qnemu run`` passes to ``Emulation(telemetry=...)``; None with --no-metrics.

    Raises :class:`~qnemu.telemetry.TelemetryError` (a QnemuError) before anything runs
    when the port is taken. The caller prints ``sink.url`` (the real port when 0 was asked).
    """
    if no_metrics:
        return None
    from qnemu.telemetry import start_telemetry

    return start_telemetry(host, port, linger_s, in_process=virtual, address=address, say=say)


@dashboards_app.command("push")
def dashboards_push(
    url: Annotated[str, typer.Option("--url", help="Grafana base URL, e.g. http://127.0.0.1:3000")],
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="GRAFANA_TOKEN",
            help="Grafana service-account token (or user:password in the URL).",
        ),
    ] = None,
    prometheus_url: Annotated[
        str, typer.Option("--prometheus-url", help="Where Grafana reaches Prometheus.")
    ] = DEFAULT_PROMETHEUS_URL,
) -> None:
    """Create or update the qnemu data source and dashboards in a running Grafana."""
    from qnemu.telemetry.push import push_dashboards

    try:
        pushed = push_dashboards(url, token, prometheus_url, say=typer.echo)
    except QnemuError as exc:
        fail(exc)
    typer.echo(f"pushed {len(pushed)} dashboards to {url}")


@dashboards_app.command("export")
def dashboards_export(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder to write the provisioning tree to.")
    ],
    prometheus_url: Annotated[
        str, typer.Option("--prometheus-url", help="Where Grafana reaches Prometheus.")
    ] = DEFAULT_PROMETHEUS_URL,
    metrics_port: Annotated[
        int,
        typer.Option(
            "--metrics-port",
            help="The port prometheus.yml scrapes: the --metrics-port of "
            "`qnemu run` or `qnemu compare`.",
        ),
    ] = DEFAULT_PORT,
    metrics_host: Annotated[
        str, typer.Option("--metrics-host", help="The address prometheus.yml scrapes.")
    ] = DEFAULT_HOST,
) -> None:
    """Write dashboards, Grafana provisioning files and prometheus.yml to DIRECTORY."""
    from qnemu.telemetry.dashboards import export

    try:
        written = export(
            directory,
            prometheus_url=prometheus_url,
            metrics_host=metrics_host,
            metrics_port=metrics_port,
        )
    except QnemuError as exc:
        fail(exc)
    except OSError as exc:
        fail(QnemuError(f"dashboards export: cannot write {directory}: {exc.strerror}"))
    for path in written:
        typer.echo(str(path))
    typer.echo(
        f"Grafana: GF_PATHS_PROVISIONING={directory.resolve() / 'provisioning'}; "
        f"Prometheus: prometheus --config.file={directory.resolve() / 'prometheus.yml'}"
    )


@dashboards_app.command("snapshot")
def dashboards_snapshot(
    directory: Annotated[
        Path, typer.Argument(metavar="DIR", help="Folder to write one PNG per dashboard to.")
    ],
    prometheus_url: Annotated[
        str, typer.Option("--prometheus-url", help="The Prometheus that scraped the runs.")
    ] = DEFAULT_PROMETHEUS_URL,
    last: Annotated[
        float,
        typer.Option(
            "--last",
            help="Seconds of history to draw, ending now (the dashboards' default range is 300).",
        ),
    ] = 300.0,
    run: Annotated[
        list[str] | None,
        typer.Option(
            "--run",
            metavar="RUN",
            help="Only this run (the run label, a results folder's name; repeatable). "
            "Default: all.",
        ),
    ] = None,
    tenant: Annotated[
        list[str] | None,
        typer.Option(
            "--tenant", metavar="TENANT", help="Only this tenant (repeatable). Default: all."
        ),
    ] = None,
    controller: Annotated[
        list[str] | None,
        typer.Option(
            "--controller",
            metavar="CONTROLLER",
            help="Only this controller (repeatable). Default: all.",
        ),
    ] = None,
) -> None:
    """Draw each dashboard's panels from Prometheus to a PNG (what Grafana would show)."""
    from qnemu.telemetry.snapshot import snapshot

    chosen = {"run": run or [], "tenant": tenant or [], "controller": controller or []}
    try:
        written = snapshot(directory, prometheus_url, range_s=last, variables=chosen)
    except QnemuError as exc:
        fail(exc)
    except OSError as exc:
        fail(QnemuError(f"dashboards snapshot: cannot write {directory}: {exc.strerror}"))
    for path in written:
        typer.echo(str(path))


__all__ = [
    "DEFAULT_HOST",
    "DEFAULT_LINGER_S",
    "DEFAULT_PORT",
    "MetricsHost",
    "MetricsLinger",
    "MetricsPort",
    "NoMetrics",
    "dashboards_app",
    "dashboards_export",
    "dashboards_push",
    "dashboards_snapshot",
    "metrics_sink",
]
