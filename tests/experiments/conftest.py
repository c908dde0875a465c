"""A tiny scenario for the comparison tests."""

import pytest
import yaml

#: A 3-node chain with two tenants; virtual runs of it take a few tens of milliseconds.
TINY = {
    "name": "tiny",
    "seed": 5,
    "duration_s": 0.2,
    "topology": {
        "generator": "chain",
        "n": 3,
        "hop_km": 10,
        "hardware": "trapped_ion",
        "memories": 4,
    },
    "tenants": [
        {"name": "qkd", "app": "dqc", "src": "n0", "dst": "n2", "rate_hz": 100, "f_min": 0.6},
        {"name": "dqc", "app": "dqc", "src": "n0", "dst": "n1", "rate_hz": 50, "f_min": 0.7},
    ],
}


@pytest.fixture
def tiny(tmp_path):
    """The tiny scenario as a YAML file."""
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY))
    return path
