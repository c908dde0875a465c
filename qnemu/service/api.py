"""The northbound API: an HTTP JSON interface to a live run (standard-library server).

``qnemu run SCENARIO --api-port P`` serves, on loopback unless ``--api-host`` says
otherwise, in a thread of the driver (``http.server.ThreadingHTTPServer``):

- ``GET /v1/network``: nodes, links (state, memory pairs), tenants, controller, emulated time
- ``POST /v1/requests``: a tenant (the scenario's tenant fields, plus ``duration_s``);
  201 with the admission verdict, 409 with the reason admission refused it, 400 with the
  field path of the first problem (validated as scenario tenants are)
- ``GET /v1/requests/NAME``: its live status; ``DELETE /v1/requests/NAME``: 204, released

Every request needs ``Authorization: Bearer TOKEN`` (compared in constant time), else 401.
Without ``--api-token`` a random token is made, printed once and written to the results
folder as ``api-token`` (mode 0600).
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any

from qnemu.service.live import Refused
from qnemu.service.requests import RequestInvalid, parse_request

if TYPE_CHECKING:
    from qnemu.emulation import Emulation

#: Largest request body accepted (bytes): a tenant is a few hundred.
MAX_BODY = 64 * 1024


def new_token() -> str:
    """A random bearer token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def write_token(folder: Path, token: str) -> Path:
    """Write the token to ``folder/api-token`` readable by its owner only."""
    path = folder / "api-token"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(token + "\n")
    os.chmod(path, 0o600)
    return path


