"""The device's central reflection line: find it, and bridge the masks across it.

Swept-source AS-OCT (CASIA SS-1000, CASIA2) shows a saturated vertical band where the beam meets the cornea at
normal incidence, about 0.3 mm wide at the apex, right where ACD is measured. It carries no tissue information,
and a model that has not seen enough of it paints holes or spikes into the chamber there. The band's columns are
replaced by a linear blend of the probability columns on either side.
"""

from __future__ import annotations

import cv2
import numpy as np

#: A column is part of the band when its median grey level exceeds its neighbourhood's by this much.
BAND_EXCESS = 25
#: Bands wider than this fraction of the image are not reflection lines (a bright structure instead).
MAX_BAND_FRACTION = 0.04


def reflection_bands(grey: np.ndarray) -> list[tuple[int, int]]:
    """Column ranges ``[c0, c1)`` of vertical reflection bands in an (H, W) grey scan (empty when none)."""
    h, w = grey.shape
    if w < 64 or h < 16:
        return []
    col = np.median(grey, axis=0).astype(np.float32)
    k = min(255, max(51, (w // 20) | 1))
    base = cv2.medianBlur(np.clip(col, 0, 255).astype(np.uint8)[None], k)[0].astype(np.float32)
    hot = (col - base) > BAND_EXCESS
    runs = np.flatnonzero(np.diff(np.concatenate([[0], hot.astype(np.int8), [0]]))).reshape(-1, 2)
    return [(int(a), int(b)) for a, b in runs if 2 <= b - a <= MAX_BAND_FRACTION * w]


def bridge(probs: np.ndarray, bands: list[tuple[int, int]]) -> np.ndarray:
    """(N, H, W) probabilities with each band's columns replaced by a linear blend of the columns just outside
    it (the nearer side only, at an image edge). Returns a new array."""
    out = probs.copy()
    w = probs.shape[-1]
    for c0, c1 in bands:
        left, right = c0 - 1, c1
        if left < 0 and right >= w:
            continue
        for c in range(c0, c1):
            if left < 0:
                out[..., c] = probs[..., right]
            elif right >= w:
                out[..., c] = probs[..., left]
            else:
                t = (c - left) / (right - left)
                out[..., c] = (1 - t) * probs[..., left] + t * probs[..., right]
    return out
