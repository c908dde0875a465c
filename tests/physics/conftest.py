"""Shared fixtures and hypothesis strategies for the physics tests."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240601)


@st.composite
def density_matrices(draw: st.DrawFn) -> np.ndarray:
    """Random valid two-qubit density matrices (Ginibre construction, full or low rank)."""
    parts = draw(
        st.lists(
            st.floats(-1.0, 1.0, allow_nan=False, allow_infinity=False), min_size=32, max_size=32
        )
    )
    g = (np.array(parts[:16]) + 1j * np.array(parts[16:])).reshape(4, 4)
    rho = g @ g.conj().T + 1e-6 * np.eye(4)
    return rho / np.trace(rho).real


def assert_physical(rho: np.ndarray, atol: float = 1e-9) -> None:
    """Trace 1, Hermitian and PSD within ``atol``."""
    assert rho.shape == (4, 4)
    assert abs(np.trace(rho) - 1.0) < atol
    assert np.max(np.abs(rho - rho.conj().T)) < atol
    assert np.linalg.eigvalsh((rho + rho.conj().T) / 2)[0] > -atol
