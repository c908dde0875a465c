import pytest

from qnemu.physics import (
    bb84_secret_fraction,
    binary_entropy,
    effective_eps,
    qber_from_werner_fidelity,
    synchronous_path_success,
    werner_chain_fidelity,
    werner_swap_fidelity,
)


def test_chain_of_two_equals_swap():
    assert werner_chain_fidelity([0.9, 0.8]) == pytest.approx(werner_swap_fidelity(0.9, 0.8))
    assert werner_chain_fidelity([0.9]) == pytest.approx(0.9)


def test_binary_entropy():
    assert binary_entropy(0.5) == pytest.approx(1.0)
    assert binary_entropy(0.0) == 0.0 and binary_entropy(1.0) == 0.0
    assert binary_entropy(0.11) == pytest.approx(0.4999, abs=1e-3)


def test_bb84_secret_fraction():
    assert bb84_secret_fraction(0.0) == 1.0
    assert bb84_secret_fraction(0.05) == pytest.approx(1 - 2 * binary_entropy(0.05))
    assert bb84_secret_fraction(0.2) == 0.0  # floored: no key
    assert bb84_secret_fraction(0.05, f_ec=1.2) < bb84_secret_fraction(0.05)
    assert qber_from_werner_fidelity(0.97) == pytest.approx(0.02)


def test_r13_sanity_values():
    assert synchronous_path_success([0.9] * 10) == pytest.approx(0.349, abs=1e-3)
    assert synchronous_path_success([0.5] * 3) == pytest.approx(0.125)


def test_effective_eps():
    assert effective_eps(100.0, 0.5, 0.8, 3) == pytest.approx(100 * 0.8 * 0.25)
    assert effective_eps(100.0, 0.5, 0.8, 1, overhead=2.0) == pytest.approx(40.0)
