"""Grafana dashboards, provisioning files and a Prometheus config, built from code.

The dashboards are built with grafana-foundation-sdk (Grafana's own builder library) from
the panel lists below, so every query is written once and the shipped JSON under
``dashboards/`` is reproducible (a test regenerates it and compares). Every query uses only
metrics of :data:`qnemu.telemetry.catalog.CATALOG`; a test runs each one against a real
Prometheus scraping a real run.

Rates in Prometheus are per **wall** second; panels that say "per emulated second"
multiply each run's rate by its ``qnemu_emulator_dilation`` (wall seconds per emulated
second).

Every query is filtered by the template variables whose label its metric has (:func:`sel`):
``run``, ``tenant``, ``controller`` and ``node``, each "All" by default, so one Prometheus
holding several runs (a comparison) shows them side by side or one at a time.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import common as gcommon
from grafana_foundation_sdk.builders import dashboard as gdash
from grafana_foundation_sdk.builders import prometheus as gprom
from grafana_foundation_sdk.builders import stat as gstat
from grafana_foundation_sdk.builders import timeseries as gtime
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models import dashboard as gmodel
from grafana_foundation_sdk.models.common import (
    BigValueColorMode,
    LegendDisplayMode,
    LegendPlacement,
)
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from qnemu.telemetry.collector import TelemetryError
from qnemu.telemetry.endpoints import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PROMETHEUS_URL
from qnemu.telemetry.panels import ALL, DASHBOARDS, REFRESH, TIME_RANGE, VARIABLES, PanelSpec

DATASOURCE_UID = "qnemu-prometheus"
DATASOURCE_NAME = "qnemu Prometheus"
FOLDER = "qnemu"
SCRAPE_INTERVAL = "1s"
DASHBOARDS_ENV = "QNEMU_DASHBOARDS_DIR"  # where the shipped provider looks for the JSON


def variables_used(rows: tuple[tuple[str, tuple[PanelSpec, ...]], ...]) -> list[str]:
    """The template variables a dashboard's queries refer to, in :data:`VARIABLES` order."""
    text = " ".join(q.expr for _, panels in rows for panel in panels for q in panel.queries)
    return [name for name in VARIABLES if f"${name}" in text]


def _variable(name: str, datasource: DataSourceRef) -> Any:
    label, query = VARIABLES[name]
    everything = gmodel.VariableOption(selected=True, text="All", value="$__all")
    return (
        gdash.QueryVariable(name)
        .id(name)
        .label(label)
        .query(query)
        .datasource(datasource)
        .multi(True)
        .include_all(True)
        .all_value(ALL)
        .current(everything)
        .refresh(gmodel.VariableRefresh.ON_TIME_RANGE_CHANGED)
        .sort(gmodel.VariableSort.ALPHABETICAL_ASC)
    )


def _ref(i: int) -> str:
    return chr(ord("A") + i)


# A limit line (f_min, the overload tolerance): dashed, red, unfilled.
FLOOR_STYLE = [
    gmodel.DynamicConfigValue("custom.lineStyle", {"fill": "dash", "dash": [10, 10]}),
    gmodel.DynamicConfigValue("color", {"mode": "fixed", "fixedColor": "red"}),
    gmodel.DynamicConfigValue("custom.fillOpacity", 0),
]


def _panel(spec: PanelSpec, datasource: DataSourceRef, panel_id: int) -> Any:
    if spec.kind == "stat":
        stat = gstat.Panel().reduce_options(gcommon.ReduceDataOptions().calcs(["lastNotNull"]))
        builder: gstat.Panel | gtime.Panel = stat
        if spec.names:
            stat.mappings(
                [
                    gmodel.ValueMap(
                        {
                            str(value): gmodel.ValueMappingResult(text=name, index=value)
                            for value, name in spec.names.items()
                        }
                    )
                ]
            )
            stat.color_mode(BigValueColorMode.NONE)
        elif spec.alarm:
            stat.color_mode(BigValueColorMode.BACKGROUND)
    else:
        series = gtime.Panel().legend(
            gcommon.VizLegendOptions()
            .display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM)
            .show_legend(True)
        )
        for i, query in enumerate(spec.queries):
            if query.floor:
                series.override_by_query(_ref(i), FLOOR_STYLE)
        builder = series
    builder.id(panel_id).title(spec.title).datasource(datasource).unit(spec.unit)
    builder.height(8).span(8)
    if spec.low is not None:
        builder.min(spec.low)
    if spec.high is not None:
        builder.max(spec.high)
    if spec.decimals is not None:
        builder.decimals(spec.decimals)
    if spec.alarm:
        builder.thresholds(
            gdash.ThresholdsConfig()
            .mode(gmodel.ThresholdsMode.ABSOLUTE)
            .steps([gmodel.Threshold(None, "green"), gmodel.Threshold(1, "red")])
        )
    if spec.description:
        builder.description(spec.description)
    for i, query in enumerate(spec.queries):
        target = (
            gprom.Dataquery()
            .expr(query.expr)
            .legend_format(query.legend)
            .ref_id(_ref(i))
            .datasource(datasource)
        )
        builder.with_target(target)
    return builder


