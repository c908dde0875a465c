import sys
from pathlib import Path

import numpy as np
import pytest

from qnemu.apps import (
    APPS,
    AppRegistry,
    quality,
    register_app,
    request_streams,
    request_times,
    utility,
)
from qnemu.physics.analytic import bb84_secret_fraction, qber_from_werner_fidelity
from qnemu.scenario import TenantSpec

sys.path.insert(0, str(Path(__file__).parent))
CUSTOM = "custom_quality:linear"


def test_qkd_is_bb84_secret_fraction_at_werner_qber():
    assert quality("qkd", 0.95, 0.5) == pytest.approx(
        bb84_secret_fraction(qber_from_werner_fidelity(0.95))
    )
    assert quality("qkd", 0.80, 0.5) == 0.0  # QBER 13.3 % > 11 %: no key


def test_dqc_is_a_step_at_f_min():
    assert quality("dqc", 0.90, 0.90) == 1.0
    assert quality("dqc", 0.8999, 0.90) == 0.0


def test_sensing_is_steep_and_floored():
    assert quality("dqs", 1.0, 0.5) == 1.0
    assert quality("sensing", 0.9, 0.5) < quality("sensing", 0.95, 0.5) < 1.0
    assert quality("dqs", 0.6, 0.7) == 0.0


def test_utility_is_rate_times_quality():
    assert utility("dqc", 40.0, 0.95, 0.9) == 40.0
    assert utility("qkd", 10.0, 0.95, 0.5) == pytest.approx(10.0 * quality("qkd", 0.95, 0.5))
    with pytest.raises(ValueError, match="rate_hz"):
        utility("dqc", -1.0, 0.95, 0.9)


def test_unknown_app_lists_valid_ones():
    with pytest.raises(ValueError, match=r"app: unknown app 'chess'.*qkd, dqc, dqs"):
        quality("chess", 0.9, 0.5)


def test_dotted_path_app():
    assert quality(CUSTOM, 0.9, 0.5) == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("path", "match"),
    [
        ("no_such_module_xyz:f", "cannot import"),
        ("custom_quality:missing", "no attribute"),
        ("custom_quality:NOT_CALLABLE", "not a quality function"),
        ("custom_quality:", "package.module:function"),
    ],
)
def test_bad_dotted_path(path, match):
    with pytest.raises(ValueError, match=f"app: .*{match}"):
        quality(path, 0.9, 0.5)


def test_registry_fails_loudly():
    reg = AppRegistry({"dqc": APPS["dqc"]})
    reg.register("lin", CUSTOM)
    assert quality("lin", 0.7, 0.5, reg) == pytest.approx(0.7)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("lin", CUSTOM)
    with pytest.raises(TypeError, match="callable"):
        reg.register("bad", 3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="already registered"):
        register_app("qkd", CUSTOM)


def test_custom_quality_out_of_range_raises():
    reg = AppRegistry({"twice": lambda f: 2 * f})
    with pytest.raises(ValueError, match=r"quality must be in \[0, 1\]"):
        quality("twice", 0.9, 0.5, reg)


def test_request_times_are_poisson_and_seeded():
    rng = np.random.default_rng(7)
    times = request_times(rng, 1000.0, 10.0)
    assert np.all(np.diff(times) >= 0) and times[-1] < 10.0
    assert len(times) == pytest.approx(10_000, abs=4 * 100)  # 4 sigma
    gaps = np.diff(times)
    assert gaps.mean() == pytest.approx(1e-3, rel=0.05)
    again = request_times(np.random.default_rng(7), 1000.0, 10.0)
    np.testing.assert_array_equal(times, again)
    with pytest.raises(ValueError, match="rate_hz"):
        request_times(rng, -1.0, 1.0)


def test_request_streams_independent_per_tenant():
    tenants = [TenantSpec("a", "qkd", "A", "B", 50, 0.7), TenantSpec("b", "dqc", "A", "B", 5, 0.9)]
    s1 = request_streams(tenants, 3, 2.0)
    s2 = request_streams(tenants, 3, 2.0)
    assert set(s1) == {"a", "b"}
    np.testing.assert_array_equal(s1["a"], s2["a"])
    assert len(s1["a"]) > len(s1["b"])
