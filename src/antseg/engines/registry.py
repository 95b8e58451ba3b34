"""The engine registry: ``@register_engine`` classes, ``get_engine`` by name (optional ones load lazily)."""

from __future__ import annotations

from collections.abc import Callable

from antseg.engines.base import Engine
from antseg.errors import AntsegInputError
from antseg.registry import Registry

ENGINES: Registry[type[Engine]] = Registry("engine")

#: What each declared engine does ("segmentation" and/or "landmarks"), known without importing its module.
LAZY_TASKS: dict[str, tuple[str, ...]] = {}


def register_engine(name: str) -> Callable[[type[Engine]], type[Engine]]:
    """Class decorator: register an :class:`Engine` subclass under ``name`` (sets ``cls.name``)."""
    deco = ENGINES.register(name)

    def wrap(cls: type[Engine]) -> type[Engine]:
        cls.name = name
        return deco(cls)

    return wrap


def register_lazy(name: str, module: str, tasks: tuple[str, ...] = ("segmentation",)) -> None:
    """Declare an engine whose module is imported only when the engine is asked for (:meth:`Registry.declare`);
    ``tasks`` says what it does."""
    ENGINES.declare(name, module)
    LAZY_TASKS[name] = tuple(tasks)


def engine_tasks(name: str) -> tuple[str, ...]:
    """The tasks of engine ``name`` ("segmentation", "landmarks"); () for an unknown name. Imports nothing heavy."""
    from antseg.models import list_models

    if name in list_models():
        return ("segmentation",)
    if name in LAZY_TASKS:
        return LAZY_TASKS[name]
    return tuple(ENGINES.get(name).tasks) if name in ENGINES else ()


def list_engines(task: str | None = None) -> list[str]:
    """Every engine name (or those doing ``task``): antseg's registered models (one engine each), then the
    registered engines."""
    from antseg.models import list_models

    names = list_models() + ENGINES.names()
    return names if task is None else [n for n in names if task in engine_tasks(n)]


def get_engine(name: str) -> Engine:
    """An instance of the engine ``name`` (an antseg model name or a registered engine); unknown names raise an
    error listing the valid ones."""
    from antseg.engines.builtin_segmentation import antseg_engine_names, model_engine

    if name in antseg_engine_names():
        return model_engine(name)
    if name not in ENGINES:
        raise AntsegInputError(None, f"unknown engine {name!r}; valid: {', '.join(list_engines())}")
    return ENGINES.get(name)()
