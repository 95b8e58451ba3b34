"""Model registry: ``@register_model`` builders, ``create_model`` by name, constructor arguments as config."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from antseg.errors import AntsegInputError
from antseg.registry import Registry

if TYPE_CHECKING:
    from torch import nn

MODELS: Registry[Callable[..., nn.Module]] = Registry("model")
DEFAULT_MODEL = "unet-lite"  # measured best on a CPU (benchmarks/bench_models.py)

# antseg's own architectures: their modules (torch, segmentation-models-pytorch) load when a model is built.
for _name, _module in (
    ("unet-lite", "antseg.models.lite_unet"),
    ("unet", "antseg.models.smp_models"),
    ("pspnet", "antseg.models.smp_models"),
    ("transresunet", "antseg.models.transresunet"),
    ("ensemble", "antseg.models.ensemble"),
):
    MODELS.declare(_name, _module)


def register_model(name: str) -> Callable:
    """Register a builder ``fn(in_channels, classes, **kwargs) -> nn.Module`` under ``name``."""
    return MODELS.register(name)


def list_models() -> list[str]:
    return MODELS.names()


def model_defaults(name: str) -> dict[str, Any]:
    """The builder's keyword arguments and their defaults."""
    sig = inspect.signature(MODELS.get(name))
    return {k: p.default for k, p in sig.parameters.items() if p.default is not inspect.Parameter.empty}


def create_model(name: str, **kwargs: Any) -> nn.Module:
    """Build a registered model; ``None`` kwargs are dropped so unset CLI flags never override defaults.

    The resolved arguments are kept on the module as ``antseg_spec`` (saved with every checkpoint).

    Raises:
        AntsegInputError: unknown name (the message lists valid names) or an argument the builder lacks.
    """
    try:
        builder = MODELS.get(name)
    except KeyError as exc:
        raise AntsegInputError(None, str(exc.args[0])) from None
    kwargs = {k: v for k, v in kwargs.items() if v is not None}
    params = inspect.signature(builder).parameters
    unknown = sorted(set(kwargs) - set(params))
    if unknown:
        raise AntsegInputError(
            None, f"model {name!r} has no argument(s) {', '.join(unknown)}; has: {', '.join(params)}"
        )
    resolved = {**model_defaults(name), **kwargs}
    model = builder(**resolved)
    model.antseg_spec = {"name": name, "kwargs": _plain(resolved)}
    return model


def _plain(d: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
