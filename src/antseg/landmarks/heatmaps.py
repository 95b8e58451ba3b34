"""Gaussian heatmaps for landmarks, and sub-pixel decoding that is exact for Gaussians."""

from __future__ import annotations

import numpy as np
import torch


def encode(points: list[tuple[float, float] | None], hw: tuple[int, int], sigma: float) -> np.ndarray:
    """One heatmap per point, (K, H, W) float32: exp(-d^2 / 2 sigma^2), all zero where a point is absent.

    Coordinates are pixel centres at integer positions, as everywhere in antseg.
    """
    h, w = hw
    ys = np.arange(h, dtype=np.float32)[:, None]
    xs = np.arange(w, dtype=np.float32)[None, :]
    out = np.zeros((len(points), h, w), np.float32)
    for k, p in enumerate(points):
        if p is not None:
            out[k] = np.exp(-((xs - p[0]) ** 2 + (ys - p[1]) ** 2) / (2 * sigma**2))
    return out


def _offset(lm: float, l0: float, lp: float) -> float:
    """Vertex of the parabola through (-1, lm), (0, l0), (1, lp): exact for the log of a Gaussian."""
    den = lm - 2 * l0 + lp
    return 0.0 if den >= -1e-12 else float(np.clip(0.5 * (lm - lp) / den, -0.5, 0.5))


def decode(heatmaps: np.ndarray | torch.Tensor) -> list[tuple[float, float, float]]:
    """(x, y, peak value) per heatmap (K, H, W): the argmax refined by a log-parabola fit on each axis."""
    hm = (
        heatmaps.detach().float().cpu().numpy()
        if isinstance(heatmaps, torch.Tensor)
        else np.asarray(heatmaps, np.float32)
    )
    out = []
    for m in hm:
        h, w = m.shape
        i = int(np.argmax(m))
        y, x = divmod(i, w)
        peak = float(m[y, x])
        lg = np.log(np.clip(m, 1e-12, None))
        dx = _offset(lg[y, x - 1], lg[y, x], lg[y, x + 1]) if 0 < x < w - 1 else 0.0
        dy = _offset(lg[y - 1, x], lg[y, x], lg[y + 1, x]) if 0 < y < h - 1 else 0.0
        out.append((x + dx, y + dy, peak))
    return out
