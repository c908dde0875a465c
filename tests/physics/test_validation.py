"""Every validator fires with a message naming the parameter and its value."""

import math

import numpy as np
import pytest

from qnemu.physics import (
    PROFILES,
    HardwareProfile,
    apply_correction,
    apply_pauli,
    bell_state,
    conversion_penalty,
    decohere,
    depolarize,
    fidelity,
    get_profile,
    link_model,
    measure,
    multiplexed_success_probability,
    propagation_delay_s,
    purify,
    sample_time_to_success,
    swap,
    transmissivity,
    validate_density_matrix,
    werner,
)


def test_t2_above_twice_t1():
    with pytest.raises(ValueError, match=r"^t2_s: must be <= 2\*t1_s \(2\.0\), got 3\.0$"):
        decohere(werner(0.9), 0, 1.0, 1.0, 3.0)


def test_t2_infinite_with_finite_t1_is_rejected():
    with pytest.raises(ValueError, match="t2_s"):
        decohere(werner(0.9), 0, 1.0, 1.0, math.inf)


def test_negative_time():
    with pytest.raises(ValueError, match=r"dt_s: .*-1\.0"):
        decohere(werner(0.9), 0, -1.0, 1.0, 1.0)


def test_negative_length():
    with pytest.raises(ValueError, match=r"length_km: .*-5\.0"):
        transmissivity(-5.0)
    with pytest.raises(ValueError, match=r"length_km: .*-5\.0"):
        propagation_delay_s(-5.0)
    with pytest.raises(ValueError, match=r"length_km: .*-5\.0"):
        link_model(PROFILES["er_telecom"], PROFILES["er_telecom"], -5.0)


@pytest.mark.parametrize("bad", [-0.1, 1.5, math.nan])
def test_probability_outside_unit_interval(bad):
    with pytest.raises(ValueError, match=r"^p: must be in \[0, 1\], got"):
        depolarize(werner(0.9), 0, bad)
    with pytest.raises(ValueError, match="gate_error"):
        swap(werner(0.9), werner(0.9), np.random.default_rng(0), gate_error=bad)
    with pytest.raises(ValueError, match=r"^f: "):
        werner(bad)


@pytest.mark.parametrize(
    ("rho", "reason"),
    [
        (np.array([[1, 1], [0, 0]], dtype=complex), "Hermitian"),
        (np.eye(4) / 2, "trace 1"),
        (np.diag([1.5, -0.5, 0, 0]), "positive semidefinite"),
        (np.ones((4, 3)), "square"),
    ],
)
def test_non_physical_rho(rho, reason):
    with pytest.raises(ValueError, match=rf"^my_rho: must .*{reason}"):
        validate_density_matrix(rho, name="my_rho")


def test_pair_shape_is_checked():
    with pytest.raises(ValueError, match=r"rho: must be a 4x4 density matrix, got shape \(2, 2\)"):
        fidelity(np.eye(2) / 2)


def test_unknown_profile_name_lists_valid_names():
    with pytest.raises(ValueError, match=r"'diamond'.*'er_telecom'.*'trapped_ion'"):
        get_profile("diamond")


def test_unknown_override_field_lists_valid_fields():
    with pytest.raises(ValueError, match=r"^t3_s: unknown HardwareProfile field.*'t1_s'"):
        get_profile("trapped_ion").replace(t3_s=1.0)


def test_profile_fields_are_validated():
    ion = get_profile("trapped_ion")
    with pytest.raises(ValueError, match=r"^t2_s: must be <= 2\*t1_s"):
        ion.replace(t2_s=5.0)
    with pytest.raises(ValueError, match=r"^modes: .*0"):
        ion.replace(modes=0)
    with pytest.raises(ValueError, match=r"^detector_efficiency: .*1\.2"):
        ion.replace(detector_efficiency=1.2)
    with pytest.raises(ValueError, match=r"^name: "):
        HardwareProfile(**{**ion.__dict__, "name": ""})


def test_operation_arguments_are_validated():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"^pauli: .*'W'"):
        apply_pauli(bell_state(), 0, "W")
    with pytest.raises(ValueError, match=r"^qubit: .*2"):
        apply_pauli(bell_state(), 2, "X")
    with pytest.raises(ValueError, match=r"^outcome: .*4"):
        apply_correction(bell_state(), 4)
    with pytest.raises(ValueError, match=r"^basis: .*'W'"):
        measure(bell_state(), 0, "W", rng)
    with pytest.raises(ValueError, match=r"^method: .*'magic'"):
        purify(rng, bell_state(), bell_state(), "magic")
    with pytest.raises(ValueError, match=r"^target: .*'ghz'"):
        fidelity(bell_state(), "ghz")


def test_link_arguments_are_validated():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"^period_s: .*-1\.0"):
        sample_time_to_success(rng, 0.1, -1.0)
    with pytest.raises(ValueError, match=r"^modes: .*0"):
        multiplexed_success_probability(0.1, 0)
    with pytest.raises(ValueError, match=r"^memory_wavelength_nm: .*-1\.0"):
        conversion_penalty(-1.0)
