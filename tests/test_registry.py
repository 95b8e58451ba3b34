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
