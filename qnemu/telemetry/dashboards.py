"""Grafana dashboards, provisioning files and a Prometheus config, built from code.

The dashboards are built with grafana-foundation-sdk (Grafana's own builder library) from
the panel lists below, so every query is written once and the shipped JSON under
``dashboards/`` is reproducible (a test regenerates it and compares). Every query uses only
metrics of :data:`qnemu.telemetry.catalog.CATALOG`; a test runs each one against a real
Prometheus scraping a real run.

Rates in Prometheus are per **wall** second; panels that say "per emulated second"
multiply by ``qnemu_emulator_dilation`` (wall seconds per emulated second).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from grafana_foundation_sdk.builders import common as gcommon
from grafana_foundation_sdk.builders import dashboard as gdash
from grafana_foundation_sdk.builders import prometheus as gprom
from grafana_foundation_sdk.builders import stat as gstat
from grafana_foundation_sdk.builders import timeseries as gtime
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.common import LegendDisplayMode, LegendPlacement
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from qnemu.telemetry.catalog import BY_NAME
from qnemu.telemetry.collector import DEFAULT_HOST, DEFAULT_PORT

DATASOURCE_UID = "qnemu-prometheus"
DATASOURCE_NAME = "qnemu Prometheus"
DEFAULT_PROMETHEUS_URL = "http://127.0.0.1:9090"
FOLDER = "qnemu"
SCRAPE_INTERVAL = "1s"
RATE = "$__rate_interval"  # Grafana's rate window; tests substitute a real one
DASHBOARDS_ENV = "QNEMU_DASHBOARDS_DIR"  # where the shipped provider looks for the JSON
_METRIC = re.compile(r"\b(qnemu_[a-z0-9_]+?)(?:_bucket|_count|_sum)?\b")


@dataclass(frozen=True)
class Query:
    """One PromQL expression and its legend."""

    expr: str
    legend: str = ""


@dataclass(frozen=True)
class PanelSpec:
    """One panel: a time series or a single stat."""

    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""


def _rate(metric: str, by: str) -> str:
    return f"sum by ({by}) (rate({metric}[{RATE}]))"


def _quantile(q: float, metric: str, by: str) -> str:
    keep = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({keep}) (rate({metric}_bucket[{RATE}])))"


def _mean(metric: str, by: str) -> str:
    return (f"sum by ({by}) (rate({metric}_sum[{RATE}])) / "
            f"sum by ({by}) (rate({metric}_count[{RATE}]))")


PER_EMULATED = " * scalar(qnemu_emulator_dilation)"

OVERVIEW: tuple[tuple[str, tuple[PanelSpec, ...]], ...] = (
    ("Throughput", (
        PanelSpec("Pairs delivered per emulated second", (
            Query(_rate("qnemu_pairs_delivered_total", "tenant") + PER_EMULATED, "{{tenant}}"),),
            "hertz", description="End-to-end pairs per emulated second, per tenant."),
        PanelSpec("Pairs delivered per wall second", (
            Query(_rate("qnemu_pairs_delivered_total", "tenant"), "{{tenant}}"),), "hertz"),
        PanelSpec("Link pairs heralded per emulated second", (
            Query(_rate("qnemu_pairs_generated_total", "link") + PER_EMULATED, "{{link}}"),),
            "hertz"),
        PanelSpec("Swaps per wall second by result", (
            Query(_rate("qnemu_swaps_total", "result"), "{{result}}"),), "ops"),
        PanelSpec("Purifications per wall second by result", (
            Query(_rate("qnemu_purifications_total", "result"), "{{result}}"),), "ops"),
    )),
    ("Quality (ground truth, oracle)", (
        PanelSpec("Delivered fidelity, mean (true value)", (
            Query(_mean("qnemu_delivered_fidelity", "tenant"), "{{tenant}}"),), "percentunit",
            description="Ground truth read by the oracle; nodes and controllers never see it."),
        PanelSpec("Delivered fidelity, 10th percentile (true value)", (
            Query(_quantile(0.1, "qnemu_delivered_fidelity", "tenant"), "{{tenant}}"),),
            "percentunit"),
        PanelSpec("End-to-end latency p50 / p99 (emulated)", (
            Query(_quantile(0.5, "qnemu_delivered_latency_seconds", "tenant"), "p50 {{tenant}}"),
            Query(_quantile(0.99, "qnemu_delivered_latency_seconds", "tenant"),
                  "p99 {{tenant}}")), "s"),
        PanelSpec("Tenant utility U = R·q(F)", (
            Query("qnemu_tenant_utility", "{{tenant}}"),), "short"),
    )),
    ("Latency-coherence violations", (
        PanelSpec("Violations per wall second by kind", (
            Query(_rate("qnemu_violations_total", "kind"), "{{kind}}"),), "ops"),
        PanelSpec("Violations by node", (
            Query("sum by (node) (qnemu_violations_total)", "{{node}}"),), "short"),
        PanelSpec("Violations so far by kind", (
            Query("sum by (kind) (qnemu_violations_total)", "{{kind}}"),), "short", "stat"),
        PanelSpec("Discards per wall second by reason", (
            Query(_rate("qnemu_discards_total", "kind"), "{{kind}}"),), "ops"),
    )),
    ("Memory", (
        PanelSpec("Memory occupancy by node", (
            Query("qnemu_memory_slots_occupied / qnemu_memory_slots", "{{node}}"),),
            "percentunit"),
        PanelSpec("Memory age at use p99 by node (emulated)", (
            Query(_quantile(0.99, "qnemu_memory_age_at_use_seconds", "node"), "{{node}}"),),
            "s"),
        PanelSpec("Classical message latency p50 / p99 (emulated)", (
            Query(_quantile(0.5, "qnemu_classical_message_latency_seconds", ""), "p50"),
            Query(_quantile(0.99, "qnemu_classical_message_latency_seconds", ""), "p99")), "s"),
    )),
    ("Emulator health", (
        PanelSpec("Overloaded (numbers not trusted when 1)", (
            Query("qnemu_emulator_overloaded", "overloaded"),), "short", "stat"),
        PanelSpec("Lateness p99 vs tolerance (wall)", (
            Query("qnemu_emulator_lateness_p99_seconds", "p99 (window)"),
            Query("qnemu_emulator_lateness_tolerance_seconds", "tolerance")), "s"),
        PanelSpec("Lateness p99 from the histogram (wall)", (
            Query(_quantile(0.99, "qnemu_emulator_lateness_seconds", ""), "p99"),), "s"),
        PanelSpec("Emulated time", (Query("qnemu_emulated_time_seconds", "t"),), "s", "stat"),
        PanelSpec("Actors / nodes / dilation", (
            Query("qnemu_emulator_actors", "actors"), Query("qnemu_emulator_nodes", "nodes"),
            Query("qnemu_emulator_dilation", "dilation")), "short", "stat"),
        PanelSpec("Running", (Query("qnemu_emulator_running", "running"),), "short", "stat"),
    )),
)

CONTROLLERS: tuple[tuple[str, tuple[PanelSpec, ...]], ...] = (
    ("Outcome by controller", (
        PanelSpec("Pairs delivered per emulated second by controller", (
            Query(_rate("qnemu_pairs_delivered_total", "controller, tenant") + PER_EMULATED,
                  "{{controller}} {{tenant}}"),), "hertz"),
        PanelSpec("Pairs delivered by controller", (
            Query("sum by (controller) (qnemu_pairs_delivered_total)", "{{controller}}"),),
            "short", "stat"),
        PanelSpec("Mean delivered fidelity by controller (true value)", (
            Query(_mean("qnemu_delivered_fidelity", "controller"), "{{controller}}"),),
            "percentunit"),
        PanelSpec("Tenant utility by controller", (
            Query("sum by (controller) (qnemu_tenant_utility)", "{{controller}}"),), "short"),
    )),
    ("Violations by controller", (
        PanelSpec("Violations per wall second by controller and kind", (
            Query(_rate("qnemu_violations_total", "controller, kind"),
                  "{{controller}} {{kind}}"),), "ops"),
        PanelSpec("Violations so far by controller", (
            Query("sum by (controller) (qnemu_violations_total)", "{{controller}}"),),
            "short", "stat"),
    )),
    ("Control plane", (
        PanelSpec("Decision latency p50 / p99 by controller (emulated)", (
            Query(_quantile(0.5, "qnemu_controller_decision_latency_seconds", "controller"),
                  "p50 {{controller}}"),
            Query(_quantile(0.99, "qnemu_controller_decision_latency_seconds", "controller"),
                  "p99 {{controller}}")), "s"),
        PanelSpec("Decision compute time p99 by controller (wall)", (
            Query(_quantile(0.99, "qnemu_controller_compute_seconds", "controller"),
                  "{{controller}}"),), "s"),
        PanelSpec("Admission decisions by result", (
            Query("sum by (result) (qnemu_admission_decisions_total)", "{{result}}"),),
            "short", "stat"),
        PanelSpec("Q-NUM predicted utility by tenant", (
            Query("qnemu_qnum_utility", "{{controller}} {{tenant}}"),), "short"),
        PanelSpec("Q-NUM predicted rate and fidelity by tenant", (
            Query("qnemu_qnum_predicted_rate_hertz", "rate {{tenant}}"),
            Query("qnemu_qnum_predicted_fidelity", "F {{tenant}}")), "short"),
        PanelSpec("Overloaded (numbers not trusted when 1)", (
            Query("qnemu_emulator_overloaded", "overloaded"),), "short", "stat"),
    )),
)

DASHBOARDS = {
    "qnemu-overview": ("qnemu: overview", OVERVIEW),
    "qnemu-controllers": ("qnemu: controller comparison", CONTROLLERS),
}


def metrics_used(expr: str) -> set[str]:
    """The catalogue metric names a PromQL expression reads (histogram suffixes removed)."""
    found = set()
    for match in _METRIC.finditer(expr):
        name = match.group(0)
        for suffix in ("_bucket", "_count", "_sum"):
            if name.endswith(suffix) and name[: -len(suffix)] in BY_NAME:
                name = name[: -len(suffix)]
        found.add(name)
    return found


def _panel(spec: PanelSpec, datasource: DataSourceRef) -> Any:
    if spec.kind == "stat":
        builder = gstat.Panel().reduce_options(gcommon.ReduceDataOptions().calcs(["lastNotNull"]))
    else:
        builder = gtime.Panel().legend(
            gcommon.VizLegendOptions().display_mode(LegendDisplayMode.LIST)
            .placement(LegendPlacement.BOTTOM).show_legend(True))
    builder.title(spec.title).datasource(datasource).unit(spec.unit).height(8).span(8)
    if spec.description:
        builder.description(spec.description)
    for i, query in enumerate(spec.queries):
        builder.with_target(gprom.Dataquery().expr(query.expr).legend_format(query.legend)
                            .ref_id(chr(ord("A") + i)).datasource(datasource))
    return builder


def build_dashboard(uid: str) -> dict[str, Any]:
    """One dashboard as Grafana's JSON model (a plain dict)."""
    title, rows = DASHBOARDS[uid]
    datasource = DataSourceRef(type_val="prometheus", uid=DATASOURCE_UID)
    builder = (gdash.Dashboard(title).uid(uid).tags(["qnemu"]).refresh("5s")
               .time("now-15m", "now").editable())
    for row_title, panels in rows:
        builder.with_row(gdash.Row(row_title))
        for spec in panels:
            builder.with_panel(_panel(spec, datasource))
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
    return {"name": DATASOURCE_NAME, "uid": DATASOURCE_UID, "type": "prometheus",
            "access": "proxy", "url": prometheus_url, "isDefault": False,
            "jsonData": {"timeInterval": SCRAPE_INTERVAL}}


