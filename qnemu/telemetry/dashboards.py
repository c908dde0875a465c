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
from grafana_foundation_sdk.models import dashboard as gmodel
from grafana_foundation_sdk.models.common import (
    BigValueColorMode,
    LegendDisplayMode,
    LegendPlacement,
)
from grafana_foundation_sdk.models.dashboard import DataSourceRef

from qnemu.telemetry.catalog import BY_NAME, PHASES
from qnemu.telemetry.collector import TelemetryError
from qnemu.telemetry.endpoints import DEFAULT_HOST, DEFAULT_PORT, DEFAULT_PROMETHEUS_URL

DATASOURCE_UID = "qnemu-prometheus"
DATASOURCE_NAME = "qnemu Prometheus"
FOLDER = "qnemu"
SCRAPE_INTERVAL = "1s"
RATE = "$__rate_interval"  # Grafana's rate window; tests substitute a real one
DASHBOARDS_ENV = "QNEMU_DASHBOARDS_DIR"  # where the shipped provider looks for the JSON
_METRIC = re.compile(r"\b(qnemu_[a-z0-9_]+?)(?:_bucket|_count|_sum)?\b")


@dataclass(frozen=True)
class Query:
    """One PromQL expression and its legend; ``floor`` draws it as a dashed red limit line."""

    expr: str
    legend: str = ""
    floor: bool = False


@dataclass(frozen=True)
class PanelSpec:
    """One panel: a time series or a single stat, its unit and its axis range.

    ``alarm``: values of 1 and more are red (overload, violations). ``names``: value
    mappings, a number shown as a word (the phase panel's 0, 1, 2).
    """

    title: str
    queries: tuple[Query, ...]
    unit: str = "short"
    kind: str = "timeseries"
    description: str = ""
    low: float | None = None
    high: float | None = None
    decimals: int | None = None
    alarm: bool = False
    names: dict[int, str] | None = None


def metrics_used(expr: str) -> set[str]:
    """The catalog metric names a PromQL expression reads (histogram suffixes removed)."""
    found = set()
    for match in _METRIC.finditer(expr):
        name = match.group(0)
        for suffix in ("_bucket", "_count", "_sum"):
            if name.endswith(suffix) and name[: -len(suffix)] in BY_NAME:
                name = name[: -len(suffix)]
        found.add(name)
    return found


# Template variables: Grafana's label_values() of a metric that has the label from the start.
VARIABLES: dict[str, tuple[str, str]] = {
    "run": ("Run", "label_values(qnemu_emulator_phase, run)"),
    "tenant": ("Tenant", 'label_values(qnemu_tenant_min_fidelity{run=~"$run"}, tenant)'),
    "controller": (
        "Controller",
        'label_values(qnemu_pairs_delivered_total{run=~"$run"}, controller)',
    ),
    "node": ("Node", 'label_values(qnemu_memory_slots{run=~"$run"}, node)'),
}
ALL = ".*"  # a variable's "All": every value (and a series without the label, as "")


def sel(metric: str, **fixed: str) -> str:
    """``metric{run=~"$run",...}``: filtered by every variable whose label it has, and
    by the ``fixed`` label values.

    ``metric`` may end in ``_bucket``, ``_sum`` or ``_count`` (a histogram's parts).
    """
    base = next(iter(metrics_used(metric)))
    labels = [f'{label}=~"${label}"' for label in BY_NAME[base].series_labels if label in VARIABLES]
    labels += [f'{label}="{value}"' for label, value in fixed.items()]
    return metric + "{" + ",".join(labels) + "}"


def _rate(metric: str, by: str) -> str:
    return f"sum by ({by}) (rate({sel(metric)}[{RATE}]))"


def _quantile(q: float, metric: str, by: str) -> str:
    keep = f"{by}, le" if by else "le"
    return f"histogram_quantile({q}, sum by ({keep}) (rate({sel(metric + '_bucket')}[{RATE}])))"


def _mean(metric: str, by: str) -> str:
    return (
        f"sum by ({by}) (rate({sel(metric + '_sum')}[{RATE}])) / "
        f"sum by ({by}) (rate({sel(metric + '_count')}[{RATE}]))"
    )


