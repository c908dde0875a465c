"""`qnemu dashboards push` against a local stand-in for Grafana's HTTP API.

No Grafana server can be installed on this machine (no package for it in the registries
it reaches), so this stand-in records the exact requests and answers as Grafana does.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from typer.testing import CliRunner

from qnemu.telemetry.cli import dashboards_app


class FakeGrafana(ThreadingHTTPServer):
    """Records (method, path, Authorization, JSON body); knows what exists already."""

    def __init__(self, existing=()):
        super().__init__(("127.0.0.1", 0), Handler)
        self.calls = []
        self.existing = set(existing)
        self.status = None  # force every answer to this status


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        server = self.server
        server.calls.append((self.command, self.path, self.headers.get("Authorization"), body))
        status, reply = 200, {"status": "success"}
        if server.status:
            status, reply = server.status, {"message": "invalid API key"}
        elif self.command == "GET" and self.path not in server.existing:
            status, reply = 404, {"message": "not found"}
        data = json.dumps(reply).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _answer


@pytest.fixture
def grafana():
    servers = []

    def start(existing=()):
        server = FakeGrafana(existing)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def push(url, *extra):
    return CliRunner().invoke(dashboards_app, ["push", "--url", url, "--token", "s3cret", *extra])


def test_push_to_an_empty_grafana_creates_source_folder_and_dashboards(grafana):
    server, url = grafana()
    result = push(url, "--prometheus-url", "http://127.0.0.1:9999")
    assert result.exit_code == 0, result.output
    assert [(m, p) for m, p, _, _ in server.calls] == [
        ("GET", "/api/datasources/uid/qnemu-prometheus"),
        ("POST", "/api/datasources"),
        ("GET", "/api/folders/qnemu"),
        ("POST", "/api/folders"),
        ("POST", "/api/dashboards/db"),
        ("POST", "/api/dashboards/db"),
    ]
    assert {auth for _, _, auth, _ in server.calls} == {"Bearer s3cret"}
    source = server.calls[1][3]
    assert source["uid"] == "qnemu-prometheus" and source["url"] == "http://127.0.0.1:9999"
    assert server.calls[3][3] == {"title": "qnemu", "uid": "qnemu"}
    pushed = [body for _, _, _, body in server.calls[4:]]
    assert [b["dashboard"]["uid"] for b in pushed] == ["qnemu-overview", "qnemu-controllers"]
    assert all(b["overwrite"] is True and b["folderUid"] == "qnemu" for b in pushed)


def test_push_again_updates_in_place(grafana):
    server, url = grafana(existing={"/api/datasources/uid/qnemu-prometheus", "/api/folders/qnemu"})
    assert push(url).exit_code == 0
    assert [(m, p) for m, p, _, _ in server.calls][:3] == [
        ("GET", "/api/datasources/uid/qnemu-prometheus"),
        ("PUT", "/api/datasources/uid/qnemu-prometheus"),
        ("GET", "/api/folders/qnemu"),
    ]


def test_a_refused_token_is_one_line_and_exit_2(grafana):
    server, url = grafana()
    server.status = 401
    result = push(url)
    assert result.exit_code == 2
    assert result.output.startswith("error: grafana at") and result.output.count("\n") == 1


def test_an_unreachable_grafana_is_one_line_and_exit_2():
    result = push("http://127.0.0.1:9")
    assert result.exit_code == 2
    assert result.output.startswith("error: grafana at") and result.output.count("\n") == 1
