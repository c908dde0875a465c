"""The collector as a Ray actor, and the driver-side sink that feeds it.

Every Ray call telemetry makes lives here. The actor is the plain
:class:`~qnemu.telemetry.collector.Collector` wrapped at spawn time and pinned to the
driver's Ray node, so ``127.0.0.1`` means this machine. The sink forwards each drained
batch with a fire-and-forget actor call: the driver loop pays for submitting the call,
not for the metric updates. In-flight calls are bounded (:data:`MAX_IN_FLIGHT`) so a slow
collector applies back-pressure instead of growing memory without limit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from qnemu.errors import EmulationError
from qnemu.telemetry.collector import (
    DEFAULT_HOST,
    DEFAULT_PORT,
    Collector,
    TelemetryError,
    _check_linger,
    _linger,
    check_endpoint,
    endpoint_url,
)
from qnemu.telemetry.recorder import RunInfo

MAX_IN_FLIGHT = 256  # batches submitted but not yet applied by the collector
PRUNE_AT = 32  # look for finished calls once this many are outstanding
CALL_TIMEOUT_S = 30.0


class RayTelemetry:
    """A :class:`~qnemu.emulation.TelemetrySink` backed by the collector actor.

    Starts Ray (embedded local, or ``address``) when it is not running yet, and then owns
    it: it shuts Ray down when telemetry shuts down, after the emulation has finished.
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        port: int = DEFAULT_PORT,
        linger_s: float = 0.0,
        address: str | None = None,
        say: Callable[[str], None] | None = None,
        run: str | None = None,
    ) -> None:
        _check_linger(linger_s)
        check_endpoint(host, port)  # before Ray starts: a taken port fails in milliseconds
        from qnemu.runtime import ray_backend

        self.host = host
        self.linger_s = linger_s
        self.say = say or (lambda text: None)
        self._in_flight: list[Any] = []
        self._actor: Any = None
        self._owns_ray = ray_backend.start_ray(address)
        try:
            self._actor = _spawn(host, port)
            self.port = self._call(self._actor.serve.remote())
        except BaseException:
            self.shutdown()
            raise
        self.url = endpoint_url(host, self.port)
        self.keep_open = False
        self._open = True
        self.expect(run)

    # -- the sink ----------------------------------------------------------------------------
    def expect(self, run: str | None) -> None:
        """The next run's name (None: its results folder's); its phase is ``starting``."""
        self.run = run
        self._submit(self._actor.begin.remote(run))

    def start(self, plan: Any, emulator: dict[str, Any]) -> None:
        """The actors are placed: ship the run's label values to the collector."""
        self._submit(self._actor.start.remote(RunInfo.from_plan(plan, emulator, self.run)))

    def record(self, batch: dict[str, Any]) -> None:
        """Forward one batch without waiting for the collector to apply it."""
        self._submit(self._actor.record.remote(batch))

    def close(self, summary: dict[str, Any] | None) -> None:
        """Apply everything sent and set the final values; then, unless ``keep_open``,
        linger and stop."""
        if not self._open:
            return
        try:
            self._submit(self._actor.close.remote(summary))
            self.flush()
        except BaseException:
            self.shutdown()
            raise
        if not self.keep_open:
            self.stop()

    def stop(self) -> None:
        """Keep serving ``linger_s`` seconds (a last scrape), then stop."""
        if not self._open:
            return
        try:
            self.flush()
            _linger(self.linger_s, self.url, self.say)
        finally:
            self.shutdown()

    # -- plumbing ----------------------------------------------------------------------------
    def flush(self) -> None:
        """Wait until the collector has applied every batch sent so far."""
        pending, self._in_flight = self._in_flight, []
        for ref in pending:
            self._call(ref)

    def exposition(self) -> bytes:
        """What ``/metrics`` serves right now."""
        return self._call(self._actor.exposition.remote())

    def shutdown(self) -> None:
        """Stop serving and remove the actor now (idempotent; no linger)."""
        import ray

        from qnemu.runtime import ray_backend

        self._open = False
        actor, self._actor = self._actor, None
        if actor is not None:
            with contextlib.suppress(ray.exceptions.RayError):  # the port closes with it
                ray.get(actor.stop.remote(), timeout=5)
            ray.kill(actor)
        if self._owns_ray:
            self._owns_ray = False
            ray_backend.stop_ray()

    def _submit(self, ref: Any) -> None:
        import ray

        self._in_flight.append(ref)
        if len(self._in_flight) >= PRUNE_AT:
            done, waiting = ray.wait(self._in_flight, num_returns=len(self._in_flight), timeout=0)
            for ref_done in done:
                self._call(ref_done)  # surfaces a collector error instead of hiding it
            self._in_flight = waiting
        while len(self._in_flight) > MAX_IN_FLIGHT:
            self._call(self._in_flight.pop(0))

    def _call(self, ref: Any) -> Any:
        import ray

        try:
            return ray.get(ref, timeout=CALL_TIMEOUT_S)
        except ray.exceptions.RayTaskError as exc:
            cause = exc.cause if isinstance(getattr(exc, "cause", None), Exception) else exc
            if isinstance(cause, TelemetryError):
                raise TelemetryError(str(cause)) from None
            raise TelemetryError(f"metrics collector failed: {cause}") from exc
        except ray.exceptions.RayError as exc:
            raise TelemetryError(f"metrics collector unreachable: {exc}") from exc

    def __enter__(self) -> RayTelemetry:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.shutdown()


def _spawn(host: str, port: int) -> Any:
    """The collector actor, on the driver's Ray node so that loopback means here."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    here = ray.get_runtime_context().get_node_id()
    actor_class = ray.remote(Collector).options(
        num_cpus=0, scheduling_strategy=NodeAffinitySchedulingStrategy(here, soft=False)
    )
    try:
        return actor_class.remote(host, port)
    except ray.exceptions.RayError as exc:
        raise EmulationError(f"ray: cannot start the metrics collector: {exc}") from exc