def _per_emulated(metric: str, by: str) -> str:
    """Rate per emulated second: each run's wall rate times that run's dilation.

    Several runs may be in one Prometheus (a comparison), each with its own dilation, so
    the product is taken per ``run`` before summing ``by``.
    """
    return (
        f"sum by ({by}) (sum by (run, {by}) (rate({sel(metric)}[{RATE}])) "
        f"* on (run) group_left () max by (run) ({sel('qnemu_emulator_dilation')}))"
    )


def _floor() -> Query:
    """Each tenant's f_min, drawn as a dashed line on the fidelity panels."""
    return Query(
        f"max by (tenant) ({sel('qnemu_tenant_min_fidelity')})", "f_min {{tenant}}", floor=True
    )


FIDELITY: dict[str, Any] = {"unit": "none", "high": 1.0, "decimals": 3}  # 0-1, never %
# The phase as one number per run (0, 1, 2), so that the last value of the series is the
# phase now, even after the run's endpoint stopped; value mappings name it.
PHASE = PanelSpec(
    "Run phase",
    (
        Query(
            f"max by (run) ({sel('qnemu_emulator_phase', phase='running')}) + 2 * "
            f"max by (run) ({sel('qnemu_emulator_phase', phase='finished')})",
            "{{run}}",
        ),
    ),
    "none",
    "stat",
    names=dict(enumerate(PHASES)),
    description="starting: Ray and the node actors are coming up and every figure is "
    "still 0; running; finished: the values are final.",
)
OVERLOADED = PanelSpec(
    "Overloaded (numbers not trusted when 1)",
    (Query(f"max by (run) ({sel('qnemu_emulator_overloaded')})", "{{run}}"),),
    "none",
    "stat",
    alarm=True,
)

