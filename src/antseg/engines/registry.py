"""The engine registry: ``@register_engine`` classes, ``get_engine`` by name (optional ones load lazily)."""

from __future__ import annotations

import importlib
from collections.abc import Callable

from antseg.engines.base import Engine
from antseg.errors import AntsegInputError
from antseg.registry import Registry

ENGINES: Registry[type[Engine]] = Registry("engine")

#: Engines that live in modules with heavy optional imports: name -> module, imported on first use only.
LAZY_ENGINES: dict[str, str] = {}


def register_engine(name: str) -> Callable[[type[Engine]], type[Engine]]:
    """Class decorator: register an :class:`Engine` subclass under ``name`` (sets ``cls.name``)."""
    deco = ENGINES.register(name)

    def wrap(cls: type[Engine]) -> type[Engine]:
        cls.name = name
        return deco(cls)

    return wrap


def register_lazy(name: str, module: str) -> None:
    """Declare an engine whose module is imported only when the engine is asked for."""
    if name in LAZY_ENGINES or name in ENGINES:
        raise ValueError(f"engine {name!r} is already registered")
    LAZY_ENGINES[name] = module


def list_engines() -> list[str]:
    """Every engine name: antseg's registered models (one engine each), then the registered engines."""
    from antseg.models import list_models

    return list_models() + sorted(set(ENGINES.names()) | set(LAZY_ENGINES))


def get_engine(name: str) -> Engine:
    """An instance of the engine ``name`` (an antseg model name or a registered engine); unknown names raise an
    error listing the valid ones."""
    from antseg.engines.antseg_models import antseg_engine_names, model_engine

    if name in antseg_engine_names():
        return model_engine(name)
    if name not in ENGINES and name in LAZY_ENGINES:
        importlib.import_module(LAZY_ENGINES[name])
    if name not in ENGINES:
        raise AntsegInputError(None, f"unknown engine {name!r}; valid: {', '.join(list_engines())}")
    return ENGINES.get(name)()
