"""The collector: one registry, one recorder, one ``/metrics`` endpoint; and its sinks.

:class:`Collector` is the plain class behind the collector Ray actor
(:mod:`qnemu.telemetry.actor`) and behind :class:`InProcessTelemetry`, the same collector
in the driver's process for virtual-time runs. Both sinks follow
:class:`qnemu.emulation.TelemetrySink` and keep serving for ``linger_s`` wall seconds
after the run ends, so that Prometheus takes a last scrape of the final values.

A sink with ``keep_open = True`` serves several runs one after the other (``qnemu compare
--metrics-port``): :meth:`~InProcessTelemetry.expect` names the next run, ``close`` ends
that run only, and :meth:`~InProcessTelemetry.stop` lingers and stops after the last one.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, generate_latest, start_http_server

from qnemu.errors import QnemuError
from qnemu.telemetry.endpoints import DEFAULT_HOST, DEFAULT_PORT
from qnemu.telemetry.recorder import MetricsRecorder, RunInfo


class TelemetryError(QnemuError):
    """Telemetry could not start or serve (port in use, bad address, collector died)."""


def check_endpoint(host: str, port: int) -> None:
    """Validate ``host``/``port`` and fail now if the port is taken (before any run)."""
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise TelemetryError(f"metrics port: must be an integer in 0..65535, got {port!r}")
    if port == 0:
        return
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    except socket.gaierror as exc:
        raise TelemetryError(f"metrics host: cannot resolve {host!r}: {exc.strerror}") from exc
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise _bind_error(host, port, exc) from exc


def _bind_error(host: str, port: int, exc: OSError) -> TelemetryError:
    reason = exc.strerror or str(exc)
    return TelemetryError(
        f"metrics: cannot serve on {host}:{port}: {reason.lower()} "
        f"(choose another --metrics-port, or 0 for a free one)"
    )


def endpoint_url(host: str, port: int) -> str:
    """The URL Prometheus scrapes."""
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/metrics"


class _WithoutCreated:
    """A registry view that leaves out prometheus_client's ``*_created`` samples.

    Prometheus 2 would store each as one more series per child; qnemu's runs are short
    and the start time of a counter says nothing a dashboard needs.
    """

    def __init__(self, registry: Any) -> None:
        self._registry = registry

    def collect(self) -> Any:
        for family in self._registry.collect():
            family.samples = [s for s in family.samples if not s.name.endswith("_created")]
            yield family

    def restricted_registry(self, names: Any) -> _WithoutCreated:
        return _WithoutCreated(self._registry.restricted_registry(names))


class Collector:
    """Owns a registry and its recorder, and serves ``/metrics`` from a daemon thread."""

    def __init__(self, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> None:
        self.host = host
        self.port = port
        self.registry = CollectorRegistry()
        self.recorder = MetricsRecorder(self.registry)
        self._server: Any = None
        self._thread: Any = None

    def serve(self) -> int:
        """Bind and start serving; returns the bound port (the free one when port is 0)."""
        if self._server is None:
            try:
                self._server, self._thread = start_http_server(
                    self.port, self.host, _WithoutCreated(self.registry)
                )
            except OSError as exc:
                raise _bind_error(self.host, self.port, exc) from exc
            self.port = self._server.server_port
        return self.port

    def begin(self, run: str | None = None) -> None:
        """A run is starting (see :meth:`MetricsRecorder.begin`)."""
        self.recorder.begin(run)

    def start(self, run: RunInfo) -> None:
        """A run begins (see :meth:`MetricsRecorder.start`)."""
        self.recorder.start(run)

    def record(self, batch: dict[str, Any]) -> None:
        """One drained batch."""
        self.recorder.record(batch)

    def record_many(self, batches: list[dict[str, Any]]) -> None:
        """Several drained batches, in order."""
        for batch in batches:
            self.recorder.record(batch)

    def close(self, summary: dict[str, Any] | None) -> None:
        """The run ended; the endpoint keeps serving the final values until :meth:`stop`."""
        self.recorder.close(summary)

    def exposition(self) -> bytes:
        """What ``/metrics`` serves right now (for tests and benchmarks)."""
        return generate_latest(_WithoutCreated(self.registry))

    def stop(self) -> None:
        """Stop serving (idempotent)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = self._thread = None


class InProcessTelemetry:
    """A :class:`~qnemu.emulation.TelemetrySink` whose collector lives in this process.

    For virtual-time runs (no Ray) and tests. ``url``/``port`` tell where it serves.
    ``run``: the ``run`` label of the first run (default: its results folder's name).
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        linger_s: float = 0.0,
        say: Callable[[str], None] | None = None,
        run: str | None = None,
    ) -> None:
        _check_linger(linger_s)
        check_endpoint(host, port)
        self.collector = Collector(host, port)
        self.port = self.collector.serve()
        self.host = host
        self.url = endpoint_url(host, self.port)
        self.linger_s = linger_s
        self.say = say or (lambda text: None)
        self.keep_open = False
        self._open = True
        self.expect(run)

    def expect(self, run: str | None) -> None:
        """The next run's name (None: its results folder's); its phase is ``starting``."""
        self.run = run
        self.collector.begin(run)

    def start(self, plan: Any, emulator: dict[str, Any]) -> None:
        """The actors are placed (or virtual time is set up): label values become known."""
        self.collector.start(RunInfo.from_plan(plan, emulator, self.run))

    def record(self, batch: dict[str, Any]) -> None:
        """Fold one batch in, synchronously (virtual time has no loop to protect)."""
        self.collector.record(batch)

    def close(self, summary: dict[str, Any] | None) -> None:
        """Final values; then, unless ``keep_open``, serve ``linger_s`` seconds and stop."""
        if not self._open:
            return
        self.collector.close(summary)
        if not self.keep_open:
            self.stop()

    def stop(self) -> None:
        """Keep serving ``linger_s`` seconds (a last scrape), then stop."""
        if not self._open:
            return
        try:
            _linger(self.linger_s, self.url, self.say)
        finally:
            self.shutdown()

    def shutdown(self) -> None:
        """Stop serving now (idempotent; no linger)."""
        self._open = False
        self.collector.stop()

    def __enter__(self) -> InProcessTelemetry:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.shutdown()


def _check_linger(linger_s: float) -> None:
    if not linger_s >= 0:
        raise TelemetryError(f"metrics linger: must be >= 0 seconds, got {linger_s}")


def _linger(linger_s: float, url: str, say: Callable[[str], None]) -> None:
    if linger_s > 0:
        say(f"metrics: serving the final values at {url} for {linger_s:g} s")
        time.sleep(linger_s)
