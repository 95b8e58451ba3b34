"""The checkpoint format: a typed description (:class:`CheckpointMeta`), one atomic writer, one checked reader.

A checkpoint file holds the architecture and its arguments, the weights, and everything needed to use them
(structures, landmarks, input size, normalisation, spacing, side gate, the spur head's decoding settings).
Files are written with ``torch.save`` through a temporary file and an atomic rename, and read with
``weights_only=True``: loading never unpickles arbitrary objects, only tensors, numbers, strings, lists and
dicts. The format is versioned; a file from another version gets a clear error.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from torch import nn

import antseg
from antseg.errors import AntsegInputError
from antseg.models.registry import create_model

FORMAT = "antseg-checkpoint"
#: Version 2: typed meta (this module). Version 1 files hold the same keys untyped and are read as well.
VERSION = 2
READABLE_VERSIONS = (1, 2)

TASK_SEGMENTATION = "segmentation"
TASK_LANDMARKS = "landmarks"


@dataclass
class CheckpointMeta:
    """Everything a checkpoint needs besides the weights.

    Attributes:
        task: ``segmentation`` or ``landmarks`` (the scleral-spur model).
        structures: output channel names of a segmentation model (canonical names).
        landmarks: landmark names, in output-channel order for a spur model.
        input_size: [height, width] of the network input (images are letterboxed into it).
        in_channels: 1 (grey) or 3 (RGB).
        normalization: ``image_zscore`` or ``imagenet``.
        side_gate: ``left_*`` / ``right_*`` channels are gated to their half of the scan.
        spacing_mm: [x, y] mm per pixel of the training data, or None.
        dataset, synthetic: the training dataset's name, and whether it was a phantom (synthetic images only).
        threshold: probability above which a pixel belongs to a structure.
        head, sigma, presence: spur stage 1: output head (``softmax``), target Gaussian sigma (input px),
            presence-probability threshold.
        crop, refine_sigma, refine_iterations: spur stage 2: crop size and target sigma (full-resolution px),
            refinement passes at inference.
    """

    task: str = TASK_SEGMENTATION
    structures: list[str] = field(default_factory=list)
    landmarks: list[str] = field(default_factory=list)
    input_size: list[int] = field(default_factory=lambda: [256, 512])
    in_channels: int = 1
    normalization: str = "image_zscore"
    side_gate: bool = False
    spacing_mm: list[float] | None = None
    modality: str = ""
    threshold: float = 0.5
    dataset: str = ""
    synthetic: bool = False
    recipe: str = ""
    antseg_version: str = antseg.__version__
    epoch: int = 0
    val_score: float | None = None
    head: str = ""
    sigma: float | None = None
    presence: float | None = None
    crop: int | None = None
    refine_sigma: float | None = None
    refine_iterations: int | None = None

    @property
    def spacing(self) -> tuple[float, float] | None:
        """(x, y) mm per pixel, or None."""
        return (float(self.spacing_mm[0]), float(self.spacing_mm[1])) if self.spacing_mm else None

    @property
    def input_hw(self) -> tuple[int, int]:
        return int(self.input_size[0]), int(self.input_size[1])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckpointMeta:
        """Known keys are taken; keys of other antseg releases are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


@dataclass
class Checkpoint:
    """A checkpoint read from disk (or about to be written)."""

    model: dict[str, Any]  # {"name": registered model name, "kwargs": builder arguments}
    state_dict: dict[str, torch.Tensor]
    meta: CheckpointMeta
    training: dict[str, Any] | None = None  # optimiser/scheduler/RNG state, for --resume
    refiner: dict[str, Any] | None = None  # spur stage 2: {"model": spec, "state_dict": weights}
    path: Path | None = None
    version: int = VERSION

    def build(self, device: str | torch.device = "cpu") -> nn.Module:
        """The stage-1 (or only) network with its weights, in eval mode."""
        return build_model(self.model, self.state_dict, device)

    def build_refiner(self, device: str | torch.device = "cpu") -> nn.Module:
        if self.refiner is None:
            raise AntsegInputError(self.path, "checkpoint has no refinement network")
        return build_model(self.refiner["model"], self.refiner["state_dict"], device)


def model_spec(model: nn.Module) -> dict[str, Any]:
    spec = getattr(model, "antseg_spec", None)
    if spec is None:
        raise ValueError("model was not built by antseg.models.create_model")
    return spec


