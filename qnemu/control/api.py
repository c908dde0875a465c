"""The Controller API: typed events in, typed instructions out, one class per controller.

A controller is a Python class deriving from :class:`Controller`. Its methods are tagged
with the event type they handle (``@handles(PairHeralded)``), Ryu style; it emits
instructions through its context. It sees a narrow :class:`ControllerContext`: the
topology's names and lengths, the tenants and their paths, the nodes it serves, the
emulated clock — never actor handles, never ground truth.

Where it runs is the runtime's business, chosen by the class attribute ``placement``:

- ``"node"``: one instance inside every node; events are local and immediate;
- ``"central"``: one instance at ``control.location`` (default: the graph's center); nodes
  report to it over the emulated classical network, and its instructions travel back;
- ``"domain"``: one instance per domain (``control.domains`` or graph communities), each at
  its domain's center, serving the nodes of its domain.

Compute time is real: the wall time a handler takes (× ``control.cpu_scale``) is added to
the emulated send time of every instruction it emits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import networkx as nx

# -- events -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControllerEvent:
    """Base of every event a controller can handle; ``t_s`` is when it reached it."""

    t_s: float


@dataclass(frozen=True)
class RequestArrived(ControllerEvent):
    """A tenant's path is set up and its requests start (once, at the start of the run)."""

    tenant: str
    path: tuple[str, ...]

    def __str__(self) -> str:
        return f"request {self.tenant} over {'-'.join(self.path)} at {self.t_s:.6f}s"


@dataclass(frozen=True)
class PairHeralded(ControllerEvent):
    """``node`` holds one half of link pair ``pair`` towards ``neighbor`` for ``tenant``."""

    node: str
    pair: str
    neighbor: str
    tenant: str
    created_at_s: float
    known_at_s: float

    def __str__(self) -> str:
        return f"pair {self.pair} at {self.node} (towards {self.neighbor}, {self.tenant})"


@dataclass(frozen=True)
class PairReleased(ControllerEvent):
    """``node`` no longer holds its half of ``pair`` (swapped, used or discarded)."""

    node: str
    pair: str
    reason: str

    def __str__(self) -> str:
        return f"pair {self.pair} released at {self.node} ({self.reason})"


@dataclass(frozen=True)
class SwapResult(ControllerEvent):
    """A repeater's swap: the two link pairs it joined, and whether it worked."""

    node: str
    tenant: str
    left_pair: str
    right_pair: str
    success: bool

    def __str__(self) -> str:
        result = "ok" if self.success else "failed"
        return f"swap at {self.node} of {self.left_pair}+{self.right_pair}: {result}"


@dataclass(frozen=True)
class PurificationResult(ControllerEvent):
    """An end node's purification round for ``tenant`` and whether it kept the pair."""

    node: str
    tenant: str
    success: bool

    def __str__(self) -> str:
        return f"purification at {self.node} for {self.tenant}: {self.success}"


@dataclass(frozen=True)
class NodeReport(ControllerEvent):
    """A node's periodic state: memory slots occupied."""

    node: str
    occupied: int

    def __str__(self) -> str:
        return f"report from {self.node}: {self.occupied} slots occupied"


@dataclass(frozen=True)
class NodeUnreachable(ControllerEvent):
    """Every link of ``node`` is reported down: it is unreachable (crashed, or cut off)."""

    node: str

    def __str__(self) -> str:
        return f"{self.node} unreachable"


@dataclass(frozen=True)
class LinkDown(ControllerEvent):
    """``reporter`` detected that ``link`` (``a~b``) went down (missed heartbeats); the
    news reached this controller over the emulated classical network."""

    link: str
    reporter: str

    def __str__(self) -> str:
        return f"link {self.link} down (seen by {self.reporter}) at {self.t_s:.6f}s"


@dataclass(frozen=True)
class LinkUp(ControllerEvent):
    """``reporter`` hears its neighbor over ``link`` again."""

    link: str
    reporter: str

    def __str__(self) -> str:
        return f"link {self.link} up (seen by {self.reporter}) at {self.t_s:.6f}s"


