"""Resilience of control planes: detection, recovery and pairs lost per control plane.

(a) examples/experiments/resilience.yaml: a link on the active path goes down;
(b) the same ring with the central controller (hierarchical: the root's routing) stopped
for 0.1 s instead: what each plane delivers meanwhile;
(c) recovery time against the distance of the controller (control.location n1..n3).

Virtual time, seeds 1..REPEATS; prints mean and 95% t-intervals (qnemu.experiments.stats)
and writes resilience.json and resilience-rate.png next to the results. Run from the
repository root:  .venv/bin/python examples/experiments/resilience.py [REPEATS]
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

from qnemu.emulation import Emulation
from qnemu.experiments.stats import format_interval, mean_ci
from qnemu.scenario import load_scenario
from qnemu.scenario.spec import FaultSpec

HERE = Path(__file__).parent
PLANES = ("distributed", "centralized", "hierarchical")
BIN_S = 0.01


def run(scenario, architecture, seed, out):
    control = dataclasses.replace(scenario.control, architecture=architecture)
    s = dataclasses.replace(scenario, control=control, seed=seed)
    emulation = Emulation(s, mode="virtual", results_dir=out)
    summary = emulation.run()
    events = [json.loads(x) for x in (emulation.folder.path / "events.jsonl").open()]
    return summary, events


def rate_series(events, duration_s):
    bins = [0] * round(duration_s / BIN_S)
    for e in events:
        if e["event"] == "delivered":
            bins[min(len(bins) - 1, int(e["t_s"] / BIN_S))] += 1
    return [b / BIN_S for b in bins]


def mean_interval(values):
    """Mean and 95% t-interval, as text."""
    return format_interval(mean_ci(values)) if values else "n/a"


def main(repeats: int) -> None:
    out = Path("runs/resilience")
    base = load_scenario(HERE / "resilience.yaml")
    table: dict[str, dict] = {}
    series: dict[str, list[list[float]]] = {}
    for plane in PLANES:
        rows = {"detected_s": [], "recovered_s": [], "pairs_lost": [], "reroute_s": []}
        for seed in range(1, repeats + 1):
            summary, events = run(base, plane, seed, out / "a")
            (fault,) = summary["faults"]
            rows["detected_s"].append(fault["detected_s"])
            rows["recovered_s"].append(fault["recovered_s"])
            rows["pairs_lost"].append(fault["pairs_lost"])
            first = next(e for e in events if e["event"] == "reroute")
            rows["reroute_s"].append(first["t_s"] - fault["at_s"])
            series.setdefault(plane, []).append(rate_series(events, base.duration_s))
        table[f"a/{plane}"] = {
            k: mean_interval([v for v in vs if v is not None]) for k, vs in rows.items()
        }
    outage = dataclasses.replace(
        base, faults=(FaultSpec("controller_down", ("central",), 0.1, 0.1),)
    )
    for plane in PLANES:
        during, before = [], []
        for seed in range(1, repeats + 1):
            _, events = run(outage, plane, seed, out / "b")
            got = [e["t_s"] for e in events if e["event"] == "delivered"]
            during.append(sum(1 for t in got if 0.1 <= t < 0.2) / 0.1)
            before.append(sum(1 for t in got if t < 0.1) / 0.1)
        table[f"b/{plane}"] = {
            "rate_before_hz": mean_interval(before),
            "rate_during_hz": mean_interval(during),
        }
    for location in ("n1", "n3"):
        moved = dataclasses.replace(
            base, control=dataclasses.replace(base.control, location=location)
        )
        rec = []
        for seed in range(1, repeats + 1):
            summary, _ = run(moved, "centralized", seed, out / "c")
            rec.append(summary["faults"][0]["recovered_s"])
        table[f"c/centralized@{location}"] = {
            "recovered_s": mean_interval([r for r in rec if r is not None])
        }
    (out / "resilience.json").write_text(
        json.dumps({"table": table, "series": series}, indent=1, default=str)
    )
    for key, row in table.items():
        print(key, {k: str(v) for k, v in row.items()})
    _plot(series, out / "resilience-rate.png")


def _plot(series, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 3.5))
    for plane, runs in series.items():
        mean = [sum(col) / len(col) for col in zip(*runs, strict=True)]
        ax.step([i * BIN_S for i in range(len(mean))], mean, where="post", label=plane)
    ax.axvspan(0.1, 0.2, color="grey", alpha=0.2, label="n1~n2 down")
    ax.set_xlabel("emulated time (s)")
    ax.set_ylabel("delivered pairs/s (10 ms bins)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
