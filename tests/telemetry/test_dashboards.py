"""The shipped dashboards/ tree: reproducible from code, queries only catalog metrics."""

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from qnemu.telemetry import dashboards
from qnemu.telemetry.catalog import BY_NAME
from qnemu.telemetry.cli import dashboards_app
from qnemu.telemetry.panels import metrics_used

SHIPPED = Path(__file__).resolve().parents[2] / "dashboards"


def shipped_queries():
    return [
        (path.name, title, expr)
        for path in sorted(SHIPPED.glob("*.json"))
        for title, expr in dashboards.panel_queries(json.loads(path.read_text()))
    ]


def test_the_shipped_tree_is_what_the_generator_writes(tmp_path):
    dashboards.export_repository(tmp_path)
    generated = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    for name in generated:
        assert (SHIPPED / name).read_text() == (tmp_path / name).read_text(), (
            f"dashboards/{name} is stale: run "
            "python -c 'from qnemu.telemetry.dashboards import export_repository as e; "
            'e("dashboards")\''
        )


def test_both_views_exist_and_every_query_reads_catalog_metrics():
    names = {path.stem for path in SHIPPED.glob("*.json")}
    assert names == {"qnemu-overview", "qnemu-controllers"}
    queries = shipped_queries()
    assert len(queries) > 25
    for _, title, expr in queries:
        used = metrics_used(expr)
        assert used and used <= set(BY_NAME), (title, expr)


def test_provisioning_points_grafana_at_prometheus_and_prometheus_at_qnemu():
    source = yaml.safe_load((SHIPPED / "provisioning/datasources/qnemu.yaml").read_text())
    assert source["datasources"][0]["uid"] == dashboards.DATASOURCE_UID
    provider = yaml.safe_load((SHIPPED / "provisioning/dashboards/qnemu.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == "$QNEMU_DASHBOARDS_DIR"
    config = yaml.safe_load((SHIPPED / "prometheus.yml").read_text())
    assert config["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9300"]


def test_export_command_writes_the_provisioning_tree(tmp_path):
    result = CliRunner().invoke(dashboards_app, ["export", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    out = tmp_path / "out"
    assert (out / "qnemu-overview.json").is_file()
    provider = yaml.safe_load((out / "provisioning/dashboards/qnemu.yaml").read_text())
    assert provider["providers"][0]["options"]["path"] == str(out.resolve())


def test_export_to_an_unwritable_place_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(dashboards_app, ["export", str(blocker / "sub")])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and result.output.startswith("error: ")


def panels(uid):
    return [p for p in dashboards.build_dashboard(uid)["panels"] if p["type"] != "row"]


def by_title(uid, title):
    return next(p for p in panels(uid) if p["title"] == title)


def test_dashboards_filter_by_run_tenant_controller_and_node():
    for uid in dashboards.DASHBOARDS:
        board = dashboards.build_dashboard(uid)
        names = [v["name"] for v in board["templating"]["list"]]
        assert names[:3] == ["run", "tenant", "controller"], uid
        assert board["time"] == {"from": "now-5m", "to": "now"} and board["refresh"] == "5s"
        ids = [p["id"] for p in board["panels"]]
        assert len(set(ids)) == len(ids) and all(i > 0 for i in ids)
        for _, expr in dashboards.panel_queries(board):
            assert 'run=~"$run"' in expr, expr  # every query follows the run chosen
    assert "node" in [
        v["name"] for v in dashboards.build_dashboard("qnemu-overview")["templating"]["list"]
    ]


def test_fidelity_is_a_0_to_1_number_with_each_tenants_f_min_dashed():
    for uid, title in (
        ("qnemu-overview", "Delivered fidelity, mean (true value)"),
        ("qnemu-controllers", "Q-NUM predicted fidelity by tenant"),
    ):
        panel = by_title(uid, title)
        assert panel["fieldConfig"]["defaults"]["unit"] == "none"
        assert panel["fieldConfig"]["defaults"]["max"] == 1
        floor = [t for t in panel["targets"] if "qnemu_tenant_min_fidelity" in t["expr"]]
        assert len(floor) == 1
        (override,) = panel["fieldConfig"]["overrides"]
        assert override["matcher"] == {"id": "byFrameRefID", "options": floor[0]["refId"]}
    assert not any(
        p["fieldConfig"]["defaults"].get("unit") == "percentunit"
        for uid in dashboards.DASHBOARDS
        for p in panels(uid)
        if "fidelity" in p["title"].lower()
    )


def test_predicted_rate_and_fidelity_are_separate_panels():
    rate = by_title("qnemu-controllers", "Q-NUM predicted rate by tenant (per emulated second)")
    assert rate["fieldConfig"]["defaults"]["unit"] == "hertz"
    assert all("fidelity" not in t["expr"] for t in rate["targets"])


def test_overload_and_violations_turn_red():
    for uid in dashboards.DASHBOARDS:
        alarms = [
            p
            for p in panels(uid)
            if "Overloaded" in p["title"] or p["title"].startswith("Violations")
        ]
        assert alarms, uid
        for panel in alarms:
            steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
            assert steps[-1] == {"value": 1, "color": "red"}, panel["title"]


def test_export_scrapes_the_chosen_metrics_port(tmp_path):
    result = CliRunner().invoke(dashboards_app, ["export", str(tmp_path), "--metrics-port", "9411"])
    assert result.exit_code == 0, result.output
    config = yaml.safe_load((tmp_path / "prometheus.yml").read_text())
    assert config["scrape_configs"][0]["static_configs"][0]["targets"] == ["127.0.0.1:9411"]


def test_export_refuses_port_0_which_prometheus_cannot_scrape(tmp_path):
    result = CliRunner().invoke(dashboards_app, ["export", str(tmp_path), "--metrics-port", "0"])
    assert result.exit_code == 2
    assert result.output.startswith("error: --metrics-port") and result.output.count("\n") == 1
    assert not (tmp_path / "prometheus.yml").exists()
