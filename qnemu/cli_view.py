"""What ``qnemu run`` shows: the live view while it runs, and the tables at the end.

The live view (:class:`LiveView`): emulated time, and per tenant its pairs, rate, fidelity
and requests served so far, the violations by kind and the messages' lateness, redrawn in
place (rich ``Live``) from the driver's :class:`~qnemu.emulation.Progress`. Off with
``--quiet`` and when stdout is not a terminal (a log or a pipe gets the final tables
only). Warnings and errors go to stderr as single lines and are not redrawn. The same
tenant table, with latency, ends the run (:func:`print_summary`).
"""

from __future__ import annotations

import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:
    from qnemu.emulation import Progress

__all__ = ["LiveView", "print_summary", "render", "tenant_table"]


class LiveView:
    """A context manager that redraws :func:`render` of the latest progress in place;
    does nothing when ``enabled`` is false."""

    def __init__(self, console: Console, duration_s: float, enabled: bool) -> None:
        self.console = console
        self.duration_s = duration_s
        self.enabled = enabled
        self._started = time.monotonic()
        self._live: Live | None = None

    def __enter__(self) -> LiveView:
        if self.enabled:
            self._live = Live(
                render(None, self.duration_s, 0.0),
                console=self.console,
                refresh_per_second=4,
                transient=False,
            )
            self._live.__enter__()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._live is not None:
            self._live.__exit__(kind, exc, tb)
            self._live = None

    def update(self, progress: Progress) -> None:
        """Show ``progress`` (called by the driver as the run goes)."""
        if self._live is not None:
            wall = time.monotonic() - self._started
            self._live.update(render(progress, self.duration_s, wall))


def render(progress: Progress | None, duration_s: float, wall_s: float) -> RenderableType:
    """The view of one moment: a time bar, the tenants' table and a health line."""
    emulated = 0.0 if progress is None else progress.emulated_s
    bar = Table.grid(padding=(0, 1))
    bar.add_row(
        Text("emulating"),
        ProgressBar(total=duration_s, completed=emulated, width=30),
        Text(f"{emulated:.3f}/{duration_s:g} s emulated, {wall_s:.1f} s wall"),
    )
    if progress is None or not progress.tenants:
        return bar
    live = tenant_table(progress.tenants, box=None)
    return Group(bar, live, _health(progress))


def tenant_table(
    tenants: dict[str, dict[str, Any]], title: str | None = None, **options: Any
) -> Table:
    """Per tenant: pairs, rate, fidelity, latency and requests served (``summary.json``'s
    ``tenants`` block, or :class:`~qnemu.emulation.Progress`'s so far)."""
    table = Table(title=title, **options)
    table.add_column("tenant", justify="right", no_wrap=True)
    for column in ("pairs", "rate (Hz)", "F mean", "F min", "latency (ms)", "served"):
        table.add_column(column, justify="right")
    for name, row in tenants.items():
        # requests served / requests that arrived (the tenant's demand)
        served = f"{row['served']}/{row['requested']}" if row.get("requested") else "-"
        table.add_row(
            name,
            str(row["pairs_delivered"]),
            f"{row['rate_hz']:.1f}",
            _fmt(row.get("fidelity_mean"), "{:.4f}"),
            _fmt(row.get("fidelity_min"), "{:.4f}"),
            _fmt(row.get("latency_mean_s"), "{:.3f}", 1e3),
            served,
        )
    return table


def print_summary(console: Console, summary: dict[str, Any]) -> None:
    """The end-of-run tables: per tenant, violations, emulator health."""
    console.print(
        tenant_table(summary["tenants"], f"{summary['scenario']} ({summary['controller']})")
    )
    for tenant, decision in summary.get("admission", {}).items():
        if not decision.get("admitted", True):
            console.print(f"{tenant}: rejected: {decision.get('reason')}", markup=False)
    violations = ", ".join(f"{k} {v}" for k, v in summary["violations"].items() if v) or "none"
    console.print(f"violations: {violations}", markup=False)
    emulator = summary["emulator"]
    if emulator.get("mode") == "ray":
        console.print(
            f"emulator: {emulator['actors']} actors on {emulator.get('ray_nodes_used', 1)} Ray "
            f"node(s) ({emulator.get('placement', 'pack')}), "
            f"dilation {emulator['dilation']:g}, "
            f"lateness p50 {_fmt(emulator['lateness_p50_s'], '{:.3f}', 1e3)} ms "
            f"p99 {_fmt(emulator['lateness_p99_s'], '{:.3f}', 1e3)} ms (wall), "
            f"overloaded: {_overload(emulator)}",
            markup=False,
        )
        cpu = _cpu_split(emulator)
        if cpu and (emulator["overloaded"] or emulator.get("overload_seen_at_s") is not None):
            console.print(cpu, markup=False)
    elif emulator:
        console.print(f"emulator: virtual time, {emulator['wall_s']:.2f} s wall", markup=False)


def _overload(emulator: dict[str, Any]) -> str:
    seen = emulator.get("overload_seen_at_s")
    if not emulator["overloaded"]:
        # the whole run's p99 is within tolerance, but a stretch of it was not (and a
        # warning said so while it ran): say both, so the two never read as a contradiction
        if seen is None:
            return "no"
        return f"no over the whole run, but a stretch from {seen:.3g} s emulated was late"
    at = "" if seen is None else f" (first seen at {seen:.3g} s emulated)"
    return f"YES - numbers not trusted{at}"


def _cpu_split(emulator: dict[str, Any]) -> str | None:
    """Where the actors' CPU went per message (the summary's split), to tell a late run's
    cause: the emulated network's logic, or the emulator waking up."""
    split = emulator.get("actor_cpu_us_per_message")
    if not split:
        return None
    return (
        f"actors' CPU per message: {split['total']:.0f} µs (node and controller logic "
        f"{split['events']:.0f}, frames from other actors {split['frames']:.0f}, waking up "
        f"and sockets {split['loop']:.0f}); a higher dilation gives each message more time"
    )


def _health(progress: Progress) -> Text:
    seen = ", ".join(f"{kind} {n}" for kind, n in progress.violations.items() if n) or "none"
    line = Text(f"violations: {seen}", style="red" if seen != "none" else "")
    if progress.lateness_p99_s is not None:
        line.append(f"   lateness p99 {progress.lateness_p99_s * 1e3:.3f} ms (wall)")
    if progress.overloaded:
        line.append("   OVERLOADED: numbers not trusted", style="bold red")
    return line


def _fmt(value: float | None, pattern: str, scale: float = 1.0) -> str:
    return "-" if value is None else pattern.format(value * scale)
