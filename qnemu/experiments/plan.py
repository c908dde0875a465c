"""What a comparison will run: controllers, sweep grid, repeats and seeds, all validated.

Everything a user can get wrong is checked here, before the first run starts, and every
problem is reported at once (one line each) in a :class:`~qnemu.errors.ScenarioError`:
an unknown controller (answered with the valid ones), a ``--sweep`` that is not
``PARAM=v1,v2``, a swept parameter the scenario does not have or that changes nothing.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qnemu.control.registry import load_controller
from qnemu.errors import QnemuError, ScenarioError
from qnemu.scenario import ARCHITECTURES, Scenario, load_scenario, load_yaml
from qnemu.scenario.unused import unused_reason

__all__ = [
    "MAX_POINTS",
    "MAX_REPEATS",
    "MAX_RUNS",
    "SWEEP_FORM",
    "ComparisonPlan",
    "RunSpec",
    "Sweep",
    "build_plan",
    "parse_controllers",
    "parse_sweep",
]

#: Most repeats per controller and sweep point (README, "Bounds").
MAX_REPEATS = 1_000
#: Most sweep points (the product of every ``--sweep``'s number of values).
MAX_POINTS = 1_000
#: Most runs in one comparison: controllers x sweep points x repeats.
MAX_RUNS = 10_000
#: The shape every ``--sweep`` must have; errors quote it.
SWEEP_FORM = "PARAM=v1,v2"
#: Parameters a comparison sets itself, so a sweep over them would fight it.
_RESERVED = {
    "seed": "set by --seed and the repeat number",
    "control.architecture": "set by --controllers",
}


@dataclass(frozen=True)
class Sweep:
    """One swept parameter: its dotted path and its values (as typed, and parsed as YAML)."""

    param: str
    texts: tuple[str, ...]
    values: tuple[Any, ...]


@dataclass(frozen=True)
class RunSpec:
    """One run of the grid: a controller, a sweep point, a repeat and its seed."""

    controller: str
    repeat: int
    seed: int
    point: tuple[tuple[str, str], ...]  # (param, value text), in sweep order
    overrides: Mapping[str, Any] = field(compare=False, hash=False)

    def cells(self) -> dict[str, str]:
        """The cells that identify the run in ``runs.csv`` (what ``--resume`` skips)."""
        return {
            "controller": self.controller,
            "repeat": str(self.repeat),
            "seed": str(self.seed),
            **dict(self.point),
        }

    @property
    def label(self) -> str:
        """``distributed r1 t2_s=0.01`` for progress lines."""
        point = " ".join(f"{p.rsplit('.', 1)[-1]}={v}" for p, v in self.point)
        return f"{self.controller} r{self.repeat}" + (f" {point}" if point else "")

    @property
    def slug(self) -> str:
        """A folder name: ``distributed-hardware.trapped_ion.t2_s=0.01-r1``."""
        parts = [self.controller, *(f"{p}={v}" for p, v in self.point), f"r{self.repeat}"]
        return re.sub(r"[^A-Za-z0-9_.=,-]+", "-", "-".join(parts))


@dataclass(frozen=True)
class ComparisonPlan:
    """A validated comparison: the base scenario, the sweeps and every run in order."""

    scenario_path: Path
    base: Scenario
    controllers: tuple[str, ...]
    repeats: int
    seed: int
    sweeps: tuple[Sweep, ...]
    runs: tuple[RunSpec, ...]
    tenants: tuple[str, ...]  # every tenant name at any sweep point, in first-seen order

    @property
    def params(self) -> tuple[str, ...]:
        """The swept parameters, in the order given."""
        return tuple(s.param for s in self.sweeps)

    def describe(self) -> dict[str, Any]:
        """Plain data for ``comparison.json`` (what ``--resume`` checks against)."""
        return {
            "scenario_path": str(self.scenario_path),
            "scenario": self.base.to_dict(),
            "controllers": list(self.controllers),
            "repeats": self.repeats,
            "seed": self.seed,
            "sweep": {s.param: list(s.texts) for s in self.sweeps},
        }


def parse_controllers(items: str | Iterable[str]) -> list[str]:
    """``"centralized,distributed"`` (or a list) -> validated names, in order.

    A name is anything ``qnemu run --controller`` takes (see :mod:`qnemu.control.registry`):
    a built-in architecture, ``package.module:Class`` or ``path/to/file.py:Class``.
    """
    names = _split(items) if isinstance(items, str) else [n.strip() for n in items]
    problems = []
    if not any(names):
        problems.append(
            "--controllers: name at least one controller "
            f"(valid: {', '.join(ARCHITECTURES)}, package.module:Class "
            "or path/to/file.py:Class)"
        )
    seen: set[str] = set()
    for name in names:
        if name in seen:
            problems.append(f"--controllers: {name!r} is listed twice")
        seen.add(name)
        problem = _controller_problem(name)
        if problem:
            problems.append(problem)
    if problems:
        raise ScenarioError(problems)
    return names


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",")] if text.strip() else []


def _controller_problem(name: str) -> str | None:
    try:
        load_controller(name, where="--controllers")
    except ScenarioError as exc:
        return str(exc)
    return None


def parse_sweep(items: Iterable[str]) -> list[Sweep]:
    """``["hardware.trapped_ion.t2_s=0.01,0.1,1"]`` -> sweeps; each value is read as YAML.

    Malformed items, empty values, repeated values or parameters, and parameters the
    comparison sets itself are all reported, each on its own line.
    """
    sweeps: list[Sweep] = []
    problems: list[str] = []
    for item in items:
        sweep, problem = _one_sweep(item)
        if problem or sweep is None:
            problems.append(problem or f"--sweep {item}: not a sweep")
        elif sweep.param in {s.param for s in sweeps}:
            problems.append(f"--sweep {sweep.param}: swept twice; give its values once")
        else:
            sweeps.append(sweep)
    if problems:
        raise ScenarioError(problems)
    return sweeps


def _one_sweep(item: str) -> tuple[Sweep | None, str | None]:
    param, sep, text = item.partition("=")
    param = param.strip()
    texts = tuple(t.strip() for t in text.split(","))
    example = "(e.g. hardware.trapped_ion.t2_s=0.01,0.1,1)"
    if not sep or not param or " " in param or not all(texts):
        return None, f"--sweep {item!r}: must look like {SWEEP_FORM} {example}"
    if param in _RESERVED:
        return None, f"--sweep {param}: cannot be swept, it is {_RESERVED[param]}"
    if len(set(texts)) != len(texts):
        return None, f"--sweep {param}: a value is repeated in {text!r}"
    try:
        values = tuple(load_yaml(t, f"--sweep {param}") for t in texts)
    except ScenarioError as exc:
        return None, exc.problems[0]
    return Sweep(param, texts, values), None


def build_plan(
    scenario_path: str | Path,
    controllers: Sequence[str],
    repeats: int,
    seed: int | None,
    sweeps: Sequence[Sweep],
    overrides: Mapping[str, Any] | None = None,
) -> ComparisonPlan:
    """Validate everything and lay out the runs: for each sweep point, for each repeat,
    every controller (so an interrupted comparison has all controllers at its first
    points). Repeat ``i`` of every controller uses seed ``seed + i``. ``overrides``
    (``--set``, ``--dilation``) apply to every run; a parameter may not be both set and
    swept, nor be one the comparison sets itself."""
    overrides = dict(overrides or {})
    problems = _override_problems(overrides, sweeps)
    if problems:
        raise ScenarioError(problems)
    base = load_scenario(scenario_path, overrides)
    problems = _size_problems(len(controllers), repeats, sweeps)
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        problems.append(f"--seed: must be an integer >= 0, got {seed!r}")
    if problems:  # before loading every sweep point: there may be billions
        raise ScenarioError(problems)
    points, tenants = _check_points(scenario_path, base, sweeps, problems, overrides, controllers)
    if problems:
        raise ScenarioError(problems)
    start = base.seed if seed is None else seed
    runs = tuple(
        RunSpec(controller, repeat, start + repeat, point, overrides)
        for point, overrides in points
        for repeat in range(repeats)
        for controller in controllers
    )
    return ComparisonPlan(
        Path(scenario_path),
        base,
        tuple(controllers),
        repeats,
        start,
        tuple(sweeps),
        runs,
        tuple(tenants),
    )


def _override_problems(overrides: Mapping[str, Any], sweeps: Sequence[Sweep]) -> list[str]:
    """``--set`` parameters the comparison sets itself, or that are also swept."""
    problems = []
    swept = {s.param for s in sweeps}
    for param in overrides:
        if param in _RESERVED:
            problems.append(f"--set {param}: cannot be set, it is {_RESERVED[param]}")
        elif param in swept:
            problems.append(f"--set {param}: is also swept; give it once, with --set or --sweep")
    return problems


def _size_problems(controllers: int, repeats: Any, sweeps: Sequence[Sweep]) -> list[str]:
    """Problems with the comparison's size: repeats, sweep points and runs, each against
    its bound (:data:`MAX_REPEATS`, :data:`MAX_POINTS`, :data:`MAX_RUNS`)."""
    if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 1:
        return [f"--repeats: must be an integer >= 1, got {str(repeats)[:40]!r}"]
    if repeats > MAX_REPEATS:
        return [f"--repeats: must be <= {MAX_REPEATS} (MAX_REPEATS), got {repeats}"]
    points = 1
    for sweep in sweeps:
        points *= len(sweep.texts)
    if points > MAX_POINTS:
        return [f"--sweep: {points} sweep points, above the bound of {MAX_POINTS} (MAX_POINTS)"]
    runs = controllers * points * repeats
    if runs > MAX_RUNS:
        return [
            f"--repeats: {controllers} controllers x {points} sweep points x {repeats} "
            f"repeats = {runs} runs, above the bound of {MAX_RUNS} (MAX_RUNS)"
        ]
    return []


def _check_points(
    path: str | Path,
    base: Scenario,
    sweeps: Sequence[Sweep],
    problems: list[str],
    fixed: Mapping[str, Any],
    controllers: Sequence[str] = (),
) -> tuple[list, list[str]]:
    """Load the scenario at every grid point; report what fails or does nothing (the
    rule of :mod:`qnemu.scenario.unused`, as ``qnemu run --set`` warns of)."""
    points = []
    tenants = [t.name for t in base.tenants]
    resolved: dict[tuple, Scenario] = {}
    for combo in itertools.product(*(range(len(s.texts)) for s in sweeps)):
        point = tuple((s.param, s.texts[i]) for s, i in zip(sweeps, combo, strict=True))
        overrides = {**fixed, **{s.param: s.values[i] for s, i in zip(sweeps, combo, strict=True)}}
        try:
            scenario = load_scenario(path, overrides)
        except QnemuError as exc:
            for problem in getattr(exc, "problems", [str(exc)]):
                line = _point_problem(point, problem)
                if line not in problems:
                    problems.append(line)
            continue
        resolved[combo] = scenario
        tenants += [t.name for t in scenario.tenants if t.name not in tenants]
        groups = [t.group.name for t in scenario.tenants if t.group is not None]
        tenants += [g for g in dict.fromkeys(groups) if g not in tenants]
        points.append((point, overrides))
    for axis, sweep in enumerate(sweeps):
        reason = _no_effect(resolved, axis, sweep, controllers or [base.control.architecture])
        if len(sweep.texts) > 1 and reason:
            problems.append(f"--sweep {sweep.param}: {reason} (scenario {base.name!r})")
    return points, tenants


def _point_problem(point: Sequence[tuple[str, str]], problem: str) -> str:
    """A scenario problem at a grid point; the point is named unless the problem names
    the swept parameter itself (it then shows the value), so repeats collapse to one."""
    if any(problem.startswith(param) for param, _ in point):
        return f"--sweep: {problem}"
    return f"--sweep {', '.join(f'{p}={v}' for p, v in point)}: {problem}"


def _no_effect(
    resolved: Mapping[tuple, Scenario], axis: int, sweep: Sweep, controllers: Sequence[str]
) -> str | None:
    """Why ``sweep`` does nothing: with the other parameters held, at every point of the
    other axes (:func:`qnemu.scenario.unused.unused_reason`); None when it does something."""
    lines: dict[tuple, list[Scenario]] = {}
    for combo, scenario in resolved.items():
        rest = combo[:axis] + combo[axis + 1 :]
        lines.setdefault(rest, []).append(scenario)
    full = [line for line in lines.values() if len(line) == len(sweep.texts)]
    reasons = [unused_reason(sweep.param, line, controllers) for line in full]
    return reasons[0] if reasons and all(reasons) else None
