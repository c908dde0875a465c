"""The live console: a Mininet-style prompt over a running emulation (``qnemu run --console``).

The prompt (the standard library's :mod:`cmd`, with readline history and tab completion
of node and link names) runs in its own thread; every command it takes is handed to the
thread that drives the emulation and carried out there between two steps of emulated
time, so it acts at one well-defined emulated instant. The emulation runs in virtual
time paced against the wall clock (``dilation`` wall seconds per emulated second), so
that emulated time flows while one types, and ``pause`` stops it cleanly.

Every command that changes the run is recorded as a ``console`` event with its emulated
time; :func:`replay_faults` turns those back into a ``faults:`` timeline, which is what
``qnemu run --replay DIR`` runs.
"""

from __future__ import annotations

import cmd
import math
import queue
import shlex
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from qnemu import records
from qnemu.runtime.host import Host
from qnemu.runtime.scheduler import VirtualScheduler
from qnemu.runtime.views import view_text
from qnemu.scenario.faults import CENTRAL
from qnemu.scenario.spec import FaultSpec, Scenario

#: Wall seconds between two steps of the paced drive loop.
STEP_WALL_S = 0.02
#: Default wall seconds per emulated second under the console.
DEFAULT_DILATION = 50.0


@dataclass
class _Call:
    action: Callable[[], str]
    done: threading.Event = field(default_factory=threading.Event)
    result: str = ""


class LiveConsole:
    """Commands from the prompt thread, carried out by the driving thread.

    ``submit`` (prompt side) blocks until :meth:`poll` (driver side) ran the action.
    """

    def __init__(self, dilation: float | None = None) -> None:
        self.dilation = dilation or DEFAULT_DILATION
        self._calls: queue.Queue[_Call] = queue.Queue()
        self.quit = threading.Event()
        self.ready = threading.Event()  # set once the run takes commands
        self.paused = False
        self.host: Host | None = None
        #: a Ray run's live control (``qnemu.runtime.live_control.RayLive``): set, commands
        #: act on every actor through it instead of on ``host``
        self.remote: Any = None
        self.scheduler: VirtualScheduler | None = None
        self.stats: Callable[[], str] = lambda: "no statistics yet"
        self.service: Any = None  # the emulation, for ``tenant`` (qnemu.service.commands)
        self._live: dict[tuple[str, tuple[str, ...]], FaultSpec] = {}  # console faults in force

    # -- the prompt's side -------------------------------------------------------------------
    def submit(self, action: Callable[[], str], timeout_s: float = 30.0) -> str:
        """Run ``action`` in the driving thread; returns what it says."""
        if self.quit.is_set():
            return "the run has ended"
        if not self.ready.wait(timeout_s):
            return "the run has not started yet"
        call = _Call(action)
        self._calls.put(call)
        if not call.done.wait(timeout_s):
            return "the emulation did not answer"
        return call.result

    # -- the driver's side -------------------------------------------------------------------
    def poll(self) -> None:
        """Carry out every waiting command (called between steps of emulated time)."""
        while True:
            try:
                call = self._calls.get_nowait()
            except queue.Empty:
                return
            try:
                call.result = call.action()
            except (ValueError, KeyError) as exc:
                call.result = f"error: {exc}"
            call.done.set()

    def drain_on_exit(self) -> None:
        """Answer anything still queued once the run has ended."""
        self.quit.set()
        while True:
            try:
                call = self._calls.get_nowait()
            except queue.Empty:
                return
            call.result = "the run has ended"
            call.done.set()

    def drive(
        self,
        scheduler: VirtualScheduler,
        duration_s: float,
        on_step: Callable[[float], None],
    ) -> float:
        """Advance ``scheduler`` in step with the wall clock until ``duration_s`` or
        ``quit``; ``on_step(emulated_s)`` after each step. Returns the emulated time reached."""
        self.scheduler = scheduler
        self.ready.set()
        reached = 0.0
        wall_zero = time.monotonic()
        paused_at: float | None = None
        while reached < duration_s and not self.quit.is_set():
            self.poll()
            if self.paused:
                paused_at = paused_at or time.monotonic()
                time.sleep(STEP_WALL_S)
                continue
            if paused_at is not None:  # emulated time resumes where it stopped
                wall_zero += time.monotonic() - paused_at
                paused_at = None
            target = min(duration_s, (time.monotonic() - wall_zero) / self.dilation)
            if target > reached:
                scheduler.run(target)
                reached = target
                on_step(reached)
            time.sleep(STEP_WALL_S)
        self.poll()
        return reached

    # -- actions (run in the driving thread) ---------------------------------------------------
    def record(self, line: str, t_s: float | None = None) -> None:
        """A command that changed the run becomes a ``console`` event (at ``t_s``, default
        now)."""
        target = self._target()
        target.emit(records.ConsoleAction(t_s=target.now() if t_s is None else t_s, command=line))

    def view(self, kind: str, names: list[str] | None = None) -> str:
        """The ``nodes``, ``links``, ``tenants`` or ``pairs`` view, as text."""
        if self.remote is not None:
            return str(self.remote.view(kind, names))
        return view_text(self._host(), kind, names)

    def set_paused(self, paused: bool, line: str) -> str:
        """Stop emulated time cleanly (``pause``) or let it flow again (``resume``)."""
        if paused == self.paused:
            return f"already {'paused' if paused else 'running'}"
        target = self._target()
        at = target.pause() if paused and self.remote is not None else None
        if not paused and self.remote is not None:
            at = self.remote.paused_at_s  # time resumes where it was held
            self.remote.resume()
        self.paused = paused
        t_s = target.now() if at is None else at
        self.record(line, t_s)
        return f"{'paused' if paused else 'resumed'} at {t_s:.6f} s"

    def _target(self) -> Any:
        """What commands act on: the Ray run's live control, or the local host."""
        return self.remote if self.remote is not None else self._host()

    def _host(self) -> Host:
        if self.host is None:
            raise ValueError("the run has not started")
        return self.host

    def fault(self, line: str, kind: str, target: tuple[str, ...], value: float | None) -> str:
        """Start a fault now, in force until the matching ``up``/``restart``/``start``."""
        host = self._target()
        key = (kind, target)
        if key in self._live:
            return f"{kind} on {'~'.join(target)} is already in force"
        at = host.now()
        spec = FaultSpec(kind, target, at, None, value)
        self._live[key] = spec
        host.inject(spec, "console")
        self.record(line, at)
        return f"{kind} {'~'.join(target)} at {at:.6f} s"

    def clear(self, line: str, kind: str, target: tuple[str, ...]) -> str:
        """End a console fault now."""
        host = self._target()
        spec = self._live.pop((kind, target), None)
        if spec is None:
            return f"no {kind} on {'~'.join(target)} in force"
        at = host.now()
        if self.remote is not None:
            host.end_fault(spec, at)
        else:
            host.end_fault(spec)
        self.record(line, at)
        return f"{kind} {'~'.join(target)} ended at {at:.6f} s"