def prometheus_config(host: str = DEFAULT_HOST, port: int = DEFAULT_PORT) -> dict[str, Any]:
    """A Prometheus configuration that scrapes qnemu every second."""
    return {"global": {"scrape_interval": SCRAPE_INTERVAL, "evaluation_interval": "5s"},
            "scrape_configs": [{"job_name": "qnemu",
                                "static_configs": [{"targets": [f"{host}:{port}"]}]}]}


def export(directory: str | Path, dashboards_path: str | None = None,
           prometheus_url: str = DEFAULT_PROMETHEUS_URL) -> list[Path]:
    """Write the provisioning tree under ``directory``; returns the files written.

    ``directory/`` gets the dashboards (``*.json``), ``prometheus.yml`` and
    ``provisioning/{datasources,dashboards}/qnemu.yaml`` for Grafana's
    ``GF_PATHS_PROVISIONING``. The dashboard provider points at ``dashboards_path``
    (default: ``directory`` made absolute).
    """
    root = Path(directory)
    path = dashboards_path or str(root.resolve())
    files = {
        "provisioning/datasources/qnemu.yaml": _yaml(
            {"apiVersion": 1, "datasources": [datasource_config(prometheus_url)]}),
        "provisioning/dashboards/qnemu.yaml": _yaml({"apiVersion": 1, "providers": [{
            "name": "qnemu", "folder": FOLDER, "type": "file", "disableDeletion": False,
            "allowUiUpdates": True, "updateIntervalSeconds": 10,
            "options": {"path": path, "foldersFromFilesStructure": False}}]}),
        "prometheus.yml": _yaml(prometheus_config()),
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
