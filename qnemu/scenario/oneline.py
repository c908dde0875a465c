"""Scenarios from one command line, as Mininet's ``--topo linear,3``.

``qnemu run --topo chain,5 --hardware trapped_ion --tenant qkd:n0-n4@20`` builds the plain
scenario mapping here; :func:`~qnemu.scenario.load_scenario` then validates it like any
file (so a bad size or an unknown node is reported as in YAML), and ``--save FILE``
writes it out to edit. Generated nodes are named ``n0``, ``n1``, ... (see
:mod:`qnemu.scenario.topology`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from qnemu.errors import ScenarioError

__all__ = ["DEFAULTS", "GENERATORS", "TENANT_FORM", "TOPO_FORM", "scenario_from_flags"]

#: The generators ``--topo`` takes, and the sizes each needs after its name.
GENERATORS: Mapping[str, tuple[str, ...]] = {
    "chain": ("n",),
    "ring": ("n",),
    "star": ("n",),
    "grid": ("rows", "cols"),
}
TOPO_FORM = "chain,N | ring,N | star,N | grid,ROWS,COLS"
TENANT_FORM = "APP:SRC-DST[@RATE_HZ]"
#: What a one-line scenario uses where the command line says nothing (``--set`` changes
#: any of them: ``--set topology.hop_km=20``, ``--set tenants.0.f_min=0.8``).
DEFAULTS: Mapping[str, Any] = {
    "duration_s": 0.5,
    "hop_km": 10.0,
    "rate_hz": 10.0,
    "f_min": 0.5,  # the lowest floor: every delivered pair counts until you set one
}


def scenario_from_flags(
    topo: str, hardware: str | None = None, tenants: Iterable[str] = ()
) -> dict[str, Any]:
    """The scenario mapping of ``--topo``, ``--hardware`` and each ``--tenant``.

    Raises :class:`~qnemu.errors.ScenarioError` naming the flag for text that does not
    parse; values that parse are left to the scenario's own validation.
    """
    problems: list[str] = []
    topology = _topology(topo, problems)
    if hardware is not None:
        topology["hardware"] = hardware
    tenant_list = [_tenant(text, problems) for text in tenants]
    if problems:
        raise ScenarioError(problems)
    tenant_list = _named(tenant_list)
    kind = topology.get("generator", "topo")
    size = "x".join(str(topology[key]) for key in GENERATORS.get(str(kind), ()))
    return {
        "name": f"{kind}-{size}",
        "duration_s": DEFAULTS["duration_s"],
        "topology": topology,
        "tenants": tenant_list,
    }


def _topology(text: str, problems: list[str]) -> dict[str, Any]:
    name, *sizes = (part.strip() for part in text.split(","))
    if name not in GENERATORS:
        problems.append(
            f"--topo {text!r}: unknown generator {name!r} (valid: {', '.join(GENERATORS)}); "
            f"form: {TOPO_FORM}"
        )
        return {}
    keys = GENERATORS[name]
    if len(sizes) != len(keys) or not all(size.isdigit() for size in sizes):
        problems.append(f"--topo {text!r}: {name} needs {','.join(keys)} (form: {TOPO_FORM})")
        return {}
    return {
        "generator": name,
        **{key: int(size) for key, size in zip(keys, sizes, strict=True)},
        "hop_km": DEFAULTS["hop_km"],
    }


def _tenant(text: str, problems: list[str]) -> dict[str, Any]:
    app, colon, rest = text.partition(":")
    ends, at, rate = rest.partition("@")
    src, dash, dst = ends.partition("-")
    if not (colon and dash and app.strip() and src.strip() and dst.strip()):
        problems.append(f"--tenant {text!r}: must look like {TENANT_FORM}, e.g. qkd:n0-n4@20")
        return {}
    tenant: dict[str, Any] = {
        "app": app.strip(),
        "src": src.strip(),
        "dst": dst.strip(),
        "rate_hz": DEFAULTS["rate_hz"],
        "f_min": DEFAULTS["f_min"],
    }
    if at:
        try:
            tenant["rate_hz"] = float(rate)
        except ValueError:
            problems.append(f"--tenant {text!r}: the rate after @ must be a number, got {rate!r}")
    return tenant


def _named(tenants: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each tenant named ``APP-SRC-DST``, numbered when the same one is given twice."""
    seen: dict[str, int] = {}
    named = []
    for tenant in tenants:
        base = f"{tenant['app']}-{tenant['src']}-{tenant['dst']}"
        seen[base] = seen.get(base, 0) + 1
        named.append({"name": base if seen[base] == 1 else f"{base}-{seen[base]}", **tenant})
    return named
