import math

import pytest

from qnemu.physics import plob_capacity, propagation_delay_s, transmissivity


def test_50_km_at_0_2_db_per_km_is_one_tenth():
    assert transmissivity(50.0, 0.2) == pytest.approx(0.1, abs=1e-12)


def test_propagation_delay_is_about_4_9_us_per_km():
    assert propagation_delay_s(1.0) == pytest.approx(4.896e-6, rel=1e-3)
    assert propagation_delay_s(0.0) == 0.0


def test_plob_capacity():
    assert plob_capacity(0.5) == pytest.approx(1.0, abs=1e-12)
    assert plob_capacity(0.0) == 0.0
    assert plob_capacity(1.0) == math.inf
