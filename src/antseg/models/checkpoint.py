"""Self-contained checkpoints: architecture + arguments, weights, and everything needed to use them.

Files are written with ``torch.save`` and read with ``weights_only=True``: loading never unpickles
arbitrary objects, only tensors, numbers, strings, lists and dicts.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
from torch import nn

from antseg.errors import AntsegInputError
from antseg.models.registry import create_model

FORMAT = "antseg-checkpoint"
VERSION = 1


def model_spec(model: nn.Module) -> dict[str, Any]:
    spec = getattr(model, "antseg_spec", None)
    if spec is None:
        raise ValueError("model was not built by antseg.models.create_model")
    return spec


def save_checkpoint(
    path: str | Path, model: nn.Module, meta: dict[str, Any], extra: dict[str, Any] | None = None
) -> None:
    """Write a checkpoint atomically.

    Args:
        meta: structures, landmarks, input_size [h, w], normalization, spacing_mm, modality, ...
        extra: training state for ``--resume`` (optimizer, scheduler, epoch, RNG states).
    """
    path = Path(path)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = {"format": FORMAT, "version": VERSION, "model": model_spec(model), "state_dict": state, "meta": meta}
    if extra:
        payload["training"] = extra
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    torch.save(payload, tmp)
    os.replace(tmp, path)


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read and check a checkpoint file (safely: ``weights_only=True``)."""
    path = Path(path)
    if path.is_dir():
        for name in ("best.pt", "last.pt"):
            if (path / name).is_file():
                path = path / name
                break
        else:
            raise AntsegInputError(path, "no best.pt or last.pt in this run folder")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise AntsegInputError(path, "checkpoint not found") from None
    except Exception as exc:
        raise AntsegInputError(path, f"not a readable antseg checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise AntsegInputError(path, "not an antseg checkpoint")
    payload["path"] = str(path)
    return payload


def build_model(spec: dict[str, Any], state_dict: dict, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from its saved spec and weights (eval mode)."""
    # The weights come from the checkpoint: never fetch or read pretrained encoder weights again.
    kwargs = {k: v for k, v in spec["kwargs"].items() if k != "encoder_weights"}
    model = create_model(spec["name"], **kwargs)
    model.antseg_spec = spec
    model.load_state_dict(state_dict)
    return model.to(device).eval()


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, dict[str, Any]]:
    """Rebuild the model of a checkpoint and load its weights; returns (model in eval mode, meta)."""
    ck = read_checkpoint(path)
    return build_model(ck["model"], ck["state_dict"], device), ck["meta"]