class Prompt(cmd.Cmd):
    """The commands (see ``help``); names complete with Tab."""

    intro = "qnemu console: type help for the commands, Tab completes node names."
    prompt = "qnemu> "

    def __init__(
        self,
        console: LiveConsole,
        scenario: Scenario,
        stdin: TextIO | None = None,
        stdout: TextIO | None = None,
    ) -> None:
        super().__init__(stdin=stdin, stdout=stdout)
        self.console = console
        self.scenario = scenario
        self.node_names = [n.id for n in scenario.nodes]
        self.tenant_names = [t.name for t in scenario.tenants]

    def _say(self, text: str) -> None:
        self.stdout.write(text.rstrip("\n") + "\n")
        self.stdout.flush()

    def emptyline(self) -> bool:
        return False

    def default(self, line: str) -> None:
        self._say(f"unknown command {line.split()[0]!r} (help lists them)")

    # -- looking -----------------------------------------------------------------------------
    def do_nodes(self, arg: str) -> None:
        """nodes: every node, its memories in use (its own view) and whether it is up."""
        self._say(self.console.submit(lambda: self.console.view("nodes")))

    def do_links(self, arg: str) -> None:
        """links: every link and its state."""
        self._say(self.console.submit(lambda: self.console.view("links")))

    def do_tenants(self, arg: str) -> None:
        """tenants: every tenant and its path as its routing node knows it."""
        self._say(self.console.submit(lambda: self.console.view("tenants")))

    def do_pairs(self, arg: str) -> None:
        """pairs [NODE]: memory occupancy from the nodes' own view."""
        names = arg.split() or self.node_names
        self._say(self.console.submit(lambda: self.console.view("pairs", names)))

    def do_stats(self, arg: str) -> None:
        """stats: delivered rates, fidelity, violations so far."""
        self._say(self.console.submit(self.console.stats))

    # -- acting --------------------------------------------------------------------------------
    def do_link(self, arg: str) -> None:
        """link A B down|up: cut the fiber A-B (quantum and classical), or mend it."""
        words = arg.split()
        if len(words) != 3 or words[2] not in ("down", "up"):
            self._say("usage: link A B down|up")
            return
        a, b, state = words
        target = self._link(a, b)
        if target is None:
            return
        line = f"link {a} {b} {state}"
        if state == "down":
            self._say(
                self.console.submit(lambda: self.console.fault(line, "link_down", target, None))
            )
        else:
            self._say(self.console.submit(lambda: self.console.clear(line, "link_down", target)))

    def do_node(self, arg: str) -> None:
        """node X crash|restart: crash a node (it loses all state), or restart it empty."""
        words = arg.split()
        if len(words) != 2 or words[1] not in ("crash", "restart"):
            self._say("usage: node X crash|restart")
            return
        name, action = words
        if not self._known(name):
            return
        line = f"node {name} {action}"
        if action == "crash":
            self._say(
                self.console.submit(lambda: self.console.fault(line, "node_crash", (name,), None))
            )
        else:
            self._say(self.console.submit(lambda: self.console.clear(line, "node_crash", (name,))))

    def do_controller(self, arg: str) -> None:
        """controller central|NODE stop|start: stop a controller, or start it again."""
        words = arg.split()
        if len(words) != 2 or words[1] not in ("stop", "start"):
            self._say("usage: controller central|NODE stop|start")
            return
        name, action = words
        if name != CENTRAL and not self._known(name):
            return
        line = f"controller {name} {action}"
        target = (name,)
        if action == "stop":
            self._say(
                self.console.submit(
                    lambda: self.console.fault(line, "controller_down", target, None)
                )
            )
        else:
            self._say(
                self.console.submit(lambda: self.console.clear(line, "controller_down", target))
            )

    def do_loss(self, arg: str) -> None:
        """loss A B P: classical messages routed over A-B are lost with probability P (0: none)."""
        words = arg.split()
        if len(words) != 3:
            self._say("usage: loss A B P")
            return
        a, b, text = words
        try:
            p = float(text)
        except ValueError:
            self._say(f"loss: P must be a number in [0, 1], got {text!r}")
            return
        if not 0.0 <= p <= 1.0 or math.isnan(p):
            self._say(f"loss: P must be in [0, 1], got {text}")
            return
        target = self._link(a, b)
        if target is None:
            return
        line = f"loss {a} {b} {text}"

        def act() -> str:
            self.console.clear(line, "classical_loss", target)
            if p == 0.0:
                return f"no loss on {'~'.join(target)}"
            return self.console.fault(line, "classical_loss", target, p)

        self._say(self.console.submit(act))

    def do_tenant(self, arg: str) -> None:
        """tenant add NAME APP SRC DST RATE FMIN | tenant remove NAME: admit a tenant now
        (validated, routed and admitted as through the northbound API), or remove it."""
        from qnemu.service.commands import tenant_command

        self._say(tenant_command(self.console, arg))

    def do_pause(self, arg: str) -> None:
        """pause: stop emulated time (the nodes' clocks stand still)."""
        self._say(self.console.submit(lambda: self._set_paused(True, "pause")))

    def do_resume(self, arg: str) -> None:
        """resume: let emulated time flow again."""
        self._say(self.console.submit(lambda: self._set_paused(False, "resume")))

    def _set_paused(self, paused: bool, line: str) -> str:
        return self.console.set_paused(paused, line)

    def _record_quit(self) -> str:
        self.console.record("quit")
        return ""

    def do_quit(self, arg: str) -> bool:
        """quit: end the run now (the summary covers the emulated time reached)."""
        self.console.submit(self._record_quit)
        self.console.quit.set()
        return True

    do_EOF = do_quit

    # -- completion and names -------------------------------------------------------------------
    def _known(self, name: str) -> bool:
        if name in self.node_names:
            return True
        self._say(f"unknown node {name!r} (nodes: {', '.join(self.node_names)})")
        return False

    def _link(self, a: str, b: str) -> tuple[str, ...] | None:
        if not (self._known(a) and self._known(b)):
            return None
        order = {n: i for i, n in enumerate(self.node_names)}
        ends = {(link.a, link.b) for link in self.scenario.links}
        if (a, b) not in ends and (b, a) not in ends:
            self._say(f"no link between {a!r} and {b!r}")
            return None
        return (a, b) if order[a] < order[b] else (b, a)

    def _complete_names(self, text: str, line: str, names: Iterable[str]) -> list[str]:
        return [n for n in names if n.startswith(text)]

    def complete_link(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        words = shlex.split(line[:begidx])
        if len(words) == 1:
            return self._complete_names(text, line, self.node_names)
        if len(words) == 2:
            neighbors = {
                link.b if link.a == words[1] else link.a
                for link in self.scenario.links
                if words[1] in (link.a, link.b)
            }
            return self._complete_names(text, line, sorted(neighbors))
        return self._complete_names(text, line, ("down", "up"))

    def complete_node(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        words = shlex.split(line[:begidx])
        if len(words) == 1:
            return self._complete_names(text, line, self.node_names)
        return self._complete_names(text, line, ("crash", "restart"))

    def complete_pairs(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        return self._complete_names(text, line, self.node_names)

    def complete_controller(self, text: str, line: str, begidx: int, endidx: int) -> list[str]:
        words = shlex.split(line[:begidx])
        if len(words) == 1:
            return self._complete_names(text, line, [CENTRAL, *self.node_names])
        return self._complete_names(text, line, ("stop", "start"))

    complete_loss = complete_link


def stats_text(summary_so_far: dict[str, Any], emulated_s: float) -> str:
    """The ``stats`` answer: each tenant's figures so far and the violations."""
    lines = [f"emulated {emulated_s:.4f} s"]
    for name, row in summary_so_far.get("tenants", {}).items():
        fidelity = row.get("fidelity_mean")
        shown = "-" if fidelity is None else f"{fidelity:.4f}"
        lines.append(
            f"{name}: {row.get('pairs_delivered', 0)} pairs, {row.get('rate_hz', 0):.4g} Hz, "
            f"F {shown}"
        )
    violations = {k: v for k, v in summary_so_far.get("violations", {}).items() if v}
    lines.append(f"violations: {violations or 'none'}")
    return "\n".join(lines)


# -- replay ------------------------------------------------------------------------------------
_STARTS = {
    ("link", "down"): "link_down",
    ("node", "crash"): "node_crash",
    ("controller", "stop"): "controller_down",
}
_ENDS = {
    ("link", "up"): "link_down",
    ("node", "restart"): "node_crash",
    ("controller", "start"): "controller_down",
}


def replay_faults(commands: Iterable[tuple[float, str]], order: list[str]) -> list[FaultSpec]:
    """The faults a console session caused, as a timeline: each start paired with the
    end that followed it (none: to the end of the run). ``order``: the scenario's nodes."""
    rank = {n: i for i, n in enumerate(order)}
    open_: dict[tuple[str, tuple[str, ...]], tuple[float, float | None]] = {}
    out: list[FaultSpec] = []

    def close(key: tuple[str, tuple[str, ...]], t_s: float) -> None:
        started = open_.pop(key, None)
        if started is not None:
            out.append(FaultSpec(key[0], key[1], started[0], t_s - started[0], started[1]))

    for t_s, line in commands:
        words = line.split()
        if words[0] in ("link", "loss"):
            a, b = words[1], words[2]
            target: tuple[str, ...] = (a, b) if rank[a] < rank[b] else (b, a)
        else:
            target = (words[1],)
        if words[0] == "loss":
            close(("classical_loss", target), t_s)
            if float(words[3]) > 0.0:
                open_[("classical_loss", target)] = (t_s, float(words[3]))
            continue
        action = (words[0], words[-1])
        if action in _STARTS:
            open_[(_STARTS[action], target)] = (t_s, None)
        elif action in _ENDS:
            close((_ENDS[action], target), t_s)
    for (kind, target), (at_s, value) in open_.items():
        out.append(FaultSpec(kind, target, at_s, None, value))
    return sorted(out, key=lambda f: f.at_s)


def drive_virtual(
    console: LiveConsole,
    host: Host,
    scheduler: VirtualScheduler,
    duration_s: float,
    record: Callable[[list[dict[str, Any]]], None],
    progress: Callable[[float], dict[str, Any]],
) -> float:
    """Run a virtual-time emulation paced by the wall clock under the console; ``record``
    takes each drained batch, ``progress(t)`` returns the summary so far. Returns the
    emulated time reached."""
    console.host = host
    latest: dict[str, float] = {"t": 0.0}

    def step(emulated_s: float) -> None:
        record([host.drain()])
        latest["t"] = emulated_s

    def stats() -> str:
        record([host.drain()])
        return stats_text(progress(latest["t"]), latest["t"])

    console.stats = stats
    try:
        reached = console.drive(scheduler, duration_s, step)
        record([host.drain()])
    finally:
        console.drain_on_exit()
    return reached


def with_recovery(scenario: Scenario) -> Scenario:
    """The scenario with fault detection and recovery on (live faults need them)."""
    import dataclasses

    if scenario.control.recovery != "auto":
        return scenario
    return dataclasses.replace(
        scenario, control=dataclasses.replace(scenario.control, recovery="on")
    )


def run_console(emulation: Any, stdin: TextIO | None = None, stdout: TextIO | None = None) -> Any:
    """Run ``emulation`` (virtual mode, a scenario :func:`with_recovery`) under the
    console; returns its summary once the user quits (or raises what the run raised)."""
    import sys

    console = emulation.console = LiveConsole(emulation.dilation)
    out = stdout or sys.stdout
    outcome: dict[str, Any] = {}

    def work() -> None:
        try:
            outcome["summary"] = emulation.run()
            out.write(
                f"\nrun ended at {outcome['summary']['emulated_s']:.4f} emulated s "
                f"(quit to leave)\n"
            )
            out.flush()
        except BaseException as exc:  # handed to the caller below
            outcome["error"] = exc
        finally:
            console.quit.set()

    worker = threading.Thread(target=work, name="qnemu-emulation", daemon=True)
    worker.start()
    prompt = Prompt(console, emulation.scenario, stdin, stdout)
    if stdin is not None:
        prompt.use_rawinput = False
    prompt.cmdloop()
    console.quit.set()
    worker.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["summary"]


class ConsoleRun:
    """An emulation run under the console, shaped like the emulation for the CLI."""

    def __init__(self, emulation: Any) -> None:
        self.emulation = emulation

    @property
    def folder(self) -> Any:
        return self.emulation.folder

    def run(self) -> Any:
        return run_console(self.emulation)


def replay_scenario(folder: str) -> Scenario:
    """The scenario of a recorded run with its console actions as a ``faults:`` timeline
    (``qnemu run --replay DIR``), for the emulated time the run reached."""
    import dataclasses
    import json
    from pathlib import Path

    from qnemu.errors import ScenarioError
    from qnemu.scenario import load_scenario

    root = Path(folder)
    for name in ("scenario.yaml", "events.jsonl"):
        if not (root / name).is_file():
            raise ScenarioError(f"--replay: {root} has no {name} (not a run folder)")
    scenario = load_scenario(root / "scenario.yaml")
    commands = []
    with open(root / "events.jsonl", encoding="utf-8") as lines:
        for line in lines:
            record = json.loads(line)
            if record.get("event") == "console":
                commands.append((float(record["t_s"]), str(record["command"])))
    faults = replay_faults(
        [(t, c) for t, c in commands if c.split()[0] in ("link", "node", "controller", "loss")],
        [n.id for n in scenario.nodes],
    )
    duration = scenario.duration_s
    summary = root / "summary.json"
    if summary.is_file():
        reached = json.loads(summary.read_text(encoding="utf-8")).get("emulated_s")
        if isinstance(reached, int | float) and reached > 0:
            duration = float(reached)
    return dataclasses.replace(
        scenario,
        duration_s=duration,
        faults=tuple(scenario.faults) + tuple(faults),
        control=dataclasses.replace(scenario.control, recovery="on"),
    )
