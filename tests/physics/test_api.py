"""The public physics API: every exported name imports, is documented, and no Ray."""

import ast
import inspect
from pathlib import Path

import qnemu.physics as physics


def test_every_public_callable_has_a_docstring():
    for name in physics.__all__:
        obj = getattr(physics, name)
        if callable(obj):
            assert inspect.getdoc(obj), f"{name} has no docstring"


def test_physics_imports_only_numpy_and_scipy():
    allowed = {
        "numpy",
        "scipy",
        "qnemu",
        "__future__",
        "math",
        "dataclasses",
        "functools",
        "collections",
        "typing",  # annotations only
    }
    for path in Path(physics.__file__).parent.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                roots = {(node.module or "").split(".")[0]}
            else:
                continue
            assert roots <= allowed, f"{path.name} imports {roots - allowed}"
