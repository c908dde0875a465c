"""Service-layer reference experiment: tenants that arrive over time, with SLAs.

Writes the two scenarios of the experiment (docs/experiments.md, "Service layer") from
one seeded draw of a Poisson process, so that they hold the same tenants:

- ``service-shared.yaml``: every tenant shares every node's memories;
- ``service-slices.yaml``: premium tenants (those with an SLA) in slice ``gold``,
  best-effort ones in slice ``bronze``, half of every node's memories and of every link's
  attempts each.

Arrivals: a Poisson process of ``RATE_PER_S`` tenants per emulated second over
``[0, ARRIVE_UNTIL_S)`` (exponential gaps); each stays an exponential time of mean
``STAY_MEAN_S`` (cut at the run's end); its two ends are a uniformly drawn pair of
distinct nodes; every other tenant is premium (it takes every pair it can get,
``arrivals: backlog``, with an SLA of ``SLA`` on its rate; the others ask Poisson
requests). Run from the repository root:
  .venv/bin/python examples/experiments/service.py [SEED [FOLDER]]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import yaml

HERE = Path(__file__).parent
NODES = ("n0", "n1", "n2", "n3")
DURATION_S = 6.0  # emulated seconds per run
RATE_PER_S = 2.0  # tenant arrivals per emulated second (Poisson)
ARRIVE_UNTIL_S = 4.0  # the last arrival comes before this
STAY_MEAN_S = 2.0  # mean time a tenant stays (exponential)
RATE_HZ = (2.0, 5.0, 10.0)  # each tenant asks one of these (pairs per emulated second)
SLA = {"probability": 0.8, "window_s": 0.5}
SLICES = [
    {"name": "gold", "memory_share": 0.5, "attempt_share": 0.5},
    {"name": "bronze", "memory_share": 0.5, "attempt_share": 0.5},
]


def arrivals(rng: np.random.Generator) -> list[dict]:
    """The tenants of one draw: arrival, departure, ends, app, rate, SLA (every other)."""
    tenants, t = [], 0.0
    while True:
        t += rng.exponential(1.0 / RATE_PER_S)
        if t >= ARRIVE_UNTIL_S:
            return tenants
        src, dst = (str(n) for n in rng.choice(NODES, 2, replace=False))
        until = min(DURATION_S, t + rng.exponential(STAY_MEAN_S))
        i = len(tenants)
        tenant = {
            "name": f"t{i}",
            "app": "teleport" if i % 3 == 1 else "dqc",
            "src": src,
            "dst": dst,
            "rate_hz": float(rng.choice(RATE_HZ)),
            "f_min": 0.6,
            "at_s": round(t, 3),
            "until_s": round(until, 3),
        }
        if i % 2 == 0:  # premium: as many pairs as it gets, at least rate_hz x window
            tenant["arrivals"] = "backlog"
            tenant["sla"] = dict(SLA)
        tenants.append(tenant)


def scenario(name: str, seed: int, tenants: list[dict], slices: bool) -> dict:
    """One of the two scenarios: the same tenants, shared memories or two slices."""
    body = {
        "name": name,
        "seed": seed,
        "duration_s": DURATION_S,
        "topology": {"generator": "chain", "n": len(NODES), "hop_km": 5, "memories": 8},
        "control": {"architecture": "distributed", "admission": "utility"},
        "tenants": tenants,
    }
    if slices:
        body["slices"] = SLICES
        body["tenants"] = [{**t, "slice": "gold" if "sla" in t else "bronze"} for t in tenants]
    return body


HEADER = """# Service-layer reference experiment ({model}): written by
# examples/experiments/service.py (seed {seed}); tenants arrive as a Poisson process
# ({rate:g}/s until {until:g} s) and stay an exponential time (mean {stay:g} s); every other
# one has an SLA.
# Run: qnemu compare examples/experiments/{file} --virtual --controllers distributed
#        --repeats 5 --sweep control.admission=utility,none
"""


def main(seed: int = 1, out: Path = HERE) -> None:
    tenants = arrivals(np.random.default_rng(seed))
    for model, slices in (("shared", False), ("slices", True)):
        file = f"service-{model}.yaml"
        text = HEADER.format(
            model=model,
            seed=seed,
            rate=RATE_PER_S,
            until=ARRIVE_UNTIL_S,
            stay=STAY_MEAN_S,
            file=file,
        )
        body = scenario(f"service-{model}", 400, tenants, slices)
        text += yaml.safe_dump(body, sort_keys=False, default_flow_style=None, width=100)
        (out / file).write_text(text)
        print(f"{out / file}: {len(tenants)} tenants")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 1,
        Path(sys.argv[2]) if len(sys.argv) > 2 else HERE,
    )