def build_dashboard(uid: str) -> dict[str, Any]:
    """One dashboard as Grafana's JSON model (a plain dict)."""
    title, rows = DASHBOARDS[uid]
    datasource = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
    builder = (
        gdash.Dashboard(title)
        .uid(uid)
        .tags(["qnemu"])
        .refresh(REFRESH)
        .time(*TIME_RANGE)
        .editable()
    )
    for name in variables_used(rows):
        builder.with_variable(_variable(name, datasource))
    panel_id = 0
    for row_title, panels in rows:
        panel_id += 1
        builder.with_row(gdash.Row(row_title).id(panel_id))
        for spec in panels:
            panel_id += 1
            builder.with_panel(_panel(spec, datasource, panel_id))
    return json.loads(json.dumps(builder.build(), cls=JSONEncoder))


def panel_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(panel title, expression) for every query of every panel of a dashboard JSON."""
    found = []
    for panel in dashboard.get("panels", []):
        for inner in [panel, *panel.get("panels", [])]:
            for target in inner.get("targets", []) or []:
                if target.get("expr"):
                    found.append((inner.get("title", ""), target["expr"]))
    return found


def datasource_config(prometheus_url: str = DEFAULT_PROMETHEUS_URL) -> dict[str, Any]:
    """The Grafana data source qnemu's dashboards query."""
    return {
        "name": DATASOURCE_NAME,
        "uid": DATASOURCE_UID,
        "type": "prometheus",
        "access": "proxy",
        "url": prometheus_url,
        "isDefault": False,
        "jsonData": {"timeInterval": SCRAPE_INTERVAL},
    }


def prometheus_config(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> dict[str, Any]:
    """A Prometheus configuration that scrapes qnemu every second."""
    return {
        "global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": "5s"},
        "scrape_configs": [
            {"job_name": "qnemu", "static_configs": [{"targets": [f"{host}:{port}"]}]}
        ],
    }


def check_scrape_port(port: int) -> None:
    """A port Prometheus can be told to scrape: 1..65535 (0 means "any" only to a server)."""
    if not isinstance(port, int) or not 1 <= port <= 65535:
        raise TelemetryError(
            f"--metrics-port: Prometheus needs a fixed port in 1..65535 to "
            f"scrape, got {port!r} (run with the same --metrics-port)"
        )


def export(
    directory: str | Path,
    dashboards_path: str | None = None,
    prometheus_url: str = DEFAULT_PROMETHEUS_URL,
    metrics_host: str = DEFAULT_HOST,
    metrics_port: int = DEFAULT_PORT,
) -> list[Path]:
    """Write the provisioning tree under ``directory``; returns the files written.

    ``directory/`` gets the dashboards (``*.json``), ``prometheus.yml`` (scraping
    ``metrics_host:metrics_port``, where ``qnemu run``/``compare --metrics-port`` serve) and
    ``provisioning/{datasources,dashboards}/qnemu.yaml`` for Grafana's
    ``GF_PATHS_PROVISIONING``. The dashboard provider points at ``dashboards_path``
    (default: ``directory`` made absolute).
    """
    check_scrape_port(metrics_port)
    root = Path(directory)
    path = dashboards_path or str(root.resolve())
    files = {
        "provisioning/datasources/qnemu.yaml": _yaml(
            {"apiVersion": 1, "datasources": [datasource_config(prometheus_url)]}
        ),
        "provisioning/dashboards/qnemu.yaml": _yaml(
            {
                "apiVersion": 1,
                "providers": [
                    {
                        "name": "qnemu",
                        "folder": FOLDER,
                        "type": "file",
                        "disableDeletion": False,
                        "allowUiUpdates": True,
                        "updateIntervalSeconds": 10,
                        "options": {"path": path, "foldersFromFilesStructure": False},
                    }
                ],
            }
        ),
        "prometheus.yml": _yaml(prometheus_config(metrics_host, metrics_port)),
    }
    for uid in DASHBOARDS:
        files[f"{uid}.json"] = json.dumps(build_dashboard(uid), indent=2, sort_keys=True) + "\n"
    written = []
    for name, text in files.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        written.append(target)
    return written


def export_repository(directory: str | Path) -> list[Path]:
    """The shipped ``dashboards/`` tree: the provider path comes from an environment variable."""
    return export(directory, dashboards_path=f"${DASHBOARDS_ENV}")


def _yaml(data: dict[str, Any]) -> str:
    header = "# Generated by qnemu (qnemu.telemetry.dashboards); regenerate, do not edit.\n"
    return header + yaml.safe_dump(data, sort_keys=False)
