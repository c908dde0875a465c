"""Human-readable description of a resolved scenario (what ``qnemu validate`` prints)."""

from __future__ import annotations

import itertools

from qnemu.physics.analytic import renewal_link_rate_hz
from qnemu.physics.fiber import propagation_delay_s
from qnemu.physics.hardware import HardwareProfile, pair_t_long_eb, profile_t_long_eb
from qnemu.physics.link import link_model
from qnemu.scenario.spec import LinkSpec, Scenario, TenantSpec

# ------------------------------------------------------------------------------ describe


def describe(scenario: Scenario) -> str:
    """Human-readable summary for ``qnemu validate``: nodes, links with their physics,
    profiles with derived T_longEB, and tenants with their shortest path."""
    s = scenario
    dilation = "auto" if s.dilation is None else f"{s.dilation:g}"
    lines = [
        f"Scenario {s.name!r}: seed {s.seed}, {s.duration_s:g} s emulated, dilation {dilation}",
        "",
        f"Nodes ({len(s.nodes)}):",
    ]
    width = max(len(n.id) for n in s.nodes)
    lines += [f"  {n.id:<{width}}  {n.hardware:<28} memories {n.memories}" for n in s.nodes]
    lines += ["", f"Links ({len(s.links)}):"]
    lines += [_describe_link(s, link) for link in s.links]
    lines += ["", "Profiles:"]
    lines += [_describe_profile(p) for p in s.profiles.values()]
    lines += ["", f"Tenants ({len(s.tenants)}):"]
    lines += [_describe_tenant(s, t) for t in s.tenants]
    c = s.control
    cutoff = "auto" if c.cutoff_s is None else f"{c.cutoff_s * 1e3:g} ms"
    lines += [
        "",
        f"Control: {c.architecture}, routing {c.routing}, scheduling {c.scheduling}, "
        f"cutoff {cutoff}" + (f", at {c.location}" if c.location else ""),
    ]
    return "\n".join(lines)


def _seconds(value: float) -> str:
    """A duration with a readable unit: 90.3 ms, 49 µs, 1.17 s, inf s."""
    if value == 0:
        return "0 s"
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns")):
        if abs(value) >= scale or unit == "ns":
            return f"{value / scale:.3g} {unit}"
    return f"{value:g} s"  # pragma: no cover - the loop always returns


def _describe_link(s: Scenario, link: LinkSpec) -> str:
    m = link_model(
        s.profile_of(link.a), s.profile_of(link.b), link.length_km, link.attenuation_db_per_km
    )
    # a memory pair renews after its herald round trip (pair used at once): the most it makes
    hold = 2.0 * m.herald_delay_s + s.classical.processing_s
    rate = renewal_link_rate_hz(m.p_attempt, m.period_s, hold)
    both = pair_t_long_eb(m.initial_state(), s.profile_of(link.a), s.profile_of(link.b))
    return (
        f"  {link.a}-{link.b}: {link.length_km:g} km, η {m.fiber_transmissivity:.3g}, "
        f"one-way delay {_seconds(propagation_delay_s(link.length_km))}, "
        f"p/attempt {m.p_attempt:.3g}, up to {rate:.3g} pairs/s per memory pair, "
        f"F0 {m.initial_fidelity:.3f}, T_longEB (both halves stored) {_seconds(both)}"
    )


def _describe_profile(p: HardwareProfile) -> str:
    return (
        f"  {p.name}: T1 {_seconds(p.t1_s)}, T2 {_seconds(p.t2_s)}, "
        f"T_longEB (one half stored) {_seconds(profile_t_long_eb(p))}, "
        f"source fidelity {p.source_fidelity:g}, "
        f"modes {p.modes}, attempt rate {p.attempt_rate_hz:g} Hz"
    )


def _describe_tenant(s: Scenario, t: TenantSpec) -> str:
    path = s.shortest_path(t.src, t.dst)
    g = s.graph()
    km = sum(g.edges[u, v]["length_km"] for u, v in itertools.pairwise(path))
    hops = len(path) - 1
    return (
        f"  {t.name} ({t.app}): {t.src} -> {t.dst}, {t.rate_hz:g} Hz, F_min {t.f_min:g}, "
        f"shortest path {'-'.join(path)} ({hops} hop{'s' * (hops != 1)}, {km:g} km)"
    )
