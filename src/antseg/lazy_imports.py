"""Package attributes imported on first use (PEP 562), so that importing a package, or a light module inside it,
does not import the heavy libraries (torch, OpenCV) its other modules need: ``antseg --help`` stays fast."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable
from typing import Any


def lazy_attributes(package: str, homes: dict[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` serving each name in ``homes`` from its module.

    Args:
        package: the package's ``__name__`` (for error messages).
        homes: attribute name -> the module that defines it.

    Example (in a package's ``__init__.py``)::

        __getattr__, __dir__ = lazy_attributes(__name__, {"load_model": "antseg.models.checkpoint"})
    """

    def getattr_(name: str) -> Any:
        try:
            module = homes[name]
        except KeyError:
            raise AttributeError(f"module {package!r} has no attribute {name!r}") from None
        return getattr(importlib.import_module(module), name)

    def dir_() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(homes))

    return getattr_, dir_
