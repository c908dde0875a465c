"""The package's layers import one way: no import cycle between modules or sub-packages.

Only imports that run when a module is imported count (module level, outside
``if TYPE_CHECKING:``); an import inside a function is a deliberate late binding.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

import qnemu

ROOT = Path(qnemu.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_time_imports(
    tree: ast.Module, module: str, is_package: bool, modules: set[str]
) -> set[str]:
    found: set[str] = set()
    pending: list[ast.stmt] = list(tree.body)
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and not _is_type_checking(node):
            pending.extend(node.body + node.orelse)
        elif isinstance(node, ast.Try):
            pending.extend(node.body + node.orelse + node.finalbody)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("qnemu"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}" if base else package
            if base.startswith("qnemu"):
                # ``from package import module`` depends on the module, not on the
                # package's ``__init__`` (which Python runs first in any case)
                submodules = {f"{base}.{a.name}" for a in node.names} & modules
                found.update(submodules)
                if len(submodules) < len(node.names):
                    found.add(base)
    return found


def _graph() -> nx.DiGraph:
    modules = {_module_name(p): p for p in ROOT.rglob("*.py")}
    graph = nx.DiGraph()
    for name, path in modules.items():
        graph.add_node(name)
        tree = ast.parse(path.read_text())
        for target in _import_time_imports(tree, name, path.name == "__init__.py", set(modules)):
            if target in modules and target != name:
                graph.add_edge(name, target)
    return graph


def _package(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2])


def test_no_import_cycle_between_modules():
    graph = _graph()
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, cycles[:5]


def test_no_import_cycle_between_subpackages():
    packages = nx.DiGraph()
    for a, b in _graph().edges:
        # a package's __init__ re-exporting its own modules is not a dependency between layers
        if _package(a) != _package(b) and a != "qnemu":
            packages.add_edge(_package(a), _package(b))
    cycles = list(nx.simple_cycles(packages))
    assert not cycles, cycles[:5]
