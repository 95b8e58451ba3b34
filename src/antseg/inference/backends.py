"""Batched segmentation backends for video: PyTorch (a checkpoint or run folder) or ONNX Runtime (a ``.onnx``
file), behind one call ``backend(batch) -> logits``, with the frame preprocessing and postprocessing they share.

The preprocessing gives the network the same input as :func:`antseg.preprocessing.prepare_image` (letterbox,
then normalisation) up to the rounding of the resized image to 8 bits, but resizes the 8-bit frame first: the
z-score statistics come from a regular subsample of the full frame (``cv2.meanStdDev``), only the small image
is converted to float.
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
    """A segmentation network ready for batches: ``(B, C, H, W) float32 -> (B, N, H, W) float32 logits``.

    ``size_multiple``: the network takes any height and width that are multiples of it (None: only the
    checkpoint's input size).
    """

    meta: CheckpointMeta
    name: str  # "pytorch" or "onnxruntime"
    source: Path
    size_multiple: int | None

    def __call__(self, batch: np.ndarray) -> np.ndarray: ...


def canvas_hw(src_hw: tuple[int, int], meta: CheckpointMeta, multiple: int | None) -> tuple[int, int]:
    """The network input size for frames of ``src_hw``: the letterboxed image rounded up to ``multiple`` (so a
    16:9 frame is not padded to the checkpoint's 4:3 canvas), or the checkpoint's size when it is fixed."""
    if not multiple:
        return meta.input_hw
    ih, iw = Letterbox(src_hw, meta.input_hw).inner_hw
    return -(-ih // multiple) * multiple, -(-iw // multiple) * multiple


def prepare_frame(image: np.ndarray, meta: CheckpointMeta, out: np.ndarray) -> Letterbox:
    """Write the network input of one frame into ``out`` ((C, H, W) float32, the canvas); returns its letterbox.

    Args:
        image: (h, w) grey or (h, w, 3) RGB uint8.
    """
    img = to_channels(image, int(meta.in_channels))
    lb = Letterbox(img.shape[:2], meta.input_hw)
    ih, iw = lb.inner_hw
    if ih > out.shape[1] or iw > out.shape[2]:  # a canvas made for frames of another shape
        raise ValueError(f"frame of {img.shape[:2]} does not fit the {out.shape[1:]} canvas")
    small = shrink(img, (iw, ih)).reshape(ih, iw, -1).astype(np.float32)
    small *= 1 / 255
    if meta.normalization == "imagenet":
        small = (small - IMAGENET_MEAN) / IMAGENET_STD
    else:
        mean_c, std_c = cv2.meanStdDev(_sample(img))
        mean_c, std_c = mean_c.ravel() / 255, std_c.ravel() / 255
        mean = float(mean_c.mean())
        std = float(np.sqrt(max(float((std_c**2 + mean_c**2).mean()) - mean * mean, 0.0)))
        small -= mean
        small *= 1 / (std + 1e-6)
    out[:] = 0
    out[:, :ih, :iw] = small.transpose(2, 0, 1)
    return lb


def shrink(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``img`` resized to ``size`` (w, h): area averaging, by exact halvings first when it shrinks more than 2x
    (the same average, at a fraction of one large area resize's cost); bilinear when it grows."""
    w, h = size
    if w >= img.shape[1] and h >= img.shape[0]:
        return cv2.resize(img, (w, h), interpolation=cv2.INTER_LINEAR)
    while img.shape[1] >= 4 * w and img.shape[0] >= 4 * h and img.shape[1] % 2 == 0 and img.shape[0] % 2 == 0:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)


def _sample(img: np.ndarray, max_pixels: int = 200_000) -> np.ndarray:
    """A regular subsample of a large frame for its mean and standard deviation (the statistics of the whole
    frame to well under 1 %, at a fraction of the cost)."""
    step = int(np.sqrt(img.shape[0] * img.shape[1] / max_pixels))
    return np.ascontiguousarray(img[::step, ::step]) if step > 1 else img


def gate_sides_np(logits: np.ndarray, names: list[str], inner_w: int) -> np.ndarray:
    """:func:`antseg.preprocessing.gate_sides` for one (N, H, W) array, in place."""
    w = logits.shape[-1]
    left_half = (np.arange(w) + 0.5) < inner_w / 2
    for i, side in side_channels(names).items():
        logits[i][:, ~left_half if side == "left" else left_half] = -30.0
    return logits


@dataclass
class FrameMasks:
    """Postprocessed network output of one frame: masks and per-structure confidence.

    ``scale``: mask pixels per frame pixel (1: masks at the frame's size; below 1 when they were limited to a
    multiple of the network's resolution, see :func:`logits_to_masks`).
    """

    masks: np.ndarray  # (N, h, w) uint8 {0, 1}
    confidence: np.ndarray  # (N,) mean probability over the predicted pixels (network resolution)
    scale: float = 1.0


def mask_size(
    src_hw: tuple[int, int], inner_hw: tuple[int, int], detail: float | None
) -> tuple[tuple[int, int], float]:
    """((h, w), scale) of the masks of a frame: its own size, or at most ``detail`` times the network's
    resolution (beyond it, upsampling the logits adds no information, only pixels to write)."""
    h, w = src_hw
    if not detail:
        return (h, w), 1.0
    f = min(1.0, detail * inner_hw[1] / w, detail * inner_hw[0] / h)
    if f >= 1.0:
        return (h, w), 1.0
    mh, mw = max(1, round(h * f)), max(1, round(w * f))
    return (mh, mw), mw / w


def logits_to_masks(logits: np.ndarray, lb: Letterbox, meta: CheckpointMeta, detail: float | None = None) -> FrameMasks:
    """(N, H, W) canvas logits -> masks at the frame's size, or at most ``detail`` times the network's resolution
    (:func:`mask_size`), by bilinear interpolation of the logits, then the threshold."""
    ih, iw = lb.inner_hw
    inner = np.ascontiguousarray(logits[:, :ih, :iw], dtype=np.float32)
    if meta.side_gate:
        gate_sides_np(inner, list(meta.structures), iw)
    thr = float(meta.threshold)
    cut = float(np.log(thr / (1 - thr))) if 0 < thr < 1 else 0.0
    (h, w), scale = mask_size(lb.src_hw, (ih, iw), detail)
    masks = np.empty((len(inner), h, w), np.uint8)
    conf = np.zeros(len(inner), np.float32)
    for k, ch in enumerate(inner):
        full = ch if (ih, iw) == (h, w) else cv2.resize(ch, (w, h), interpolation=cv2.INTER_LINEAR)
        np.greater(full, cut, out=masks[k].view(np.bool_))  # 0/1 bytes written in place
        sel = ch > cut
        if sel.any():
            conf[k] = float(np.mean(1 / (1 + np.exp(-ch[sel]))))
    return FrameMasks(masks, conf, scale)


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
        self.size_multiple: int | None = getattr(self.model, "multiple", None)

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
