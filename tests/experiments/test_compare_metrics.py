"""``qnemu compare --metrics-port``: one endpoint serves every run, scraped by a real Prometheus.

The real CLI runs in a subprocess on real Ray actors; a real Prometheus server scrapes the
port it was given; afterwards Prometheus holds each run under its own ``run`` label with one
``controller`` value, and the counters equal each run's summary.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from qnemu.telemetry.dashboards import prometheus_config

pytestmark = [
    pytest.mark.ray,
    pytest.mark.skipif(
        shutil.which("prometheus") is None and not os.environ.get("CI"),
        reason="prometheus binary not installed (Debian package prometheus; scripts/setup)",
    ),
]

CONTROLLERS = ("distributed", "centralized")


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def qnemu(*args, timeout=400):
    """``python -m qnemu ARGS`` in a subprocess (the real CLI)."""
    return subprocess.run(
        [sys.executable, "-m", "qnemu", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def query(base, expr):
    url = f"{base}/api/v1/query?{urllib.parse.urlencode({'query': expr})}"
    with urllib.request.urlopen(url, timeout=5) as response:
        answer = json.load(response)
    assert answer["status"] == "success", answer
    return answer["data"]["result"]


@pytest.fixture
def prometheus(tmp_path):
    """A Prometheus on loopback scraping a port chosen now (before the comparison binds it)."""
    target, port = free_port(), free_port()
    config = prometheus_config("127.0.0.1", target)
    config["global"]["scrape_timeout"] = "1s"
    (tmp_path / "prometheus.yml").write_text(json.dumps(config))
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--log.level=warn",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/-/ready", timeout=1):
                break
        except OSError:
            assert process.poll() is None, "prometheus exited at start"
            assert time.monotonic() < deadline, "prometheus did not get ready"
            time.sleep(0.2)
    yield base, target
    process.terminate()
    process.wait(timeout=10)


def test_compare_serves_every_run_side_by_side(prometheus, tmp_path):
    base, target = prometheus
    scenario = {
        "name": "pair",
        "seed": 4,
        "duration_s": 0.05,
        "dilation": 100,
        "topology": {
            "generator": "chain",
            "n": 3,
            "hop_km": 10,
            "hardware": "trapped_ion",
            "memories": 4,
        },
        "tenants": [
            {"name": "t", "app": "dqc", "src": "n0", "dst": "n2", "rate_hz": 100, "f_min": 0.6}
        ],
    }
    path = tmp_path / "pair.yaml"
    path.write_text(yaml.safe_dump(scenario))
    done = qnemu(
        "compare",
        path,
        "--controllers",
        ",".join(CONTROLLERS),
        "--repeats",
        1,
        "--results",
        tmp_path / "runs",
        "--metrics-port",
        target,
        "--metrics-linger",
        3,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"metrics: http://127.0.0.1:{target}/metrics" in done.stdout
    folder = Path(re.search(r"^comparison: (.+)$", done.stdout, re.MULTILINE).group(1))

    # The endpoint has stopped, so its series are stale now: read their last values.
    finished = {
        r["metric"]["run"]
        for r in query(base, 'last_over_time(qnemu_emulator_phase{phase="finished"}[10m]) == 1')
    }
    assert finished == {f"{folder.name}/{c}-r0" for c in CONTROLLERS}
    by_run = {}
    for r in query(
        base, "count by (run, controller) (last_over_time(qnemu_violations_total[10m]))"
    ):
        by_run.setdefault(r["metric"]["run"], set()).add(r["metric"]["controller"])
    assert by_run == {f"{folder.name}/{c}-r0": {c} for c in CONTROLLERS}  # one value each

    delivered = {
        r["metric"]["run"]: float(r["value"][1])
        for r in query(base, "sum by (run) (last_over_time(qnemu_pairs_delivered_total[10m]))")
    }
    for controller in CONTROLLERS:
        summary = json.loads(
            next((folder / "runs" / f"{controller}-r0").glob("*/summary.json")).read_text()
        )
        assert delivered[f"{folder.name}/{controller}-r0"] == sum(
            row["pairs_delivered"] for row in summary["tenants"].values()
        )


def test_a_taken_metrics_port_fails_before_anything_is_written(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        path = tmp_path / "pair.yaml"
        path.write_text(
            yaml.safe_dump(
                {
                    "name": "pair",
                    "duration_s": 0.01,
                    "topology": {
                        "generator": "chain",
                        "n": 2,
                        "hop_km": 10,
                        "hardware": "trapped_ion",
                    },
                    "tenants": [
                        {
                            "name": "t",
                            "app": "dqc",
                            "src": "n0",
                            "dst": "n1",
                            "rate_hz": 1,
                            "f_min": 0.6,
                        }
                    ],
                }
            )
        )
        done = qnemu(
            "compare",
            path,
            "--virtual",
            "--repeats",
            1,
            "--results",
            tmp_path / "runs",
            "--metrics-port",
            taken.getsockname()[1],
        )
    assert done.returncode == 2
    assert done.stderr.startswith("error: metrics: cannot serve on")
    assert not (tmp_path / "runs").exists()
