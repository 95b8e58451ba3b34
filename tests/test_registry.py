"""The plugin registry: duplicates refused, valid names listed in errors."""

from __future__ import annotations

import pytest

from antseg.registry import Registry


def test_registry_refuses_duplicates_and_lists_names():
    reg: Registry[int] = Registry("thing")
    reg.register("b")(1)
    reg.register("a")(2)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a")(3)
    with pytest.raises(KeyError, match="valid: a, b"):
        reg.get("c")
    assert reg.names() == ["a", "b"] and "a" in reg and len(reg) == 2


def test_declared_plugin_is_listed_at_once_and_imported_on_first_get():
    import sys

    reg: Registry[object] = Registry("thing")
    reg.declare("dec", "antseg.registry")  # any module: get imports it, and the plugin registers itself there
    assert reg.names() == ["dec"] and "dec" in reg and len(reg) == 1
    with pytest.raises(ValueError, match="already registered"):
        reg.declare("dec", "elsewhere")

    def plugin() -> None: ...

    plugin.__module__ = "somewhere.else"
    with pytest.raises(ValueError, match="already registered"):  # only the declared module may register it
        reg.register("dec")(plugin)
    plugin.__module__ = "antseg.registry"
    reg.register("dec")(plugin)
    assert reg.get("dec") is plugin and len(reg) == 1 and "antseg.registry" in sys.modules


def test_declared_plugin_that_does_not_register_is_an_unknown_name():
    reg: Registry[object] = Registry("thing")
    reg.declare("ghost", "antseg.errors")
    with pytest.raises(KeyError, match="unknown thing 'ghost'"):
        reg.get("ghost")


def test_builtin_registries_declare_exactly_what_their_modules_register():
    """Each declared name is registered by importing its module, and nothing else is registered there."""
    from antseg.data.exporters import EXPORTERS
    from antseg.data.importers import IMPORTERS
    from antseg.models import MODELS

    for reg in (IMPORTERS, EXPORTERS, MODELS):
        declared = dict(reg._declared)
        for name in declared:
            reg.get(name)
        assert sorted(reg._items) == sorted(declared) == reg.names()
