"""``qnemu run --api-port`` and ``qnemu request add|status|remove``: the command logic.

Kept out of ``qnemu/cli.py`` (which only parses arguments): starting the API next to a
run, and the ``request`` sub-commands, which talk to a run's API through
:class:`qnemu.client.Client`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from qnemu.errors import ScenarioError

if TYPE_CHECKING:
    from qnemu.emulation import Emulation
    from qnemu.service.api import ApiServer


def start_api(emulation: Emulation, host: str, port: int, token: str | None) -> ApiServer:
    """Serve the northbound API of ``emulation`` (a port in use is a ScenarioError)."""
    from qnemu.service.api import ApiServer

    if not 0 <= port <= 65535:
        raise ScenarioError(f"--api-port: must be 0..65535, got {port}")
    if token is not None and len(token) < 16:
        raise ScenarioError("--api-token: must be at least 16 characters")
    try:
        server = ApiServer(emulation, host, port, token)
    except OSError as exc:
        raise ScenarioError(
            f"--api-port: cannot listen on {host}:{port} ({exc.strerror})"
        ) from None
    server.start()
    return server


request_app = typer.Typer(
    help="Talk to a live run's northbound API (qnemu run --api-port).", no_args_is_help=True
)
Url = Annotated[str, typer.Option("--url", help="The run's API, e.g. http://127.0.0.1:9400.")]
Token = Annotated[str, typer.Option("--token", envvar="QNEMU_API_TOKEN", help="Bearer token.")]


def _client(url: str, token: str) -> Any:
    from qnemu.client import Client

    return Client(url, token)


def _answer(call: Any) -> None:
    from qnemu.client import ApiError

    try:
        result = call()
    except ApiError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except OSError as exc:
        typer.echo(f"error: cannot reach the API ({exc})", err=True)
        raise typer.Exit(2) from None
    if result is not None:
        typer.echo(json.dumps(result, indent=2))


@request_app.command("add")
def add(
    url: Url,
    token: Token,
    tenant: Annotated[str, typer.Argument(help='The tenant as JSON, e.g. \'{"name": "c", ...}\'.')],
) -> None:
    """Ask for a tenant; prints the admission verdict (exit 1 when refused)."""
    try:
        body = json.loads(tenant)
    except ValueError as exc:
        typer.echo(f"error: tenant: not JSON ({exc})", err=True)
        raise typer.Exit(2) from None
    _answer(lambda: _client(url, token).add(body))


@request_app.command("status")
def status(url: Url, token: Token, name: str) -> None:
    """A tenant's live status."""
    _answer(lambda: _client(url, token).status(name))


@request_app.command("remove")
def remove(url: Url, token: Token, name: str) -> None:
    """Release a tenant's resources."""
    _answer(lambda: _client(url, token).remove(name))
