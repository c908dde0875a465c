"""The shipped dashboards/ tree: reproducible from code, queries only catalogue metrics."""

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from qnemu.telemetry import dashboards
from qnemu.telemetry.catalog import BY_NAME
from qnemu.telemetry.cli import dashboards_app

SHIPPED = Path(__file__).resolve().parents[2] / "dashboards"


def shipped_queries():
    return [(path.name, title, expr) for path in sorted(SHIPPED.glob("*.json"))
            for title, expr in dashboards.panel_queries(json.loads(path.read_text()))]


def test_the_shipped_tree_is_what_the_generator_writes(tmp_path):
    dashboards.export_repository(tmp_path)
    generated = {p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()}
    for name in generated:
        assert (SHIPPED / name).read_text() == (tmp_path / name).read_text(), (
            f"dashboards/{name} is stale: run "
            "python -c 'from qnemu.telemetry.dashboards import export_repository as e; "
            "e(\"dashboards\")'")


def test_both_views_exist_and_every_query_reads_catalogue_metrics():
    names = {path.stem for path in SHIPPED.glob("*.json")}
    assert names == {"qnemu-overview", "qnemu-controllers"}
    queries = shipped_queries()
    assert len(queries) > 25
    for _, title, expr in queries:
        used = dashboards.metrics_used(expr)
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
