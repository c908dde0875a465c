"""Tenants added live to a virtual-time run: ``tenant add|remove`` typed at the console
(``qnemu run --console`` in a pseudo-terminal) and ``POST /v1/requests`` over real HTTP
to the same run. Nothing is timed: each step waits for text, with a generous timeout."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

import pytest

from qnemu.client import ApiError, Client

pexpect = pytest.importorskip("pexpect")

SCENARIO = """
name: console-tenants
seed: 3
duration_s: 60
topology: {generator: chain, n: 3, hop_km: 5, memories: 6}
control: {architecture: distributed, max_purification_rounds: 0}
tenants:
  - {name: base, app: dqc, src: n0, dst: n2, rate_hz: 20, f_min: 0.5}
"""
PROMPT = "qnemu> "
TOKEN = "console-tenant-token-0123456789"
ARGS = ["-m", "qnemu.cli", "run", "chain.yaml", "--console", "--dilation", "20", "--no-metrics"]
ARGS += ["--results", "runs", "--api-port", "0", "--api-token", TOKEN]
RAY_ARGS = ["-m", "qnemu.cli", "run", "chain.yaml", "--console", "--ray", "--dilation", "100"]
RAY_ARGS += ["--no-metrics", "--results", "runs"]


def _events(folder: Path) -> list[dict]:
    return [json.loads(line) for line in (folder / "events.jsonl").read_text().splitlines()]


def _wait_for_pairs(child, name: str) -> None:
    """Ask ``stats`` until ``name`` shows delivered pairs (up to 2 emulated seconds)."""
    for _ in range(200):
        time.sleep(0.2)  # wall: 0.01 emulated s at dilation 20
        child.sendline("stats")
        child.expect_exact(PROMPT)
        if re.search(rf"{name}: [1-9][0-9]* pairs", child.before):
            return
    pytest.fail(f"{name} got no pair: {child.before}")


@pytest.mark.timeout(240)
def test_tenants_added_at_the_console_and_over_http_in_virtual_time(tmp_path) -> None:
    (tmp_path / "chain.yaml").write_text(SCENARIO)
    child = pexpect.spawn(
        sys.executable,
        ARGS,
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=90,
        dimensions=(40, 200),
        env={"PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "TERM": "dumb", "PATH": "/usr/bin:/bin"},
    )
    child.expect(r"api: (http://127\.0\.0\.1:\d+)")
    url = child.match.group(1)
    child.expect_exact(PROMPT)
    child.sendline("tenant add bad dqc n0 n9 20 0.5")
    child.expect_exact("tenant: dst: unknown node 'n9'")
    child.expect_exact(PROMPT)
    child.sendline("tenant add carol dqc n0 n1 20 0.5")
    child.expect(r"admitted carol on n0-n1 at [0-9.]+ s: the twin predicts")
    child.expect_exact(PROMPT)
    client = Client(url, TOKEN)
    verdict = client.add(
        {"name": "dave", "app": "dqc", "src": "n1", "dst": "n2", "rate_hz": 10, "f_min": 0.5}
    )
    assert verdict["admitted"] and verdict["path"] == ["n1", "n2"]
    with pytest.raises(ApiError) as taken:
        client.add(
            {"name": "carol", "app": "dqc", "src": "n0", "dst": "n1", "rate_hz": 1, "f_min": 0.5}
        )
    assert taken.value.status == 409
    _wait_for_pairs(child, "carol")
    _wait_for_pairs(child, "dave")
    child.sendline("tenant remove carol")
    child.expect_exact("removed carol")
    child.expect_exact(PROMPT)
    child.sendline("tenant remove carol")
    child.expect_exact("no running tenant 'carol'")
    child.expect_exact(PROMPT)
    assert client.status("dave")["pairs_delivered"] > 0
    child.sendline("quit")
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    assert child.exitstatus == 0, child.before

    folder = next((tmp_path / "runs").iterdir())
    summary = json.loads((folder / "summary.json").read_text())
    carol, dave = summary["tenants"]["carol"], summary["tenants"]["dave"]
    assert carol["pairs_delivered"] > 0 and dave["pairs_delivered"] > 0
    assert carol["removed_at_s"] > carol["added_at_s"] > 0
    events = _events(folder)
    kinds = {(e["event"], e.get("tenant"), e.get("origin")) for e in events}
    assert {("tenant_added", "carol", "api"), ("tenant_removed", "carol", "api")} <= kinds
    assert ("tenant_added", "dave", "api") in kinds
    commands = [e["command"] for e in events if e["event"] == "console"]
    assert "tenant add carol dqc n0 n1 20 0.5" in commands
    assert "tenant remove carol" in commands


@pytest.mark.ray
@pytest.mark.timeout(300)
def test_tenant_add_at_the_console_of_a_ray_run(tmp_path) -> None:
    """``qnemu run --console --ray``: a command typed while the actors still start waits
    for the run, then the tenant is admitted, served and removed on the real-time run."""
    (tmp_path / "chain.yaml").write_text(SCENARIO.replace("duration_s: 60", "duration_s: 30"))
    child = pexpect.spawn(
        sys.executable,
        RAY_ARGS,
        cwd=str(tmp_path),
        encoding="utf-8",
        timeout=180,
        dimensions=(40, 200),
        env={"PYTHONUNBUFFERED": "1", "NO_COLOR": "1", "TERM": "dumb", "PATH": "/usr/bin:/bin"},
    )
    child.expect_exact(PROMPT)
    child.sendline("tenant add carol dqc n0 n1 20 0.5")
    child.expect(r"admitted carol on n0-n1 at [0-9.]+ s: the twin predicts")
    child.expect_exact(PROMPT)
    _wait_for_pairs(child, "carol")
    child.sendline("tenant remove carol")
    child.expect_exact("removed carol")
    child.expect_exact(PROMPT)
    child.sendline("quit")
    child.expect(pexpect.EOF, timeout=180)
    child.close()
    assert child.exitstatus == 0, child.before
    folder = next((tmp_path / "runs").iterdir())
    events = _events(folder)
    kinds = {(e["event"], e.get("tenant")) for e in events}
    assert {("tenant_added", "carol"), ("tenant_removed", "carol")} <= kinds
    assert "tenant add carol dqc n0 n1 20 0.5" in [
        e["command"] for e in events if e["event"] == "console"
    ]
