"""A fine-tuned MedSAM run ready to predict: its SAM, and its box source (a segmentation model's masks, or the
ground truth for an oracle row). segment-anything is imported when a predictor is made (after the engine's
``check_available``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from antseg.engines.base import EngineOutput, EnginePredictor
from antseg.engines.registry import get_engine
from antseg.errors import AntsegInputError

#: A MedSAM run folder's files: written by :class:`antseg.engines.medsam.MedsamEngine`'s training, read here.
META, WEIGHTS = "medsam.json", "medsam.pt"


def load_box_predictor(run: Path, meta: dict[str, Any], device: str) -> tuple[EnginePredictor, str]:
    """The segmentation predictor whose masks give the boxes, and its display name."""
    path = Path(meta["box_run"])
    path = path if path.is_absolute() else (run / path).resolve()
    if not path.exists():
        raise AntsegInputError(path, "medsam box model run not found")
    if meta.get("box_method"):
        return get_engine(meta["box_method"]).load(path, device), meta["box_method"]
    from antseg.engines.builtin_segmentation import AntsegPredictor

    return AntsegPredictor(path, device), path.name


class MedsamPredictor(EnginePredictor):
    """Fine-tuned MedSAM plus its box source: one image -> canonical masks (N, H, W) at the image's size."""

    in_channels = 1

    def __init__(self, run: Path, device: str, boxes: str | None = None, box_model: str | Path | None = None) -> None:
        import torch

        from antseg.checks import resolve_device
        from antseg.engines.medsam_model import build_sam

        try:
            meta = json.loads((run / META).read_text(encoding="utf-8"))
            ck = torch.load(run / WEIGHTS, map_location="cpu", weights_only=True)
        except (OSError, json.JSONDecodeError) as exc:
            raise AntsegInputError(run, f"not a trained medsam run ({type(exc).__name__})") from None
        self.device = resolve_device(device)
        self.sam = build_sam(ck["arch"])
        self.sam.load_state_dict(ck["state"])
        self.sam.to(self.device).eval()
        self.size = int(ck["arch"]["img_size"])
        self.amp = bool(meta.get("amp", True))  # as the training's embeddings were computed
        self.structures = list(meta["structures"])
        self.landmarks = []
        self.n_parameters = sum(p.numel() for p in self.sam.parameters())
        if box_model is not None:
            meta |= {"boxes": "model", "box_method": None, "box_run": str(Path(box_model).resolve())}
        elif boxes is not None:
            meta["boxes"] = boxes
        self.oracle = meta["boxes"] == "oracle"
        self.box_predictor, source = (None, "oracle") if self.oracle else load_box_predictor(run, meta, device)
        arch = meta["arch"] if isinstance(meta["arch"], str) else "custom"
        extra = "" if meta.get("weights") else ", no pretrained weights"
        self.label = f"MedSAM{'' if arch == 'vit_b' else ' ' + arch} ({source} boxes{extra})"
        self._reference: dict[str, tuple[int, int, int, int] | None] | None = None

    def set_reference(
        self, structures: list[str], masks: np.ndarray | None, landmarks: dict[str, tuple[float, float] | None]
    ) -> None:
        """Ground-truth masks of the next image: their boxes are the prompts (oracle mode only)."""
        from antseg.engines.medsam_model import mask_box

        if not self.oracle:
            raise AntsegInputError(None, "this MedSAM predictor takes its boxes from a model, not the reference")
        self._reference = {s: None if masks is None else mask_box(masks[k]) for k, s in enumerate(structures)}

    def boxes_for(self, image: np.ndarray) -> dict[str, tuple[int, int, int, int] | None]:
        """name -> (x0, y0, x1, y1) inclusive pixel box, or None: from the reference or from the box model."""
        from antseg.engines.medsam_model import mask_box

        if self.oracle:
            if self._reference is None:
                raise AntsegInputError(None, "oracle boxes: call set_reference(...) before each predict")
            ref, self._reference = self._reference, None
            return {s: ref.get(s) for s in self.structures}
        from antseg.preprocessing import to_channels

        n = self.box_predictor.in_channels
        pred = self.box_predictor.predict(to_channels(image, n)[..., 0] if n == 1 else to_channels(image, n))
        names = self.box_predictor.structures
        return {s: mask_box(pred.masks[names.index(s)], largest=True) if s in names else None for s in self.structures}

    def predict(self, image: np.ndarray) -> EngineOutput:
        """(H, W) grey or (H, W, 3) RGB uint8 -> masks (N, H, W) uint8; a structure without a box stays empty."""
        import torch

        from antseg.engines.medsam_model import decode, encoder_autocast, logits_to_masks, preprocess, scale_boxes

        hw = image.shape[:2]
        boxes = self.boxes_for(image)
        masks = np.zeros((len(self.structures), *hw), np.uint8)
        have = [k for k, s in enumerate(self.structures) if boxes[s] is not None]
        if not have:
            return EngineOutput(masks=masks)
        x = torch.from_numpy(preprocess(image, self.size))[None].to(self.device)
        b = scale_boxes(np.array([boxes[self.structures[k]] for k in have], np.float32), hw, self.size)
        with torch.no_grad():
            with encoder_autocast(self.device, self.amp):
                emb = self.sam.image_encoder(x).float()
            logits = decode(self.sam, emb, torch.from_numpy(b).to(self.device))
        masks[have] = logits_to_masks(logits, hw)
        return EngineOutput(masks=masks)