class ApiServer:
    """Serves the API of one run in a daemon thread; :meth:`close` stops it."""

    def __init__(
        self, emulation: Emulation, host: str, port: int, token: str | None = None
    ) -> None:
        self.emulation = emulation
        self.generated = token is None  # written to the results folder once it exists
        self.token = new_token() if token is None else token
        self.token_file: Path | None = None
        handler = type("Handler", (_Handler,), {"api": self})
        self.server = ThreadingHTTPServer((host, port), handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL the API answers on."""
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        """Answer requests from now on; the run tells :meth:`on_folder` its folder."""
        self.emulation.api = self
        self.thread.start()

    def on_folder(self, folder: Path) -> None:
        """The run's results folder exists: a generated token is written there."""
        if self.generated:
            self.token_file = write_token(folder, self.token)

    def close(self) -> None:
        """Stop answering and free the port."""
        self.server.shutdown()
        self.server.server_close()

    # -- what the endpoints answer ------------------------------------------------------
    def network(self) -> dict[str, Any]:
        emulation = self.emulation
        live = emulation.live
        plan = live.plan if live is not None else emulation.plan
        scenario = emulation.scenario
        ledger = emulation.ledger
        return {
            "scenario": scenario.name,
            "controller": scenario.control.architecture,
            "emulated_s": None if live is None else round(live.now(), 9),
            "duration_s": scenario.duration_s,
            "nodes": [
                {
                    "id": n.id,
                    "hardware": n.hardware,
                    "memories": n.memories,
                    **_state(ledger.in_force(n.id), ("node_crash",)),
                }
                for n in scenario.nodes
            ],
            "links": [
                {
                    "a": link.a,
                    "b": link.b,
                    "length_km": link.length_km,
                    **_state(_link_faults(ledger, link.a, link.b), ("link_down", "node_crash")),
                    "memory_pairs": _pairs(plan, link.a, link.b),
                }
                for link in scenario.links
            ],
            "tenants": {
                name: {
                    "path": path,
                    "removed": live is not None and name in live.removed,
                    "origin": "api" if live is not None and name in live.specs else "scenario",
                }
                for name, path in plan.paths.items()
            },
        }

    def add(self, body: Any) -> tuple[int, dict[str, Any]]:
        live = self.emulation.live
        if live is None:
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the run is not going"}
        try:
            spec = parse_request(self.emulation.scenario, body, live.now())
        except RequestInvalid as exc:
            return HTTPStatus.BAD_REQUEST, {"error": str(exc), "problems": exc.problems}
        try:
            verdict = live.admit(spec)
        except Refused as exc:
            return HTTPStatus.CONFLICT, {"admitted": False, "reason": str(exc)}
        return HTTPStatus.CREATED, verdict.to_dict()

    def status(self, name: str) -> tuple[int, dict[str, Any]]:
        emulation = self.emulation
        live = emulation.live
        plan = live.plan if live is not None else emulation.plan
        if name not in plan.paths:
            return HTTPStatus.NOT_FOUND, {"error": f"no tenant {name!r}"}
        reached = emulation.reached_s()
        table = emulation.tenant_table(reached).get(name, {})
        verdict = None if live is None else live.verdicts.get(name)
        app = next((t.app for t in plan.scenario.tenants if t.name == name), None)
        return HTTPStatus.OK, {
            "name": name,
            "path": plan.paths[name],
            "emulated_s": reached,
            **{k: table.get(k) for k in ("requested", "served", "pairs_delivered", "rate_hz")},
            # what the network estimates from its end nodes' measurements (not ground truth)
            **emulation.ledger.estimates.fields(name, app),
            "predicted_fidelity": _predicted(plan, name)
            if verdict is None
            else verdict.predicted_fidelity,
            **emulation.ledger.tenant_fields(name),
        }

    def remove(self, name: str) -> tuple[int, dict[str, Any]]:
        live = self.emulation.live
        if live is None:
            return HTTPStatus.SERVICE_UNAVAILABLE, {"error": "the run is not going"}
        if not live.remove(name):
            return HTTPStatus.NOT_FOUND, {"error": f"no running tenant {name!r}"}
        return HTTPStatus.NO_CONTENT, {}


def _state(faults: list[dict[str, Any]], down_kinds: tuple[str, ...]) -> dict[str, Any]:
    """``state`` (``down`` while a fault of ``down_kinds`` is in force on it or, for a
    link, on one of its ends) and every fault in force there."""
    down = any(f["kind"] in down_kinds for f in faults)
    return {"state": "down" if down else "up", "faults": faults}


def _link_faults(ledger: Any, a: str, b: str) -> list[dict[str, Any]]:
    """The faults in force on link ``a~b``, and crashes of its ends (which take it down)."""
    ends = [f for f in ledger.in_force(a, b) if f["kind"] == "node_crash"]
    return ledger.in_force(f"{a}~{b}") + ends


def _predicted(plan: Any, name: str) -> float | None:
    """The model's fidelity for a scenario tenant: its digital twin's delivered mean."""
    got = None if plan.twin is None else plan.twin.tenants.get(name)
    return None if got is None else got.fidelity


def _pairs(plan: Any, a: str, b: str) -> int:
    return next((lp.modes for lp in plan.links.values() if {lp.a, lp.b} == {a, b}), 0)


class _Handler(BaseHTTPRequestHandler):
    api: ApiServer
    server_version = "qnemu"

    def log_message(self, format: str, *args: Any) -> None:
        return  # no access log on the run's terminal

    def _authorized(self) -> bool:
        given = self.headers.get("Authorization", "")
        expected = f"Bearer {self.api.token}"
        if hmac.compare_digest(given.encode(), expected.encode()):
            return True
        self._reply(HTTPStatus.UNAUTHORIZED, {"error": "missing or wrong bearer token"})
        return False

    def _reply(self, status: int, body: dict[str, Any]) -> None:
        data = b"" if status == HTTPStatus.NO_CONTENT else json.dumps(body).encode()
        self.send_response(status)
        if status == HTTPStatus.UNAUTHORIZED:
            self.send_header("WWW-Authenticate", 'Bearer realm="qnemu"')
        if data:
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _name(self) -> str | None:
        prefix = "/v1/requests/"
        return self.path[len(prefix) :] if self.path.startswith(prefix) else None

    def do_GET(self) -> None:
        if not self._authorized():
            return
        name = self._name()
        if self.path == "/v1/network":
            self._reply(HTTPStatus.OK, self.api.network())
        elif name:
            self._reply(*self.api.status(name))
        else:
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no endpoint {self.path}"})

    def do_POST(self) -> None:
        if not self._authorized():
            return
        if self.path != "/v1/requests":
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no endpoint {self.path}"})
            return
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self._reply(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"error": "body too large"})
            return
        try:
            body = json.loads(self.rfile.read(length) or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            self._reply(HTTPStatus.BAD_REQUEST, {"error": f"body: not JSON ({exc})"})
            return
        self._reply(*self.api.add(body))

    def do_DELETE(self) -> None:
        if not self._authorized():
            return
        name = self._name()
        if not name:
            self._reply(HTTPStatus.NOT_FOUND, {"error": f"no endpoint {self.path}"})
            return
        self._reply(*self.api.remove(name))
