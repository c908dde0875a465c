"""What each dashboard shows: its rows of panels, their PromQL queries and the template
variables that filter them (``run``, ``tenant``, ``controller``, ``node``).

Rates in Prometheus are per **wall** second; panels that say "per emulated second"
multiply each run's rate by its ``qnemu_emulator_dilation`` (wall seconds per emulated
second). Every query uses only metrics of :data:`qnemu.telemetry.catalog.CATALOG`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qnemu.telemetry.catalog import BY_NAME, PHASES

RATE = "$__rate_interval"  # Grafana's rate window; tests substitute a real one
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
        "Applications",
        (
            PanelSpec(
                "QKD QBER by basis (measured)",
                (
                    Query(
                        f"max by (tenant, basis) ({sel('qnemu_qkd_qber')})",
                        "{{tenant}} {{basis}}",
                    ),
                ),
                "percentunit",
                description="Error rate of the sifted key bits so far, measured by the two "
                "ends (not the oracle). For Werner pairs of fidelity F both bases read "
                "2(1-F)/3; above ~11% no key is left.",
                low=0,
                decimals=3,
            ),
            PanelSpec(
                "QKD secret key rate (bits per emulated second)",
                (
                    Query(
                        f"max by (tenant) ({sel('qnemu_qkd_secret_key_rate_bps')})",
                        "{{tenant}}",
                    ),
                ),
                "bps",
                description="Sifted rate times the Shor-Preskill fraction 1 - h(e_x) - h(e_z) "
                "from the measured QBERs (asymptotic).",
                low=0,
            ),
            PanelSpec(
                "Application fidelity, mean (oracle)",
                (Query(_mean("qnemu_app_fidelity", "tenant, app"), "{{tenant}} {{app}}"),),
                **FIDELITY,
                description="What the applications got: a teleported qubit's fidelity to its "
                "input, a remote CNOT's average gate fidelity, a fused GHZ state's fidelity.",
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
                "Actor CPU by use (cores)",
                (Query(_rate("qnemu_emulator_actor_cpu_seconds_total", "kind"), "{{kind}}"),),
                "none",
                description="Cores the node actors' event loops use: events (node and "
                "controller logic), frames (messages and hand-overs from other actors), loop "
                "(waking up on time, sockets). A large loop share is the cost of idling "
                "between events; events and frames that fill the cores call for a higher "
                "dilation or more cores.",
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
