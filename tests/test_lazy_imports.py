"""Packages whose attributes load on first use: every exported name resolves to the object its module defines,
``dir()`` lists them, and an unknown name is an AttributeError (so ``hasattr`` and ``from ... import`` work)."""

from __future__ import annotations

import importlib

import pytest

LAZY_PACKAGES = ("antseg.models", "antseg.training", "antseg.io", "antseg.data")


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_exported_name_resolves(name):
    pkg = importlib.import_module(name)
    assert pkg.__all__ and set(pkg.__all__) <= set(dir(pkg)) and "__name__" in dir(pkg)
    for attr in pkg.__all__:
        obj = getattr(pkg, attr)
        home = getattr(obj, "__module__", None)
        assert home is None or home.startswith("antseg."), (attr, home)
    assert not hasattr(pkg, "no_such_name")
    with pytest.raises(AttributeError, match="no_such_name"):
        pkg.no_such_name  # noqa: B018


def test_from_import_of_a_submodule_still_works():
    from antseg.models import lite_unet  # not an exported name: Python imports the submodule

    assert lite_unet.__name__ == "antseg.models.lite_unet"
