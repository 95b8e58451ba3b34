"""Gaussian target maps for landmarks (decoded by :mod:`antseg.landmarks.softmax`)."""

from __future__ import annotations

import numpy as np


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
