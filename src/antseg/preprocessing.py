"""Preprocessing shared by training and inference: letterbox resize, normalisation, channels, the left/right
flip pairs and side gate, full-resolution crops, and the device choice."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch

from antseg.anatomy import mirror_name, side_of
from antseg.io.images import to_grey


@dataclass(frozen=True)
class Letterbox:
    """Maps an (h, w) image into an (H, W) canvas: scaled to fit, aspect kept, padded at bottom/right."""

    src_hw: tuple[int, int]
    dst_hw: tuple[int, int]

    @property
    def scale(self) -> float:
        return min(self.dst_hw[0] / self.src_hw[0], self.dst_hw[1] / self.src_hw[1])

    @property
    def inner_hw(self) -> tuple[int, int]:
        s = self.scale
        return max(1, round(self.src_hw[0] * s)), max(1, round(self.src_hw[1] * s))

    def image(self, img: np.ndarray) -> np.ndarray:
        """(h, w[, c]) float32 -> (H, W[, c]), zero padded (zero = mean after normalisation)."""
        ih, iw = self.inner_hw
        small = cv2.resize(img, (iw, ih), interpolation=cv2.INTER_AREA if self.scale < 1 else cv2.INTER_LINEAR)
        out = np.zeros((*self.dst_hw, *img.shape[2:]), np.float32)
        out[:ih, :iw] = small.reshape(ih, iw, *img.shape[2:])
        return out

    def masks(self, masks: np.ndarray) -> np.ndarray:
        """(N, h, w) {0,1} -> (N, H, W) soft masks in [0, 1] (area-averaged, so thin structures survive)."""
        return np.stack([self.image(m.astype(np.float32)) for m in masks]) if len(masks) else masks

    def invert(self, logits: torch.Tensor) -> torch.Tensor:
        """(N, C, H, W) network output -> (N, C, h, w) at the original size (bilinear)."""
        ih, iw = self.inner_hw
        return torch.nn.functional.interpolate(
            logits[..., :ih, :iw], size=self.src_hw, mode="bilinear", align_corners=False
        )

    def canvas_to_point(self, xy: tuple[float, float]) -> tuple[float, float]:
        """Inverse of :meth:`point_to_canvas`: canvas coordinates -> source pixel-centre coordinates."""
        sy = self.inner_hw[0] / self.src_hw[0]
        sx = self.inner_hw[1] / self.src_hw[1]
        return (xy[0] + 0.5) / sx - 0.5, (xy[1] + 0.5) / sy - 0.5

    def point_to_canvas(self, xy: tuple[float, float]) -> tuple[float, float]:
        """Pixel-centre coordinates in the source -> in the canvas."""
        sy = self.inner_hw[0] / self.src_hw[0]
        sx = self.inner_hw[1] / self.src_hw[1]
        return (xy[0] + 0.5) * sx - 0.5, (xy[1] + 0.5) * sy - 0.5


def normalize(img: np.ndarray, mode: str) -> np.ndarray:
    """uint8 image -> float32. ``image_zscore``: per-image mean 0, sd 1 (robust to device gain);
    ``imagenet``: RGB with ImageNet mean/std (for ImageNet-pretrained encoders)."""
    x = img.astype(np.float32) / 255.0
    if mode == "imagenet":
        mean = np.array([0.485, 0.456, 0.406], np.float32)
        std = np.array([0.229, 0.224, 0.225], np.float32)
        return (x - mean) / std
    return (x - x.mean()) / (x.std() + 1e-6)


def to_channels(img: np.ndarray, in_channels: int) -> np.ndarray:
    """Grey or RGB uint8 -> exactly ``in_channels`` channels, (h, w, c)."""
    if img.ndim == 2:
        img = img[..., None]
    if img.shape[2] == in_channels:
        return img
    if in_channels == 1:
        return to_grey(img)[..., None]
    return np.repeat(img[..., :1], in_channels, axis=2)


def prepare_image(
    img: np.ndarray, in_channels: int, input_hw: tuple[int, int], norm: str
) -> tuple[np.ndarray, Letterbox]:
    """Raw image -> network input (C, H, W) float32, and the letterbox that maps it back."""
    img = to_channels(img, in_channels)
    lb = Letterbox(img.shape[:2], tuple(input_hw))
    x = lb.image(normalize(img, norm))
    return (x[None] if x.ndim == 2 else x.transpose(2, 0, 1)).astype(np.float32), lb


def flip_pairs(names: list[str]) -> list[int]:
    """Index permutation that swaps ``left_*`` and ``right_*`` names (a horizontal flip swaps sides)."""
    return [names.index(mirror_name(n)) if mirror_name(n) in names else i for i, n in enumerate(names)]


def side_channels(names: list[str]) -> dict[int, str]:
    """Channels whose name says a side: index -> ``left`` or ``right``."""
    return {i: side for i, n in enumerate(names) if (side := side_of(n)) is not None}


def gate_sides(logits: torch.Tensor, sides: dict[int, str], inner_w: torch.Tensor | float) -> torch.Tensor:
    """Anatomical side gate: a ``left_*`` channel can only fire left of the scan's midline, ``right_*``
    only right of it (AS-OCT B-scans are centred on the corneal apex). Mirror-image structures are then
    never confused; the network only has to find the tissue.

    Args:
        logits: (B, C, H, W).
        inner_w: width of the image inside the canvas, per sample (B,) or one number.
    """
    if not sides:
        return logits
    b, _, _, w = logits.shape
    x = torch.arange(w, device=logits.device, dtype=torch.float32).view(1, w) + 0.5
    mid = (torch.as_tensor(inner_w, dtype=torch.float32, device=logits.device).reshape(-1, 1) / 2).expand(b, 1)
    left_half = (x < mid)[:, None, None, :]  # (B, 1, 1, W)
    out = logits.clone()
    for i, side in sides.items():
        allowed = left_half if side == "left" else ~left_half
        out[:, i] = torch.where(allowed[:, 0], logits[:, i], torch.full_like(logits[:, i], -30.0))
    return out


def crop_at(img: np.ndarray, cx: float, cy: float, size: int, flip: bool) -> tuple[np.ndarray, tuple[int, int]]:
    """A (size, size) crop centred near (cx, cy), zero padded at borders, mirrored when ``flip``.

    Returns the crop (normalised float32) and its top-left corner in the image.
    """
    h, w = img.shape[:2]
    x0, y0 = int(round(cx)) - size // 2, int(round(cy)) - size // 2
    out = np.zeros((size, size), np.float32)
    xs0, ys0 = max(x0, 0), max(y0, 0)
    xs1, ys1 = min(x0 + size, w), min(y0 + size, h)
    if xs1 > xs0 and ys1 > ys0:
        out[ys0 - y0 : ys1 - y0, xs0 - x0 : xs1 - x0] = img[ys0:ys1, xs0:xs1]
    out = normalize(out.astype(np.uint8), "image_zscore")
    return (out[:, ::-1].copy() if flip else out), (x0, y0)