OVERVIEW: tuple[tuple[str, tuple[PanelSpec, ...]], ...] = (
    (
        "Throughput",
        (
            PanelSpec(
                "Pairs delivered per emulated second",
                (Query(_per_emulated("qnemu_pairs_delivered_total", "tenant"), "{{tenant}}"),),
                "hertz",
                description="End-to-end pairs per emulated second, per tenant.",
            ),
            PanelSpec(
                "Pairs delivered per wall second",
                (Query(_rate("qnemu_pairs_delivered_total", "tenant"), "{{tenant}}"),),
                "hertz",
            ),
            PanelSpec(
                "Link pairs heralded per emulated second",
                (Query(_per_emulated("qnemu_pairs_generated_total", "link"), "{{link}}"),),
                "hertz",
            ),
            PanelSpec(
                "Swaps per wall second by result",
                (Query(_rate("qnemu_swaps_total", "result"), "{{result}}"),),
                "ops",
            ),
            PanelSpec(
                "Purifications per wall second by result",
                (Query(_rate("qnemu_purifications_total", "result"), "{{result}}"),),
                "ops",
            ),
            PHASE,
        ),
    ),
    (
        "Faults and recovery",
        (
            PanelSpec(
                "Faults in effect",
                (Query(f"sum({sel('qnemu_faults_active')})", "active faults"),),
                "short",
                description="Links down, nodes crashed, controllers stopped, lossy links and "
                "degraded memories in effect now (scenario faults: and console actions). Read "
                "it against the delivered rate above.",
                low=0,
                alarm=True,
            ),
            PanelSpec(
                "Faults and detections",
                (
                    Query(f"sum by (kind) ({sel('qnemu_faults_total')})", "{{kind}}"),
                    Query(f"sum({sel('qnemu_fault_detections_total')})", "detections"),
                    Query(f"sum({sel('qnemu_reroutes_total')})", "re-routes"),
                ),
                "short",
            ),
            PanelSpec(
                "Recovery time p50 / mean (emulated)",
                (
                    Query(
                        "histogram_quantile(0.5, sum by (kind, le) "
                        f"({sel('qnemu_recovery_seconds_bucket')}))",
                        "p50 {{kind}}",
                    ),
                    Query(
                        f"sum by (kind) ({sel('qnemu_recovery_seconds_sum')}) / "
                        f"sum by (kind) ({sel('qnemu_recovery_seconds_count')})",
                        "mean {{kind}}",
                    ),
                ),
                "s",
                description="From a fault to the first delivery, to every tenant it hit, of a "
                "pair made after it.",
            ),
        ),
    ),
    (
        "Quality (ground truth, oracle)",
        (
            PanelSpec(
                "Delivered fidelity, mean (true value)",
                (Query(_mean("qnemu_delivered_fidelity", "tenant"), "{{tenant}}"), _floor()),
                **FIDELITY,
                description="Ground truth read by the oracle; nodes and controllers never see "
                "it. Dashed: the tenant's f_min.",
            ),
            PanelSpec(
                "Delivered fidelity, 10th percentile (true value)",
                (
                    Query(_quantile(0.1, "qnemu_delivered_fidelity", "tenant"), "{{tenant}}"),
                    _floor(),
                ),
                **FIDELITY,
            ),
            PanelSpec(
                "End-to-end latency p50 / p99 (emulated)",
                (
                    Query(
                        _quantile(0.5, "qnemu_delivered_latency_seconds", "tenant"),
                        "p50 {{tenant}}",
                    ),
                    Query(
                        _quantile(0.99, "qnemu_delivered_latency_seconds", "tenant"),
                        "p99 {{tenant}}",
                    ),
                ),
                "s",
            ),
            PanelSpec(
                "Tenant utility U = R·q(F)",
                (Query(f"max by (tenant) ({sel('qnemu_tenant_utility')})", "{{tenant}}"),),
                "short",
            ),
        ),
    ),
    (
        "Latency-coherence violations",
        (
            PanelSpec(
                "Violations per wall second by kind",
                (Query(_rate("qnemu_violations_total", "kind"), "{{kind}}"),),
                "ops",
                alarm=True,
            ),
            PanelSpec(
                "Violations by node",
                (Query(f"sum by (node) ({sel('qnemu_violations_total')})", "{{node}}"),),
                "short",
                alarm=True,
            ),
            PanelSpec(
                "Violations so far by kind",
                (Query(f"sum by (kind) ({sel('qnemu_violations_total')})", "{{kind}}"),),
                "none",
                "stat",
                alarm=True,
            ),
            PanelSpec(
                "Discards per wall second by reason",
                (Query(_rate("qnemu_discards_total", "kind"), "{{kind}}"),),
                "ops",
            ),
        ),
    ),
    (
        "Memory",
        (
            PanelSpec(
                "Memory occupancy by node",
                (
                    Query(
                        # per run: runs of one comparison reuse node names
                        f"sum by (run, node) ({sel('qnemu_memory_slots_occupied')}) / "
                        f"sum by (run, node) ({sel('qnemu_memory_slots')})",
                        "{{node}} {{run}}",
                    ),
                ),
                "percentunit",
                low=0.0,
                high=1.0,
            ),
            PanelSpec(
                "Memory age at use p99 by node (emulated)",
                (Query(_quantile(0.99, "qnemu_memory_age_at_use_seconds", "node"), "{{node}}"),),
                "s",
            ),
            PanelSpec(
                "Classical message latency p50 / p99 (emulated)",
                (
                    Query(_quantile(0.5, "qnemu_classical_message_latency_seconds", ""), "p50"),
                    Query(_quantile(0.99, "qnemu_classical_message_latency_seconds", ""), "p99"),
                ),
                "s",
            ),
        ),
    ),
    (
        "Emulator health",
        (
            OVERLOADED,
            PanelSpec(
                "Lateness p99 vs tolerance (wall)",
                (
                    Query(
                        f"max by (run) ({sel('qnemu_emulator_lateness_p99_seconds')})",
                        "p99 (window) {{run}}",
                    ),
                    Query(
                        f"max by (run) ({sel('qnemu_emulator_lateness_tolerance_seconds')})",
                        "tolerance {{run}}",
                        floor=True,
                    ),
                ),
                "s",
            ),
            PanelSpec(
                "Lateness p99 from the histogram (wall)",
                (Query(_quantile(0.99, "qnemu_emulator_lateness_seconds", "run"), "p99 {{run}}"),),
                "s",
            ),
            PanelSpec(
                "Emulated time",
                (Query(f"max by (run) ({sel('qnemu_emulated_time_seconds')})", "{{run}}"),),
                "s",
                "stat",
            ),
            PanelSpec(
                "Actors / nodes / dilation",
                (
                    Query(f"max by (run) ({sel('qnemu_emulator_actors')})", "actors {{run}}"),
                    Query(f"max by (run) ({sel('qnemu_emulator_nodes')})", "nodes {{run}}"),
                    Query(f"max by (run) ({sel('qnemu_emulator_dilation')})", "dilation {{run}}"),
                ),
                "none",
                "stat",
            ),
        ),
    ),
)

