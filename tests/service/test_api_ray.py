"""The northbound API on a live real-time run (real Ray, real HTTP over loopback)."""

from __future__ import annotations

import json
import stat
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import qnemu
from qnemu.client import ApiError, Client
from qnemu.emulation import Emulation
from qnemu.service.api import ApiServer

SCENARIO = """
name: api-live
seed: 5
duration_s: 1.0
dilation: 25
topology: {generator: chain, n: 3, hop_km: 5, memories: 4}
tenants:
  - {name: base, app: dqc, src: n0, dst: n2, rate_hz: 20, f_min: 0.5}
"""


@pytest.mark.timeout(300)
def test_api_adds_and_removes_a_tenant_on_a_live_run(tmp_path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(SCENARIO)
    emulation = Emulation(qnemu.load_scenario(path), results_dir=tmp_path / "runs")
    api = ApiServer(emulation, "127.0.0.1", 0, None)
    api.start()
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(emulation.run()))
    runner.start()
    try:
        deadline = time.monotonic() + 120
        while emulation.live is None and time.monotonic() < deadline and runner.is_alive():
            time.sleep(0.1)
        assert emulation.live is not None
        client = Client(api.url, api.token)

        network = client.network()
        assert [n["id"] for n in network["nodes"]] == ["n0", "n1", "n2"]
        assert {link["state"] for link in network["links"]} == {"up"}

        with pytest.raises(ApiError) as no_token:
            Client(api.url, "wrong").network()
        assert no_token.value.status == 401
        bare = urllib.request.Request(api.url + "/v1/network")
        with pytest.raises(urllib.error.HTTPError) as bare_error:
            urllib.request.urlopen(bare, timeout=10)
        assert bare_error.value.code == 401

        with pytest.raises(ApiError) as bad:
            client.add(
                {"name": "c", "app": "dqc", "src": "n0", "dst": "n2", "rate_hz": -1, "f_min": 0.5}
            )
        assert bad.value.status == 400
        assert bad.value.body["error"].startswith("rate_hz: must be > 0")

        with pytest.raises(ApiError) as refused:
            client.add(
                {
                    "name": "greedy",
                    "app": "dqc",
                    "src": "n0",
                    "dst": "n2",
                    "rate_hz": 5000,
                    "f_min": 0.5,
                    "arrivals": "backlog",
                    "sla": {"probability": 0.99, "window_s": 0.05},
                }
            )
        assert refused.value.status == 409
        assert refused.value.body["reason"].startswith("sla: P(")

        verdict = client.add(
            {"name": "carol", "app": "dqc", "src": "n0", "dst": "n1", "rate_hz": 10, "f_min": 0.5}
        )
        assert verdict["admitted"] and verdict["path"] == ["n0", "n1"]
        assert verdict["predicted_rate_hz"] > 0
        status = client.status("carol")
        assert status["name"] == "carol" and status["path"] == ["n0", "n1"]
        client.remove("carol")
        with pytest.raises(ApiError) as gone:
            client.remove("carol")
        assert gone.value.status == 404
    finally:
        runner.join(timeout=200)
        api.close()
    assert outcome["status"] == "completed"
    carol = outcome["tenants"]["carol"]
    assert carol["added_at_s"] is not None and carol["removed_at_s"] > carol["added_at_s"]
    folder = outcome["results"]
    lines = (Path(folder) / "events.jsonl").read_text().splitlines()
    events = [json.loads(line) for line in lines]
    kinds = {(e["event"], e.get("origin")) for e in events if e.get("tenant") == "carol"}
    assert ("tenant_added", "api") in kinds and ("tenant_removed", "api") in kinds
    assert any(e["event"] == "path_setup" and e["tenant"] == "carol" for e in events)
    token_file = api.token_file
    assert token_file is not None and token_file.read_text().strip() == api.token
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
