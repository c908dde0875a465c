"""Shared fixtures: one embedded Ray for every test that needs real actors."""

import os

import pytest


@pytest.fixture(scope="session")
def ray_local():
    """An embedded local Ray, started once per test session and shut down at the end."""
    import ray

    from qnemu.runtime.ray_backend import start_ray, stop_ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = start_ray(None)
    yield ray
    if started:
        stop_ray()
