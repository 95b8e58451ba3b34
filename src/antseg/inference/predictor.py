"""Load a checkpoint and segment images at their original size."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from antseg.models import load_model
from antseg.training.data import gate_sides, prepare_image, side_channels
from antseg.training.trainer import resolve_device


@dataclass
class Prediction:
    masks: np.ndarray  # (N, H, W) uint8 {0, 1}
    probs: np.ndarray  # (N, H, W) float32 in [0, 1]


class Predictor:
    """A trained segmentation model ready to use.

    Args:
        weights: a checkpoint file or a run folder (``best.pt`` is used).
        device: ``auto``, ``cpu`` or ``cuda[:k]``.
    """

    def __init__(self, weights: str | Path, device: str = "auto") -> None:
        self.device = resolve_device(device)
        self.model, self.meta = load_model(weights, self.device)
        self.structures: list[str] = list(self.meta["structures"])
        self.threshold = float(self.meta.get("threshold", 0.5))

    @property
    def spacing(self) -> tuple[float, float] | None:
        sp = self.meta.get("spacing_mm")
        return (float(sp[0]), float(sp[1])) if sp else None

    @torch.no_grad()
    def predict(self, image: np.ndarray) -> Prediction:
        """Segment one image ((H, W) grey or (H, W, 3) RGB uint8) at its own size."""
        x, lb = prepare_image(
            image, int(self.meta["in_channels"]), tuple(self.meta["input_size"]), self.meta["normalization"]
        )
        xt = torch.from_numpy(x)[None].to(self.device)
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.device.type == "cuda"):
            logits = self.model(xt).float()
        if self.meta.get("side_gate"):
            logits = gate_sides(logits, side_channels(self.structures), lb.inner_hw[1])
        probs = torch.sigmoid(lb.invert(logits))[0].cpu().numpy()
        return Prediction((probs > self.threshold).astype(np.uint8), probs.astype(np.float32))