def _weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    meta: CheckpointMeta,
    training: dict[str, Any] | None = None,
    refiner: nn.Module | None = None,
) -> Path:
    """Write a checkpoint atomically (temporary file, then rename) and return its path.

    Args:
        meta: the typed description of the model.
        training: optimiser/scheduler/epoch/RNG state for ``--resume`` (``last.pt`` only).
        refiner: the spur model's stage-2 network, stored beside the stage-1 one.
    """
    path = Path(path)
    payload: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "model": model_spec(model),
        "state_dict": _weights(model),
        "meta": meta.to_dict(),
    }
    if training:
        payload["training"] = training
    if refiner is not None:
        payload["refiner"] = {"model": model_spec(refiner), "state_dict": _weights(refiner)}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_checkpoint(path: str | Path) -> Checkpoint:
    """Read and check one checkpoint file (safely: ``weights_only=True``).

    Raises:
        AntsegInputError: missing, unreadable, not an antseg checkpoint, or from an unsupported format version.
    """
    path = Path(path)
    if path.is_dir():
        raise AntsegInputError(path, "is a folder: give a checkpoint file (or use antseg.models.runs)")
    try:
        with warnings.catch_warnings():  # torch's pickle warnings would add lines to a one-line error
            warnings.simplefilter("ignore")
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise AntsegInputError(path, "checkpoint not found") from None
    except Exception as exc:
        raise AntsegInputError(path, f"not a readable antseg checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise AntsegInputError(path, "not an antseg checkpoint")
    version = payload.get("version")
    if version not in READABLE_VERSIONS:
        newer = isinstance(version, int) and version > VERSION
        raise AntsegInputError(
            path,
            f"checkpoint format version {version!r} "
            + ("is newer than this antseg reads" if newer else "is not supported")
            + f" (this antseg {antseg.__version__} reads versions {', '.join(map(str, READABLE_VERSIONS))})",
        )
    try:
        return Checkpoint(
            model=payload["model"],
            state_dict=payload["state_dict"],
            meta=CheckpointMeta.from_dict(payload.get("meta") or {}),
            training=payload.get("training"),
            refiner=payload.get("refiner"),
            path=path,
            version=int(version),
        )
    except (KeyError, TypeError) as exc:
        raise AntsegInputError(path, f"checkpoint is incomplete ({exc})") from None


#: How each modality is named in messages.
MODALITY_NAMES = {"asoct": "AS-OCT", "surgical": "surgical-video"}


def require_modality(meta: CheckpointMeta, path: str | Path | None, modality: str, use: str) -> None:
    """Refuse a model trained on another modality than ``modality`` (``asoct`` or ``surgical``) for ``use``
    (``"report"``, ``"video segmentation"``): a cornea model of surgical video run on an AS-OCT scan finds
    nothing, and the scan would be blamed. A checkpoint that does not record its modality is accepted.

    Raises:
        AntsegInputError: naming the checkpoint, its modality and what ``use`` needs.
    """
    if meta.modality and modality and meta.modality != modality:
        trained = f", trained on '{meta.dataset}'" if meta.dataset else ""
        raise AntsegInputError(
            path, f"is {modality_name(meta.modality)} model{trained}: {use} needs {modality_name(modality)} model"
        )


def modality_name(modality: str) -> str:
    """``asoct`` -> ``an AS-OCT``, ``surgical`` -> ``a surgical-video`` (with its article, for messages)."""
    name = MODALITY_NAMES.get(modality, modality)
    return f"{'an' if name[:1].upper() in 'AEIOU' else 'a'} {name}"


def build_model(spec: dict[str, Any], state_dict: dict, device: str | torch.device = "cpu") -> nn.Module:
    """Rebuild a model from its saved spec and weights (eval mode)."""
    # The weights come from the checkpoint: never fetch or read pretrained encoder weights again.
    kwargs = {k: v for k, v in spec["kwargs"].items() if k != "encoder_weights"}
    model = create_model(spec["name"], **kwargs)
    model.antseg_spec = spec
    model.load_state_dict(state_dict)
    return model.to(device).eval()


def load_model(path: str | Path, device: str | torch.device = "cpu") -> tuple[nn.Module, CheckpointMeta]:
    """Rebuild the model of a checkpoint file and load its weights; returns (model in eval mode, meta)."""
    ck = read_checkpoint(path)
    return ck.build(device), ck.meta