CONTROLLERS: tuple[tuple[str, tuple[PanelSpec, ...]], ...] = (
    (
        "Outcome by controller",
        (
            PanelSpec(
                "Pairs delivered per emulated second by controller",
                (
                    Query(
                        _per_emulated("qnemu_pairs_delivered_total", "controller, tenant"),
                        "{{controller}} {{tenant}}",
                    ),
                ),
                "hertz",
            ),
            PanelSpec(
                "Pairs delivered by controller",
                (
                    Query(
                        f"sum by (controller) ({sel('qnemu_pairs_delivered_total')})",
                        "{{controller}}",
                    ),
                ),
                "none",
                "stat",
            ),
            PanelSpec(
                "Mean delivered fidelity by controller (true value)",
                (
                    Query(
                        _mean("qnemu_delivered_fidelity", "controller, tenant"),
                        "{{controller}} {{tenant}}",
                    ),
                    _floor(),
                ),
                **FIDELITY,
                description="Dashed: the tenant's f_min.",
            ),
            PanelSpec(
                "Tenant utility by controller",
                (Query(f"sum by (controller) ({sel('qnemu_tenant_utility')})", "{{controller}}"),),
                "short",
            ),
            PHASE,
        ),
    ),
    (
        "Violations by controller",
        (
            PanelSpec(
                "Violations per wall second by controller and kind",
                (
                    Query(
                        _rate("qnemu_violations_total", "controller, kind"),
                        "{{controller}} {{kind}}",
                    ),
                ),
                "ops",
                alarm=True,
            ),
            PanelSpec(
                "Violations so far by controller",
                (
                    Query(
                        f"sum by (controller) ({sel('qnemu_violations_total')})", "{{controller}}"
                    ),
                ),
                "none",
                "stat",
                alarm=True,
            ),
            PanelSpec(
                "Violations so far by controller site",
                (
                    Query(
                        f"sum by (controller, site) ({sel('qnemu_violations_total')})", "{{site}}"
                    ),
                ),
                "short",
                alarm=True,
                description="site: the controller instance serving the node that violated.",
            ),
        ),
    ),
    (
        "Control plane",
        (
            PanelSpec(
                "Decision latency p50 / p99 by controller (emulated)",
                (
                    Query(
                        _quantile(0.5, "qnemu_controller_decision_latency_seconds", "controller"),
                        "p50 {{controller}}",
                    ),
                    Query(
                        _quantile(0.99, "qnemu_controller_decision_latency_seconds", "controller"),
                        "p99 {{controller}}",
                    ),
                ),
                "s",
            ),
            PanelSpec(
                "Decision compute time p99 by controller (wall)",
                (
                    Query(
                        _quantile(0.99, "qnemu_controller_compute_seconds", "controller"),
                        "{{controller}}",
                    ),
                ),
                "s",
            ),
            PanelSpec(
                "Admission decisions by result",
                (
                    Query(
                        f"sum by (result) ({sel('qnemu_admission_decisions_total')})", "{{result}}"
                    ),
                ),
                "none",
                "stat",
            ),
            PanelSpec(
                "Q-NUM predicted utility by tenant",
                (
                    Query(
                        f"max by (controller, tenant) ({sel('qnemu_qnum_utility')})",
                        "{{controller}} {{tenant}}",
                    ),
                ),
                "short",
            ),
            PanelSpec(
                "Q-NUM predicted rate by tenant (per emulated second)",
                (
                    Query(
                        f"max by (controller, tenant) ({sel('qnemu_qnum_predicted_rate_hertz')})",
                        "{{controller}} {{tenant}}",
                    ),
                ),
                "hertz",
            ),
            PanelSpec(
                "Q-NUM predicted fidelity by tenant",
                (
                    Query(
                        f"max by (controller, tenant) ({sel('qnemu_qnum_predicted_fidelity')})",
                        "{{controller}} {{tenant}}",
                    ),
                    _floor(),
                ),
                **FIDELITY,
                description="Dashed: the tenant's f_min.",
            ),
            OVERLOADED,
        ),
    ),
)

DASHBOARDS = {
    "qnemu-overview": ("qnemu: overview", OVERVIEW),
    "qnemu-controllers": ("qnemu: controller comparison", CONTROLLERS),
}
TIME_RANGE = ("now-5m", "now")  # a run lasts seconds to minutes
REFRESH = "5s"


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
