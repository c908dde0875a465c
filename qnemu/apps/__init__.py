"""Tenants' applications: quality functions, the Q-NUM utility and request generators."""

from qnemu.apps.quality import (
    APPS,
    SENSING_STEEPNESS,
    AppRegistry,
    QualityFn,
    dqc_quality,
    load_quality,
    qkd_quality,
    quality,
    realized_utility,
    register_app,
    sensing_quality,
    utility,
)
from qnemu.apps.requests import request_streams, request_times

__all__ = [
    "APPS",
    "SENSING_STEEPNESS",
    "AppRegistry",
    "QualityFn",
    "dqc_quality",
    "load_quality",
    "qkd_quality",
    "quality",
    "realized_utility",
    "register_app",
    "request_streams",
    "request_times",
    "sensing_quality",
    "utility",
]