@dataclass(frozen=True)
class Timer(ControllerEvent):
    """A timer the controller set with ``context.set_timer``."""

    name: str

    def __str__(self) -> str:
        return f"timer {self.name} at {self.t_s:.6f}s"


# -- instructions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    """Base of every instruction; ``node`` is where it must be carried out."""

    node: str


@dataclass(frozen=True)
class Swap(Instruction):
    """Bell-measure the node's halves of two link pairs, joining them for ``tenant``."""

    tenant: str
    left_pair: str
    right_pair: str


@dataclass(frozen=True)
class DiscardPair(Instruction):
    """Free the node's half of ``pair``."""

    pair: str


# -- controllers ----------------------------------------------------------------------------

E = TypeVar("E", bound=ControllerEvent)
_HANDLES = "_qnemu_handles"


def handles(*event_types: type[ControllerEvent]) -> Callable[[Callable], Callable]:
    """Mark a controller method as the handler of the given event types."""

    def mark(method: Callable) -> Callable:
        setattr(method, _HANDLES, event_types)
        return method

    return mark


class ControllerContext:
    """The narrow view of the network a controller gets, and its way to act."""

    def __init__(
        self,
        name: str,
        graph: nx.Graph,
        paths: dict[str, tuple[str, ...]],
        served: frozenset[str],
        location: str,
        clock: Callable[[], float],
        instruct: Callable[[Instruction], None],
        set_timer: Callable[[float, str], None],
    ) -> None:
        self.name = name
        self.graph = graph
        self.paths = paths
        self.served = served
        self.location = location
        self._clock = clock
        self._instruct = instruct
        self._set_timer = set_timer

    def now(self) -> float:
        """Emulated time at which the event being handled reached the controller (s)."""
        return self._clock()

    def instruct(self, instruction: Instruction) -> None:
        """Send an instruction to ``instruction.node`` (after this handler's compute time)."""
        if instruction.node not in self.served:
            raise ValueError(
                f"instruction.node: {instruction.node!r} is not served by controller {self.name!r}"
            )
        self._instruct(instruction)

    def set_timer(self, delay_s: float, name: str) -> None:
        """Deliver a :class:`Timer` event ``delay_s`` emulated seconds from now."""
        if delay_s < 0:
            raise ValueError(f"delay_s: must be >= 0, got {delay_s}")
        self._set_timer(delay_s, name)

    def roles(self, node: str) -> dict[str, tuple[str | None, str | None]]:
        """For every tenant whose path crosses ``node``: (previous hop, next hop)."""
        return tenant_roles(self.paths, node)


def tenant_roles(
    paths: Mapping[str, Sequence[str]],
    node: str,
) -> dict[str, tuple[str | None, str | None]]:
    """For every tenant whose path crosses ``node``: (previous hop, next hop), None at an
    end. The one definition of a node's place on its tenants' paths (nodes and
    controllers both use it)."""
    result = {}
    for tenant, path in paths.items():
        if node in path:
            i = path.index(node)
            result[tenant] = (
                path[i - 1] if i > 0 else None,
                path[i + 1] if i + 1 < len(path) else None,
            )
    return result


class Controller:
    """Base class of every controller (see the module docstring)."""

    placement: ClassVar[str] = "central"
    _handlers: ClassVar[dict[type, Callable]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.placement not in PLACEMENTS:
            raise TypeError(
                f"{cls.__name__}.placement: must be one of "
                f"{', '.join(PLACEMENTS)}, got {cls.placement!r}"
            )
        handlers: dict[type, Callable] = {}
        for klass in reversed(cls.__mro__):
            for value in vars(klass).values():
                for event_type in getattr(value, _HANDLES, ()):
                    handlers[event_type] = value
        cls._handlers = handlers

    def __init__(self, context: ControllerContext) -> None:
        self.context = context

    def handle(self, event: ControllerEvent) -> None:
        """Dispatch ``event`` to the handler tagged for its type (none: ignored by design)."""
        handler = self._handlers.get(type(event))
        if handler is not None:
            handler(self, event)


PLACEMENTS = ("node", "central", "domain")
