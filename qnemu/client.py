"""A small client of the northbound API (``qnemu run --api-port``): standard library only.

    from qnemu.client import Client
    api = Client("http://127.0.0.1:9400", token)
    api.add({"name": "carol", "app": "qkd", "src": "n0", "dst": "n3", "rate_hz": 20,
             "f_min": 0.8, "sla": {"probability": 0.9, "window_s": 0.5}})
    api.status("carol"); api.remove("carol"); api.network()

Every method returns the decoded JSON answer; an answer other than 2xx raises
:class:`ApiError` with its status and body (409: admission refused, with the reason).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any


class ApiError(Exception):
    """The API answered with an error status (``status``, decoded ``body``)."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        reason = body.get("reason") or body.get("error") or ""
        super().__init__(f"HTTP {status}: {reason}")
        self.status = status
        self.body = body


class Client:
    """Talks to one run's API at ``url`` with its bearer ``token``."""

    def __init__(self, url: str, token: str, timeout_s: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.timeout_s = timeout_s

    def network(self) -> dict[str, Any]:
        """Nodes, links, tenants, controller and emulated time."""
        return self._call("GET", "/v1/network")

    def add(self, tenant: dict[str, Any]) -> dict[str, Any]:
        """Ask for a tenant; the admission verdict (raises :class:`ApiError` 409 if refused)."""
        return self._call("POST", "/v1/requests", tenant)

    def status(self, name: str) -> dict[str, Any]:
        """A tenant's live status."""
        return self._call("GET", f"/v1/requests/{name}")

    def remove(self, name: str) -> None:
        """Release a tenant's resources."""
        self._call("DELETE", f"/v1/requests/{name}")

    def _call(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            raise ApiError(exc.code, json.loads(raw) if raw else {}) from None
        return json.loads(raw) if raw else {}
