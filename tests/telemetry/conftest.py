"""Scenario builders shared by the telemetry tests (small, fast networks)."""

import pytest

from qnemu.scenario import load_scenario

# an efficient telecom memory: links at kHz, so a few emulated ms hold many pairs
FAST = {
    "source_efficiency": 0.9,
    "coupling_efficiency": 0.9,
    "memory_efficiency": 0.9,
    "detector_efficiency": 0.9,
}


def chain(
    n,
    *,
    t2_s,
    f_min,
    duration_s,
    dilation=1,
    memories=4,
    hop_km=5.0,
    seed=3,
    cutoff_s="auto",
    architecture="distributed",
    more_tenants=(),
):
    """An n-node chain of fast telecom memories with one end-to-end QKD tenant ``t``
    (and ``more_tenants``, scenario tenant entries)."""
    nodes = [{"id": f"n{i}", "hardware": "mem", "memories": memories} for i in range(n)]
    links = [{"a": f"n{i}", "b": f"n{i + 1}", "length_km": hop_km} for i in range(n - 1)]
    return load_scenario(
        {
            "name": f"chain{n}",
            "seed": seed,
            "duration_s": duration_s,
            "dilation": dilation,
            "topology": {"nodes": nodes, "links": links},
            "hardware": {
                "mem": {"base": "er_telecom", "t1_s": max(1.0, t2_s), "t2_s": t2_s, **FAST}
            },
            "control": {
                "architecture": architecture,
                "cutoff_s": cutoff_s,
                "admission": "none",
                "max_purification_rounds": 0,
            },
            "tenants": [
                {
                    "name": "t",
                    "app": "qkd",
                    "src": "n0",
                    "dst": f"n{n - 1}",
                    "rate_hz": 10,
                    "f_min": f_min,
                    "arrivals": "backlog",
                },
                *more_tenants,
            ],
        }
    )


@pytest.fixture(scope="session")
def make_chain():
    """The chain builder, as a fixture."""
    return chain
