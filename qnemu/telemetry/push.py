"""Push qnemu's data source and dashboards to a running Grafana over its HTTP API.

Uses grafana-client (the maintained fork of grafana-api). The calls, in order:

1. ``GET /api/datasources/uid/qnemu-prometheus``; then ``PUT`` the same path when it
   exists, else ``POST /api/datasources``;
2. ``GET /api/folders/qnemu``; ``POST /api/folders`` when it does not exist;
3. ``POST /api/dashboards/db`` once per dashboard, with ``overwrite: true`` into that folder.

Pushing twice gives the same result as pushing once.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from qnemu.telemetry.collector import TelemetryError
from qnemu.telemetry.dashboards import (
    DATASOURCE_UID,
    FOLDER,
    build_dashboard,
    datasource_config,
)
from qnemu.telemetry.endpoints import DEFAULT_PROMETHEUS_URL
from qnemu.telemetry.panels import DASHBOARDS


def push_dashboards(
    url: str,
    token: str | None = None,
    prometheus_url: str = DEFAULT_PROMETHEUS_URL,
    say: Callable[[str], None] | None = None,
) -> list[str]:
    """Create or update the data source, the folder and every dashboard; returns their uids.

    ``token``: a Grafana service-account token (Bearer); without one, credentials in the
    URL (``http://user:password@host:3000``) are used.
    """
    from grafana_client import GrafanaApi
    from grafana_client.client import GrafanaClientError, GrafanaException

    say = say or (lambda text: None)
    if not url.startswith(("http://", "https://")):
        raise TelemetryError(f"grafana url: must start with http:// or https://, got {url!r}")
    api = GrafanaApi.from_url(url, credential=token or None)
    try:
        _upsert_datasource(api, datasource_config(prometheus_url), GrafanaClientError)
        say(f"grafana: data source {DATASOURCE_UID} -> {prometheus_url}")
        _ensure_folder(api, GrafanaClientError)
        pushed = []
        for uid in DASHBOARDS:
            api.dashboard.update_dashboard(
                {
                    "dashboard": build_dashboard(uid),
                    "folderUid": FOLDER,
                    "overwrite": True,
                    "message": "qnemu dashboards push",
                }
            )
            say(f"grafana: dashboard {uid}")
            pushed.append(uid)
    except GrafanaException as exc:
        raise TelemetryError(f"grafana at {url}: {exc.message}") from exc
    except OSError as exc:  # refused, unreachable, DNS
        raise TelemetryError(f"grafana at {url}: {exc}") from exc
    return pushed


def _missing(exc: Any) -> bool:
    return getattr(exc, "status_code", None) == 404


def _upsert_datasource(api: Any, config: dict[str, Any], client_error: type[Exception]) -> None:
    try:
        api.datasource.get_datasource_by_uid(DATASOURCE_UID)
    except client_error as exc:
        if not _missing(exc):
            raise
        api.datasource.create_datasource(config)
        return
    api.datasource.update_datasource_by_uid(DATASOURCE_UID, config)


def _ensure_folder(api: Any, client_error: type[Exception]) -> None:
    try:
        api.folder.get_folder(FOLDER)
    except client_error as exc:
        if not _missing(exc):
            raise
        api.folder.create_folder(FOLDER, uid=FOLDER)
