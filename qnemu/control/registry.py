"""The one registry of names: built-in control planes, routings, and loading user controllers.

A control plane is named by a built-in word (``centralized``, ``distributed``,
``hierarchical``), ``package.module:Class`` (importable, or relative to the working
directory) or ``path/to/file.py:Class``. The scenario schema checks the spelling with
:func:`check_controller_name` (nothing imported); ``qnemu run``, ``qnemu compare``, the
planner and :class:`~qnemu.Emulation` load with :func:`load_controller`, which also takes
a :class:`~qnemu.control.api.Controller` subclass itself.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from qnemu.errors import ScenarioError

if TYPE_CHECKING:
    from qnemu.control.api import Controller

#: Built-in control planes and the class that implements each (loaded on first use).
BUILT_IN = {
    "centralized": "qnemu.control.builtin:CentralizedController",
    "distributed": "qnemu.control.builtin:DistributedController",
    "hierarchical": "qnemu.control.builtin:HierarchicalController",
}
ARCHITECTURES = tuple(BUILT_IN)
#: Path selection of the planner: Q-NUM (non-additive utility) or the additive baseline
#: (``additive`` is another name for ``dijkstra``).
ROUTINGS = ("qnum", "dijkstra", "additive")

#: ``package.module:Class`` or ``path/to/file.py:Class``.
_CONTROLLER_NAME = re.compile(
    r"^(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*|[^\x00-\x1f]+\.py):[A-Za-z_]\w*$"
)
_VALID = f"valid: {', '.join(ARCHITECTURES)}, package.module:Class or path/to/file.py:Class"


def check_controller_name(value: str) -> str | None:
    """Why ``value`` cannot name a control plane, or None. Checks the spelling only;
    nothing is imported."""
    if value in BUILT_IN or _CONTROLLER_NAME.match(value):
        return None
    shown = value if len(value) <= 60 else value[:57] + "..."
    return f"unknown controller {shown!r} ({_VALID})"


def check_routing(name: str) -> str | None:
    """Why ``name`` is not a routing known to the planner, or None."""
    if name in ROUTINGS:
        return None
    return f"unknown routing {name!r} (valid: {', '.join(ROUTINGS)})"


def load_controller(
    name: str | type[Controller],
    where: str = "control.architecture",
) -> type[Controller]:
    """The controller class for a built-in name, ``package.module:Class``,
    ``path/to/file.py:Class`` or a class given directly. ``where`` names the field in
    the error (a :class:`~qnemu.errors.ScenarioError`) when it cannot be loaded."""
    from qnemu.control.api import Controller

    if isinstance(name, type):
        if issubclass(name, Controller):
            return name
        raise ScenarioError(f"{where}: {name.__qualname__} is not a qnemu Controller class")
    problem = check_controller_name(name)
    if problem:
        raise ScenarioError(f"{where}: {problem}")
    module_name, _, class_name = BUILT_IN.get(name, name).rpartition(":")
    cls = getattr(_import(module_name, where), class_name, None)
    if cls is None:
        raise ScenarioError(f"{where}: {name!r}: module {module_name!r} has no {class_name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Controller)):
        raise ScenarioError(f"{where}: {name!r} is not a qnemu Controller class")
    return cls


def controller_name(controller: str | type[Controller]) -> str:
    """A name for ``controller`` that :func:`load_controller` accepts in any process:
    built-ins by their word, user controllers by the absolute path of their file."""
    if isinstance(controller, type):
        load_controller(controller)
        module = sys.modules[controller.__module__]
        for word, target in BUILT_IN.items():
            if target == f"{controller.__module__}:{controller.__qualname__}":
                return word
        path = getattr(module, "__file__", None)
        if path is None:
            raise ScenarioError(
                f"control.architecture: {controller.__qualname__} is not "
                "defined in a file, so other processes cannot load it"
            )
        return f"{Path(path).resolve()}:{controller.__qualname__}"
    if controller in BUILT_IN:
        return controller
    load_controller(controller)
    module_name, _, class_name = controller.rpartition(":")
    module = _import(module_name, "control.architecture")
    if module.__file__ is None:
        raise ScenarioError(f"control.architecture: {module_name!r} is not loaded from a file")
    return f"{Path(module.__file__).resolve()}:{class_name}"


#: User-code names under this top-level name that are not found where the user is are
#: looked up in the bundled ``qnemu/examples`` (so the README's examples work anywhere).
_BUNDLED = "examples"


def _bundled_file(path: Path) -> Path:
    """``path`` resolved; ``examples/...`` missing here is the bundled file of that name."""
    bundled = Path(__file__).resolve().parent.parent / path
    if not path.exists() and not path.is_absolute() and path.parts[:1] == (_BUNDLED,):
        return bundled.resolve()
    return path.resolve()


def _import(module_name: str, where: str) -> ModuleType:
    try:
        if module_name.endswith(".py"):
            path = _bundled_file(Path(module_name))
            spec = importlib.util.spec_from_file_location(f"qnemu_user_{path.stem}", path)
            if spec is None or spec.loader is None or not path.exists():
                raise ImportError(f"no such file {path}")
            if spec.name in sys.modules and getattr(
                sys.modules[spec.name], "__file__", None
            ) == str(path):
                return sys.modules[spec.name]
            module = importlib.util.module_from_spec(spec)
            sys.modules[spec.name] = module
            spec.loader.exec_module(module)
            return module
        try:
            return importlib.import_module(module_name)
        except ImportError:
            if os.getcwd() not in sys.path:
                sys.path.insert(0, os.getcwd())  # like ``python -m``: the working directory
            try:
                return importlib.import_module(module_name)
            except ImportError:
                if module_name.split(".")[0] != _BUNDLED:
                    raise
            return importlib.import_module(f"qnemu.{module_name}")  # the bundled examples
    except Exception as exc:  # any failure to import user code is the user's input error
        raise ScenarioError(
            f"{where}: cannot import {module_name!r}: {type(exc).__name__}: {exc}"
        ) from exc
