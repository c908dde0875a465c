"""A real Prometheus server scrapes a real Ray run: live counters, panels, final equality.

Prometheus is the Debian package (scripts/setup installs it); it runs on loopback with a
temporary config and storage, scraping the collector actor every second.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from qnemu.emulation import Emulation
from qnemu.telemetry import dashboards, start_telemetry
from qnemu.telemetry.snapshot import fill_variables

# In CI (CI=true) a missing binary is a failure, not a skip: scripts/test installs it.
pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(
        shutil.which("prometheus") is None and not os.environ.get("CI"),
        reason="prometheus binary not installed (Debian package prometheus; scripts/setup)",
    ),
]

SHIPPED = Path(__file__).resolve().parents[2] / "dashboards"
RATE_WINDOW = "5s"  # what Grafana's $__rate_interval becomes at a 1 s scrape interval


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Prometheus:
    """A Prometheus server on loopback scraping one target every second."""

    def __init__(self, tmp_path, target_port):
        self.port = free_port()
        config = dashboards.prometheus_config("127.0.0.1", target_port)
        config["global"]["scrape_timeout"] = "1s"
        (tmp_path / "prometheus.yml").write_text(json.dumps(config))  # JSON is YAML
        self.process = subprocess.Popen(
            [
                "prometheus",
                f"--config.file={tmp_path / 'prometheus.yml'}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"{self.base}/-/ready", timeout=1):
                    break
            except OSError:
                assert self.process.poll() is None, "prometheus exited at start"
                assert time.monotonic() < deadline, "prometheus did not get ready"
                time.sleep(0.2)

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def query(self, expr, at=None):
        params = {"query": expr}
        if at is not None:
            params["time"] = f"{at:.3f}"
        url = f"{self.base}/api/v1/query?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return answer["data"]["result"]

    def label_values(self, query, chosen):
        """Grafana's ``label_values(selector, label)`` as Prometheus' label values API."""
        selector, label = query.removeprefix("label_values(").removesuffix(")").rsplit(",", 1)
        params = {"match[]": fill_variables(selector.strip(), chosen)}
        url = f"{self.base}/api/v1/label/{label.strip()}/values?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=5) as response:
            answer = json.load(response)
        assert answer["status"] == "success", answer
        return sorted(answer["data"])

    def value(self, expr, at=None):
        result = self.query(expr, at)
        return float(result[0]["value"][1]) if result else None

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def live_run(ray_local, tmp_path_factory, request, make_chain):
    """A 5-node chain, short T2, about 10 s of wall time, watched by Prometheus: a QKD
    tenant end to end, and one-hop QKD and teleportation tenants that feed the
    application row steadily (2,000 requests per emulated second each)."""
    tmp = tmp_path_factory.mktemp("live")
    steady = {"f_min": 0.5, "rate_hz": 2000, "arrivals": "constant"}
    scenario = make_chain(
        5,
        t2_s=0.002,
        f_min=0.8,
        duration_s=0.05,
        dilation=200,
        cutoff_s=0.0002,
        more_tenants=[
            {"name": "k", "app": "qkd", "src": "n1", "dst": "n2", **steady},
            {"name": "d", "app": "teleport", "src": "n2", "dst": "n3", **steady},
        ],
    )
    sink = start_telemetry(port=0, linger_s=3.0)
    prometheus = Prometheus(tmp, sink.port)
    request.addfinalizer(prometheus.stop)
    polls, phases, done = [], [], threading.Event()

    def poll():  # the live view: what Prometheus holds while the run goes
        while not done.is_set():
            events = prometheus.value("sum(qnemu_events_total)")
            running = prometheus.value("qnemu_emulator_running")
            polls.append((time.time(), running, events))
            phases.extend(
                r["metric"]["phase"] for r in prometheus.query("qnemu_emulator_phase == 1")
            )
            time.sleep(0.5)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    summary = Emulation(scenario, results_dir=tmp / "runs", telemetry=sink).run()
    done.set()
    poller.join(timeout=10)
    prometheus.phases_seen = set(phases)
    return prometheus, summary, polls


@pytest.fixture(scope="module")
def chosen(live_run):
    """Template variable values one would pick for this run: its name, tenant, ..."""
    _, summary, _ = live_run
    return {
        "run": [Path(summary["results"]).name],
        "tenant": ["d", "k", "t"],
        "controller": ["distributed"],
        "node": ["n2"],
    }


def shipped_dashboards():
    return [(path.name, json.loads(path.read_text())) for path in sorted(SHIPPED.glob("*.json"))]


def test_counters_rise_during_the_run(live_run):
    _, _, polls = live_run
    during = [(t, events) for t, running, events in polls if running == 1 and events]
    assert len(during) >= 2, polls
    assert during[-1][0] - during[0][0] >= 2  # scrapes seconds apart, not one at the end
    assert during[-1][1] > during[0][1]


@pytest.mark.parametrize("pick", ["all", "one"])
def test_every_panel_query_returns_data(live_run, chosen, pick):
    """With every variable at All, and with one value of each picked, as a user would."""
    prometheus, _, polls = live_run
    at = max(t for t, running, _ in polls if running == 1)  # live, mid-window
    values = chosen if pick == "one" else {}
    empty = []
    for name, dashboard in shipped_dashboards():
        for title, expr in dashboards.panel_queries(dashboard):
            expr = fill_variables(expr, values, RATE_WINDOW)
            if not prometheus.query(expr, at):
                empty.append(f"{name}: {title}: {expr}")
    assert not empty, "\n".join(empty)


def test_template_variables_offer_the_runs_values(live_run, chosen):
    prometheus, _, _ = live_run
    expected = {**chosen, "node": [f"n{i}" for i in range(5)]}
    for name, dashboard in shipped_dashboards():
        variables = dashboard["templating"]["list"]
        assert {v["name"] for v in variables} >= {"run", "tenant", "controller"}, name
        for variable in variables:
            assert variable["includeAll"] and variable["allValue"] == ".*"
            found = prometheus.label_values(variable["query"], {"run": chosen["run"]})
            assert found == expected[variable["name"]], (name, variable["query"])


def test_one_controller_value_and_every_series_names_the_run(live_run, chosen):
    prometheus, _, polls = live_run
    at = max(t for t, running, _ in polls if running == 1)
    series = prometheus.query('{__name__=~"qnemu_.+"}', at)
    assert {s["metric"].get("run") for s in series} == set(chosen["run"])
    assert {s["metric"]["controller"] for s in series if "controller" in s["metric"]} == {
        "distributed"
    }
    sites = {s["metric"]["site"] for s in series if "site" in s["metric"]}
    assert sites == {f"distributed@n{i}" for i in range(5)}


def test_the_phase_runs_then_finishes(live_run):
    prometheus, _, polls = live_run
    assert "running" in prometheus.phases_seen  # seen live, while the run went
    final = [t for t, running, _ in polls if running == 0][-1]
    assert {r["metric"]["phase"] for r in prometheus.query("qnemu_emulator_phase == 1", final)} == {
        "finished"
    }


def test_snapshot_draws_both_dashboards_from_prometheus(live_run, chosen, tmp_path):
    """The real CLI, in a subprocess, against the Prometheus that scraped the run."""
    prometheus, _, _ = live_run
    out = tmp_path / "snapshots"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "qnemu",
            "dashboards",
            "snapshot",
            str(out),
            "--prometheus-url",
            prometheus.base,
            "--last",
            "120",
            "--run",
            chosen["run"][0],
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    written = sorted(out.glob("*.png"))
    assert [p.name for p in written] == ["qnemu-controllers.png", "qnemu-overview.png"]
    assert done.stdout.split() == [
        str(p) for p in sorted(written, key=lambda p: p.name != "qnemu-overview.png")
    ]
    import matplotlib.image

    for path in written:
        image = matplotlib.image.imread(path)
        assert image.shape[0] > 600 and image.shape[1] > 1000  # panels, not an empty canvas
        assert image[..., :3].std() > 0.05


def test_final_counters_equal_the_summary(live_run):
    prometheus, summary, polls = live_run
    final = [t for t, running, _ in polls if running == 0]
    assert final, "no scrape during the linger"
    at = final[-1]
    delivered = {
        r["metric"]["tenant"]: float(r["value"][1])
        for r in prometheus.query("sum by (tenant) (qnemu_pairs_delivered_total)", at)
    }
    assert delivered == {t: row["pairs_delivered"] for t, row in summary["tenants"].items()}
    violations = {
        r["metric"]["kind"]: float(r["value"][1])
        for r in prometheus.query("sum by (kind) (qnemu_violations_total)", at)
    }
    assert violations == summary["violations"]
    assert violations["cutoff_expired"] > 0
    counts = {
        r["metric"]["kind"]: float(r["value"][1])
        for r in prometheus.query("qnemu_events_total", at)
    }
    assert counts == summary["counts"]
    assert prometheus.value("qnemu_emulator_overloaded", at) == float(
        summary["emulator"]["overloaded"]
    )
    cpu = {
        r["metric"]["kind"]: float(r["value"][1])
        for r in prometheus.query("sum by (kind) (qnemu_emulator_actor_cpu_seconds_total)", at)
    }
    assert set(cpu) == {"events", "frames", "loop"} and cpu["events"] > 0
    assert sum(cpu.values()) == pytest.approx(summary["emulator"]["actor_cpu_s"], abs=0.01)
