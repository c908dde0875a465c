"""Live tenants under classical loss: a lost ``TenantJoin``/``TenantLeave`` is resent until
every node acknowledged it, or given up on and recorded (virtual time, real node logic)."""

from __future__ import annotations

from qnemu.scenario import TenantSpec

from .harness import run_live

SCENARIO = """
name: live-loss
seed: {seed}
duration_s: 3.0
topology: {{generator: chain, n: 4, hop_km: 5, memories: 6}}
classical: {{loss: {loss}}}
control: {{architecture: distributed, admission: none, max_purification_rounds: 0}}
tenants:
  - {{name: base, app: dqc, src: n0, dst: n3, rate_hz: 10, f_min: 0.5}}
"""
CAROL = TenantSpec(name="carol", app="dqc", src="n0", dst="n3", rate_hz=20.0, f_min=0.5)


def _run(tmp_path, seed: int, loss: float) -> list[dict]:
    """Add ``carol`` at 0.5 s and remove it at 1.5 s; every record of the run."""
    path = tmp_path / "loss.yaml"
    path.write_text(SCENARIO.format(seed=seed, loss=loss))
    actions = [(0.5, lambda live: live.admit(CAROL)), (1.5, lambda live: live.remove("carol"))]
    return run_live(path, actions)[1]


def _lost(events: list[dict], kind: str) -> int:
    return sum(1 for e in events if e["event"] == "message_lost" and e["kind"] == kind)


def test_lost_joins_and_leaves_are_resent_until_acknowledged(tmp_path) -> None:
    events = _run(tmp_path, seed=2, loss=0.3)
    carol = [e for e in events if e.get("tenant") == "carol"]
    setups = {e["node"] for e in carol if e["event"] == "path_setup"}
    assert setups == {"n0", "n1", "n2", "n3"}  # every node learned it despite the losses
    assert _lost(events, "TenantJoin") > 0 and _lost(events, "TenantLeave") > 0
    assert not [e for e in events if e["event"] == "tenant_unconfirmed"]
    delivered = [e["t_s"] for e in carol if e["event"] == "delivered"]
    assert delivered and min(delivered) > 0.5
    # once the leave reached every station, no pair is made for carol any more
    removed = next(e["t_s"] for e in carol if e["event"] == "tenant_removed")
    made = [e["t_s"] for e in carol if e["event"] == "pair_generated"]
    assert max(made) < removed + 0.05


def test_an_announcement_nobody_hears_is_given_up_and_recorded(tmp_path) -> None:
    events = _run(tmp_path, seed=2, loss=0.9)
    given_up = [e for e in events if e["event"] == "tenant_unconfirmed"]
    assert given_up, "at 90 % loss some node never acknowledges within the sends"
    first = given_up[0]
    assert first["tenant"] == "carol" and first["message"] in ("TenantJoin", "TenantLeave")
    assert first["sends"] == 12 and first["nodes"]
