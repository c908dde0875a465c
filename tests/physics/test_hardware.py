import math

import pytest

from qnemu.physics import (
    PROFILES,
    HardwareProfile,
    bell_diagonal,
    get_profile,
    profile_t_long_eb,
    t_long_eb,
    t_long_eb_dephased,
    werner,
)

EXPECTED = {
    "trapped_ion",
    "nv_center",
    "atomic_ensemble",
    "superconducting_transduction",
    "er_telecom",
}


def test_all_platforms_present_and_named_by_key():
    assert set(PROFILES) == EXPECTED
    for name, prof in PROFILES.items():
        assert prof.name == name
        assert get_profile(name) is prof


def test_profiles_respect_t2_bound():
    for prof in PROFILES.values():
        assert prof.t2_s <= 2 * prof.t1_s


def test_replace_returns_validated_copy():
    ion = get_profile("trapped_ion")
    faster = ion.replace(attempt_rate_hz=1e5)
    assert faster.attempt_rate_hz == 1e5 and ion.attempt_rate_hz != 1e5
    assert isinstance(faster, HardwareProfile)


def test_t_long_eb_of_dephased_bell_state_matches_r10():
    t = t_long_eb(bell_diagonal(0.8, 0.0, 0.0, 0.2), math.inf, 2.0)
    assert t == pytest.approx(t_long_eb_dephased(0.8, 2.0), abs=1e-9)
    assert t == pytest.approx(2.0 * math.log(1.8), abs=1e-9)
    assert t_long_eb_dephased(0.8, 1.0) == pytest.approx(0.5878, abs=1e-4)


def test_t_long_eb_edge_cases():
    assert t_long_eb(werner(0.6), 1.0, 1.0) == 0.0
    assert t_long_eb(werner(0.9), math.inf, math.inf) == math.inf


def test_t_long_eb_is_not_t2():
    # Amplitude damping plus dephasing: the 2/3 crossing is derived, not assumed to be T2.
    t = t_long_eb(werner(0.95), 1.0, 1.0)
    assert 0.0 < t < 1.0


def test_every_profile_has_finite_positive_t_long_eb():
    for prof in PROFILES.values():
        t = profile_t_long_eb(prof)
        assert 0.0 < t < 10 * prof.t2_s


def test_pair_t_long_eb_with_both_halves_dephasing_matches_r4():
    """Both halves of a dephased Bell state under pure dephasing: exponent 2t/T2 (R4), so
    the 2/3 crossing comes at half the one-half time (R10 / 2)."""
    from qnemu.physics import pair_t_long_eb

    memory = get_profile("trapped_ion").replace(t1_s=math.inf, t2_s=2.0)
    t = pair_t_long_eb(bell_diagonal(0.8, 0.0, 0.0, 0.2), memory, memory)
    assert t == pytest.approx(t_long_eb_dephased(0.8, 2.0) / 2.0, abs=1e-9)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_link_pair_held_until_the_auto_cutoff_still_has_f_two_thirds(name):
    """``cutoff_s: auto`` is the link pair's T_longEB with both halves stored in their own
    memories: at the cutoff F is exactly 2/3, just before it above (T1 and T2 of both)."""
    from qnemu.physics import decohere, fidelity, link_model, pair_t_long_eb

    a, b = get_profile(name), get_profile("trapped_ion")  # unequal memories
    rho = link_model(a, b, 10.0).initial_state()
    cutoff = pair_t_long_eb(rho, a, b)
    assert 0.0 < cutoff < profile_t_long_eb(a)
    for t, check in (
        (cutoff, lambda f: f == pytest.approx(2 / 3, abs=1e-9)),
        (0.99 * cutoff, lambda f: f > 2 / 3),
    ):
        held = decohere(decohere(rho, 0, t, a.t1_s, a.t2_s), 1, t, b.t1_s, b.t2_s)
        assert check(fidelity(held))
