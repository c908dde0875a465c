"""Where telemetry listens and where it is looked for, by default (plain constants).

Kept apart from the collector so that the command line can show these defaults in its
help without importing prometheus_client or the recorder.
"""

#: Address ``/metrics`` is served on (loopback unless the user says otherwise).
DEFAULT_HOST = "127.0.0.1"
#: Port ``/metrics`` is served on.
DEFAULT_PORT = 9300
#: Where Grafana reaches Prometheus, by default.
DEFAULT_PROMETHEUS_URL = "http://127.0.0.1:9090"

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "DEFAULT_PROMETHEUS_URL"]
