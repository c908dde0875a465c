"""The finite-key estimate of QKD (Tomamichel et al. 2012) against its limits and a
value computed by hand from the paper's formula."""

import math

import pytest

from qnemu.physics import analytic


def test_a_long_key_approaches_the_asymptotic_rate_of_its_key_bits():
    n = k = 10**9
    q = 0.02
    asymptotic = n * (1 - 2 * analytic.binary_entropy(q))
    assert analytic.finite_key_bits(n, k, q, q) == pytest.approx(asymptotic, rel=0.01)
    assert analytic.finite_key_bits(n, k, q, q) < asymptotic


def test_a_short_key_has_no_secret_bits():
    # 200 test bits bound the phase errors only to within mu ~ 0.49: nothing is secret
    assert analytic.finite_key_bits(200, 200, 0.01, 0.01) == 0.0
    assert analytic.finite_key_bits(0, 100, 0.0, 0.0) == 0.0


def test_one_point_by_hand():
    n, k, q, eps_sec, eps_cor = 10**6, 10**5, 0.03, 1e-10, 1e-15
    mu = math.sqrt((n + k) / (n * k) * (k + 1) / k * math.log(2 / eps_sec))  # 0.0161...
    h = analytic.binary_entropy
    expected = n * (1 - h(q + mu)) - n * h(q) - math.log2(2 / (eps_sec**2 * eps_cor))
    assert expected > 0
    assert analytic.finite_key_bits(n, k, q, q, eps_sec, eps_cor) == pytest.approx(expected)


def test_more_test_bits_or_fewer_errors_never_cost_key():
    base = analytic.finite_key_bits(10**6, 10**5, 0.02, 0.02)
    assert analytic.finite_key_bits(10**6, 10**6, 0.02, 0.02) > base
    assert analytic.finite_key_bits(10**6, 10**5, 0.02, 0.01) > base
