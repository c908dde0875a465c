"""Every name in the public API imports and says what it is."""

import inspect

import pytest

import qnemu
import qnemu.physics


@pytest.mark.parametrize("module", [qnemu, qnemu.physics], ids=lambda m: m.__name__)
def test_every_public_name_imports_and_has_a_docstring(module):
    assert module.__all__, "the public API is curated"
    for name in module.__all__:
        value = getattr(module, name)
        if inspect.isfunction(value) or inspect.isclass(value):
            assert inspect.getdoc(value), f"{module.__name__}.{name} has no docstring"
