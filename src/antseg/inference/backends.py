"""Batched segmentation backends for video: PyTorch (a checkpoint or run folder) or ONNX Runtime (a ``.onnx``
file), behind one call ``backend(batch) -> logits``, with the frame preprocessing and postprocessing they share.

The preprocessing gives the network the same input as :func:`antseg.preprocessing.prepare_image` (letterbox,
then normalisation) up to the rounding of the resized image to 8 bits, but resizes the 8-bit frame first: the
z-score statistics come from the full frame (``cv2.meanStdDev``), only the small image is converted to float.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np

from antseg.models.checkpoint import CheckpointMeta
from antseg.preprocessing import Letterbox, side_channels, to_channels

IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32)


class Backend(Protocol):
    """A segmentation network ready for batches: ``(B, C, H, W) float32 -> (B, N, H, W) float32 logits``."""

    meta: CheckpointMeta
    name: str  # "pytorch" or "onnxruntime"
    source: Path

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


def prepare_frame(image: np.ndarray, meta: CheckpointMeta, out: np.ndarray) -> Letterbox:
    """Write the network input of one frame into ``out`` ((C, H, W) float32, the canvas); returns its letterbox.

    Args:
        image: (h, w) grey or (h, w, 3) RGB uint8.
    """
    img = to_channels(image, int(meta.in_channels))
    lb = Letterbox(img.shape[:2], meta.input_hw)
    ih, iw = lb.inner_hw
    interp = cv2.INTER_AREA if lb.scale < 1 else cv2.INTER_LINEAR
    small = cv2.resize(img, (iw, ih), interpolation=interp).reshape(ih, iw, -1).astype(np.float32)
    small *= 1 / 255
    if meta.normalization == "imagenet":
        small = (small - IMAGENET_MEAN) / IMAGENET_STD
    else:
        mean_c, std_c = cv2.meanStdDev(img)
        mean_c, std_c = mean_c.ravel() / 255, std_c.ravel() / 255
        mean = float(mean_c.mean())
        std = float(np.sqrt(max(float((std_c**2 + mean_c**2).mean()) - mean * mean, 0.0)))
        small -= mean
        small *= 1 / (std + 1e-6)
    out[:] = 0
    out[:, :ih, :iw] = small.transpose(2, 0, 1)
    return lb


def gate_sides_np(logits: np.ndarray, names: list[str], inner_w: int) -> np.ndarray:
    """:func:`antseg.preprocessing.gate_sides` for one (N, H, W) array, in place."""
    w = logits.shape[-1]
    left_half = (np.arange(w) + 0.5) < inner_w / 2
    for i, side in side_channels(names).items():
        logits[i][:, ~left_half if side == "left" else left_half] = -30.0
    return logits


@dataclass
class FrameMasks:
    """Postprocessed network output of one frame: full-size masks and per-structure confidence."""

    masks: np.ndarray  # (N, h, w) uint8 {0, 1}
    confidence: np.ndarray  # (N,) mean probability over the predicted pixels (network resolution)


def logits_to_masks(logits: np.ndarray, lb: Letterbox, meta: CheckpointMeta) -> FrameMasks:
    """(N, H, W) canvas logits -> masks at the frame's size (bilinear on logits, then the threshold)."""
    ih, iw = lb.inner_hw
    inner = np.ascontiguousarray(logits[:, :ih, :iw], dtype=np.float32)
    if meta.side_gate:
        gate_sides_np(inner, list(meta.structures), iw)
    thr = float(meta.threshold)
    cut = float(np.log(thr / (1 - thr))) if 0 < thr < 1 else 0.0
    h, w = lb.src_hw
    masks = np.empty((len(inner), h, w), np.uint8)
    conf = np.zeros(len(inner), np.float32)
    for k, ch in enumerate(inner):
        full = ch if (ih, iw) == (h, w) else cv2.resize(ch, (w, h), interpolation=cv2.INTER_LINEAR)
        masks[k] = full > cut
        sel = ch > cut
        if sel.any():
            conf[k] = float(np.mean(1 / (1 + np.exp(-ch[sel]))))
    return FrameMasks(masks, conf)


def video_threads() -> int:
    """CPU threads for the network while a video streams: all cores but one, which decodes and writes.

    Measured on 2 shared cores: one inference thread beside the decoder and writer threads beats two
    (PyTorch's and ONNX Runtime's thread pools slow down badly when the cores are oversubscribed).
    """
    return max(1, (os.cpu_count() or 1) - 1)


class TorchBackend:
    """A checkpoint or run folder run by PyTorch (AMP on CUDA, fp32 on the CPU).

    Args:
        threads: CPU threads (0: PyTorch's setting is left alone); set on the first call, for the process
            (:func:`~antseg.inference.video_stream.predict_video` restores the previous setting when it ends).
    """

    name = "pytorch"

    def __init__(self, weights: str | Path, device: str = "auto", threads: int = 0) -> None:
        from antseg.inference.predictor import Predictor

        pred = Predictor(weights, device)
        self.model, self.device, self.meta = pred.model, pred.device, pred.meta
        self.source = Path(pred.checkpoint.path)
        self.threads = int(threads)

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        import torch

        if self.threads and self.device.type == "cpu" and torch.get_num_threads() != self.threads:
            torch.set_num_threads(self.threads)  # once: resizing the pool on every call costs more than it saves
        with torch.inference_mode():
            x = torch.from_numpy(batch).to(self.device)
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.device.type == "cuda"):
                return self.model(x).float().cpu().numpy()


def is_onnx(weights: str | Path | None) -> bool:
    return weights is not None and Path(weights).suffix.lower() == ".onnx"


def open_backend(weights: str | Path, device: str = "auto", threads: int = 0) -> Backend:
    """ONNX Runtime for a ``.onnx`` file, else PyTorch for a checkpoint or run folder.

    Args:
        threads: CPU threads for the network (0: the libraries' defaults).
    """
    if is_onnx(weights):
        from antseg.inference.onnx_predictor import OnnxBackend

        return OnnxBackend(weights, device, threads)
    return TorchBackend(weights, device, threads)
