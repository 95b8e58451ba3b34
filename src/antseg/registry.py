"""A small typed registry: one per kind of plugin (models, importers, exporters)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Maps names to plugins; refuses duplicates and lists valid names in its errors.

    A plugin may be *declared* before its module is imported (:meth:`declare`): its name is listed at once and
    its module imported on the first :meth:`get`, so listing names (``--help`` texts) costs no heavy import.

    Args:
        kind: what is registered ("importer", "model", ...), used in error messages.
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}
        self._declared: dict[str, str] = {}

    def declare(self, name: str, module: str) -> None:
        """Say that importing ``module`` registers ``name``; raises ValueError if the name is taken."""
        if name in self:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        self._declared[name] = module

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator registering ``obj`` under ``name``; raises ValueError if the name is taken (by another plugin,
        or declared for another module)."""

        def deco(obj: T) -> T:
            declared = self._declared.get(name)
            if name in self._items or (declared is not None and declared != getattr(obj, "__module__", None)):
                raise ValueError(f"{self.kind} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return deco

    def get(self, name: str) -> T:
        """Return the plugin called ``name`` (importing its declared module on first use); KeyError listing the
        valid names otherwise."""
        if name not in self._items and name in self._declared:
            importlib.import_module(self._declared[name])
        try:
            return self._items[name]
        except KeyError:
            raise KeyError(f"unknown {self.kind} {name!r}; valid: {', '.join(self.names())}") from None

    def names(self) -> list[str]:
        """Every registered or declared name, sorted."""
        return sorted(set(self._items) | set(self._declared))

    def __contains__(self, name: object) -> bool:
        return name in self._items or name in self._declared

    def __len__(self) -> int:
        return len(self.names())
