"""The live console's ``tenant`` command: admit a tenant now, or remove one.

``tenant add NAME APP SRC DST RATE FMIN`` goes the northbound API's way: validated as a
scenario tenant (:mod:`qnemu.service.requests`), admitted against the running plan by
the digital twin (:class:`qnemu.service.live.LiveTenants`), announced by the node that
routes it with timed ``TenantJoin`` messages; ``tenant remove NAME`` releases it. Both
are ``console`` records (their ``tenant_added``/``tenant_removed`` records follow).
"""

from __future__ import annotations

import time
from typing import Any

from qnemu.service.live import Refused
from qnemu.service.requests import RequestInvalid, parse_request

USAGE = "usage: tenant add NAME APP SRC DST RATE FMIN | tenant remove NAME"
FIELDS = ("name", "app", "src", "dst", "rate_hz", "f_min")
#: Wall seconds a command waits for the run to take tenants (a Ray run starting).
WAIT_S = 60.0


def _number(text: str) -> float | str:
    """A number where the text is one; else the text, for validation to name."""
    try:
        return float(text)
    except ValueError:
        return text


def _service(console: Any, timeout_s: float = WAIT_S) -> tuple[Any, Any]:
    """The run's Emulation and its live tenants, once the run takes them: a command typed
    while the run starts (a Ray run's actors are still spawning) waits for it."""
    deadline = time.monotonic() + timeout_s
    while True:
        emulation: Any = console.service
        live = None if emulation is None else emulation.live
        if live is not None or console.quit.is_set() or time.monotonic() > deadline:
            return emulation, live
        time.sleep(0.05)


def tenant_command(console: Any, arg: str) -> str:
    """Carry out ``tenant ...`` typed at the console; returns the answer to print."""
    words = arg.split()
    if not (words[:1] == ["add"] and len(words) == 7) and not (
        words[:1] == ["remove"] and len(words) == 2
    ):
        return USAGE
    emulation, live = _service(console)
    if emulation is None or live is None:
        return "tenant: the run does not take tenants now (not started, or ended)"
    line = f"tenant {' '.join(words)}"
    if words[0] == "remove":
        if not live.remove(words[1]):
            return f"no running tenant {words[1]!r}"
        console.submit(lambda: console.record(line) or "")
        return f"removed {words[1]}"
    body = dict(zip(FIELDS, [*words[1:5], *map(_number, words[5:])], strict=True))
    try:
        spec = parse_request(emulation.scenario, body, live.now())
        verdict = live.admit(spec)
    except RequestInvalid as exc:
        return f"tenant: {exc}"
    except Refused as exc:
        return f"refused {spec.name}: {exc}"
    console.submit(lambda: console.record(line) or "")
    at = live.specs[spec.name].at_s
    rate, fidelity = verdict.predicted_rate_hz, verdict.predicted_fidelity
    return (
        f"admitted {spec.name} on {'-'.join(verdict.path)} at {at:.6f} s: "
        f"the twin predicts {rate:.4g} Hz at F {fidelity:.4f}"
    )
