"""Model registry: ``@register_model`` builders, ``create_model`` by name, constructor arguments as config."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from antseg.errors import AntsegInputError
from antseg.registry import Registry

MODELS: Registry[Callable[..., nn.Module]] = Registry("model")
DEFAULT_MODEL = "unet-lite"  # measured best on a CPU (benchmarks/bench_models.py)


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


class PadToMultiple(nn.Module):
    """Pads the input (reflect) to a multiple of ``multiple`` and crops the output back: any size works.

    With ``coords``, two channels holding the normalised x and y position (-1..1) are appended to the
    input (CoordConv): mirror-image structures such as the left and right iris are then told apart by
    where they are, not only by local texture. The wrapped net must take ``in_channels + 2``.
    """

    def __init__(self, net: nn.Module, multiple: int = 32, coords: bool = False) -> None:
        super().__init__()
        self.net, self.multiple, self.coords = net, multiple, coords

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.coords:
            b, _, hh, ww = x.shape
            gy = torch.linspace(-1, 1, hh, device=x.device, dtype=x.dtype).view(1, 1, hh, 1).expand(b, 1, hh, ww)
            gx = torch.linspace(-1, 1, ww, device=x.device, dtype=x.dtype).view(1, 1, 1, ww).expand(b, 1, hh, ww)
            x = torch.cat([x, gx, gy], dim=1)
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
            x = nn.functional.pad(x, (0, pw, 0, ph), mode=mode)
        return self.net(x)[..., :h, :w]


def load_encoder_weights(encoder: nn.Module, weights: str | None) -> None:
    """Load a local encoder state dict (``.pth``/``.pt``); ``imagenet`` is handled by the library builder."""
    if weights in (None, "", "imagenet"):
        return
    from pathlib import Path

    path = Path(weights)
    if not path.is_file():
        raise AntsegInputError(path, "encoder weights file not found")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise AntsegInputError(path, f"not a torch state dict ({type(exc).__name__})") from None
    state = state.get("state_dict", state) if isinstance(state, dict) else state
    own = encoder.state_dict()
    matched = {k: v for k, v in state.items() if k in own and getattr(v, "shape", None) == own[k].shape}
    if not matched:
        raise AntsegInputError(path, "no tensor in this file matches the encoder")
    own.update(matched)
    nn.Module.load_state_dict(encoder, own)
