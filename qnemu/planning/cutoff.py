"""The memory cutoff: how long a qubit of a link may be stored (one definition, used by the
network plan, the Q-NUM model and therefore every node)."""

from __future__ import annotations

from qnemu.physics.hardware import pair_t_long_eb
from qnemu.physics.link import LinkModel
from qnemu.scenario import Scenario


def cutoff_s(
    scenario: Scenario,
    a: str,
    b: str,
    model: LinkModel,
    time_slot_s: float | None = None,
    cache: dict[tuple, float] | None = None,
) -> float:
    """How long a qubit of the link ``a``-``b`` may be stored, from its photon's emission (s).

    Synchronous scheduling: one time slot (nothing outlives it). A configured
    ``control.cutoff_s``: that. ``auto``: the link pair's T_longEB with both halves stored
    in their own memories, so a link pair held until its cutoff still has F >= 2/3.
    ``cache`` keeps T_longEB per (profiles, initial fidelity) between calls (a root find).
    """
    if time_slot_s is not None:
        return time_slot_s
    if scenario.control.cutoff_s is not None:
        return scenario.control.cutoff_s
    profiles = (scenario.profile_of(a), scenario.profile_of(b))
    key = (*profiles, model.initial_fidelity)
    cache = {} if cache is None else cache
    if key not in cache:
        cache[key] = pair_t_long_eb(model.initial_state(), *profiles)
    return cache[key]
