"""Load a segmentation checkpoint and segment images at their original size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from antseg.checks import resolve_device
from antseg.errors import AntsegInputError
from antseg.models.checkpoint import TASK_SEGMENTATION, CheckpointMeta, read_checkpoint
from antseg.models.runs import segmentation_checkpoint
from antseg.preprocessing import gate_sides, prepare_image, side_channels


@dataclass
class Prediction:
    masks: np.ndarray  # (N, H, W) uint8 {0, 1}
    probs: np.ndarray  # (N, H, W) float32 in [0, 1]


class MetaProperties:
    """What every segmentation predictor derives from its checkpoint description ``self.meta``."""

    meta: CheckpointMeta

    @property
    def spacing(self) -> tuple[float, float] | None:
        return self.meta.spacing

    @property
    def grayscale(self) -> bool:
        """True when the model takes grey images."""
        return int(self.meta.in_channels) == 1


class Predictor(MetaProperties):
    """A trained segmentation model ready to use.

    Args:
        weights: a checkpoint file or a run folder (``best.pt`` is used).
        device: ``auto``, ``cpu`` or ``cuda[:k]``.
    """

    def __init__(self, weights: str | Path, device: str = "auto") -> None:
        self.device = resolve_device(device)
        ck = read_checkpoint(segmentation_checkpoint(weights))
        if ck.meta.task != TASK_SEGMENTATION:
            raise AntsegInputError(ck.path, f"is a {ck.meta.task} checkpoint, not a segmentation model")
        self.checkpoint = ck
        self.meta = ck.meta
        self.model = ck.build(self.device)
        self.structures: list[str] = list(self.meta.structures)
        self.threshold = float(self.meta.threshold)

    @torch.no_grad()
    def predict(self, image: np.ndarray) -> Prediction:
        """Segment one image ((H, W) grey or (H, W, 3) RGB uint8) at its own size."""
        x, lb = prepare_image(image, int(self.meta.in_channels), self.meta.input_hw, self.meta.normalization)
        xt = torch.from_numpy(x)[None].to(self.device)
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.device.type == "cuda"):
            logits = self.model(xt).float()
        if self.meta.side_gate:
            logits = gate_sides(logits, side_channels(self.structures), lb.inner_hw[1])
        probs = torch.sigmoid(lb.invert(logits))[0].cpu().numpy()
        return Prediction((probs > self.threshold).astype(np.uint8), probs.astype(np.float32, copy=False))
