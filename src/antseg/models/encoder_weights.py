"""Local encoder weights (a ``.pth`` state dict) for the architectures that take pretrained encoders."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from antseg.errors import AntsegInputError


def load_encoder_weights(encoder: nn.Module, weights: str | None) -> None:
    """Load a local encoder state dict (``.pth``/``.pt``); ``imagenet`` is handled by the library builder."""
    if weights in (None, "", "imagenet"):
        return
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
