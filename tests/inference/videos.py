"""Test helpers for whole-video prediction: synthetic videos whose frames show their index, and a tiny model."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np

from antseg.models import CheckpointMeta, create_model, save_checkpoint

GRID = (4, 2)  # cells across, down: 8 bits, frame index k is written as bit j = cell j white


def pattern(k: int, w: int, h: int) -> np.ndarray:
    """(h, w, 3) uint8: the binary digits of ``k`` as black/white cells."""
    img = np.zeros((h, w, 3), np.uint8)
    for j in range(GRID[0] * GRID[1]):
        if (k >> j) & 1:
            cx, cy = j % GRID[0], j // GRID[0]
            img[cy * h // GRID[1] : (cy + 1) * h // GRID[1], cx * w // GRID[0] : (cx + 1) * w // GRID[0]] = 255
    return img


def read_pattern(img: np.ndarray) -> int:
    """The index shown by a (possibly compressed, overlaid) frame: the median of each cell's centre."""
    h, w = img.shape[:2]
    k = 0
    for j in range(GRID[0] * GRID[1]):
        cx, cy = j % GRID[0], j // GRID[0]
        y0, y1 = cy * h // GRID[1], (cy + 1) * h // GRID[1]
        x0, x1 = cx * w // GRID[0], (cx + 1) * w // GRID[0]
        cell = img[y0 + (y1 - y0) // 4 : y1 - (y1 - y0) // 4, x0 + (x1 - x0) // 4 : x1 - (x1 - x0) // 4]
        k |= int(np.median(cell) > 127) << j
    return k


def write_index_video(
    path: Path,
    n: int,
    size: tuple[int, int] = (64, 48),
    fps: int = 10,
    codec: str = "mpeg4",
    pts: list[int] | None = None,
    time_base: Fraction | None = None,
    pix_fmt: str = "yuv420p",
    options: dict | None = None,
    rotation: int = 0,
) -> Path:
    """A video of ``n`` frames, frame k showing ``pattern(k)``; ``pts`` (in ``time_base``) makes it variable-rate."""
    import av

    w, h = size
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=fps, options=options or {})
        s.width, s.height, s.pix_fmt = w, h, pix_fmt
        if codec == "mpeg4":
            s.codec_context.qmin, s.codec_context.qmax = 1, 2
        if time_base is not None:
            s.time_base = s.codec_context.time_base = time_base
        if rotation:
            s.set_display_rotation(rotation)
        for k in range(n):
            frame = av.VideoFrame.from_ndarray(pattern(k, w, h), format="rgb24")
            if pts is not None:
                frame.pts, frame.time_base = pts[k], time_base
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


def source_times(path: Path) -> list[float]:
    """Presentation times (s from the stream's start) of every frame, read with plain PyAV."""
    import av

    with av.open(str(path)) as c:
        s = c.streams.video[0]
        start = s.start_time or 0
        return [float((f.pts - start) * s.time_base) for f in c.decode(s)]


def decode_frames(path: Path) -> list[np.ndarray]:
    import av

    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])]


def tiny_cornea(path: Path, input_hw: tuple[int, int] = (48, 64), structures: tuple[str, ...] = ("cornea",)) -> Path:
    """An untrained 2-level U-Net checkpoint (RGB in, one channel per structure): fast, any output."""
    import torch

    torch.manual_seed(0)
    model = create_model("unet-lite", in_channels=3, classes=len(structures), channels=(4, 8), num_res_units=0)
    meta = CheckpointMeta(structures=list(structures), input_size=list(input_hw), in_channels=3, modality="surgical")
    return save_checkpoint(path, model, meta)
