"""Rasterising the phantom's per-column intervals, and the pre-drawn noise fields its rendering uses."""

from __future__ import annotations

import cv2
import numpy as np

#: log compression of OCT intensity I to 8 bits: 255 * log(1 + GAIN * I) / log(1 + GAIN * 1.15).
LOG_GAIN = 60.0
LOG_ALPHA = 255.0 / float(np.log1p(LOG_GAIN * 1.15))
#: Speckle grain sizes (x, y) in pixels of the coarser speckle fields (index 1, 2, ...; 0 is the classic one).
GRAINS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (1.2, 0.6), (1.8, 0.8), (2.4, 1.0))


def _speckle(rng: np.random.Generator, shape: tuple[int, int], grain: tuple[float, float]) -> np.ndarray:
    """Fully developed speckle with a grain: |blurred complex Gaussian field|^2, mean 1 (exponential marginals)."""
    re = rng.standard_normal(shape, dtype=np.float32)
    im = rng.standard_normal(shape, dtype=np.float32)
    re = cv2.GaussianBlur(re, (0, 0), sigmaX=grain[0], sigmaY=grain[1])
    im = cv2.GaussianBlur(im, (0, 0), sigmaX=grain[0], sigmaY=grain[1])
    out = re * re + im * im
    out *= np.float32(1.0 / out.mean())
    return out


class NoiseBank:
    """Pre-drawn speckle and texture fields; each scan takes a random window (keeps rendering fast).

    The classic fields are drawn at construction; the coarser speckle and noise-floor fields of the
    realistic style are drawn on first use, from their own random stream (so the classic ones never change).
    """

    def __init__(self, h: int, w: int, seed: int) -> None:
        rng = np.random.default_rng([seed, 7919])
        self.pad = 64
        self.seed = seed
        sh = (h + self.pad, w + self.pad)
        self.shape = sh
        raw = rng.standard_exponential(sh, dtype=np.float32)
        # Speckle grains are wider than tall in CASIA scans.
        self.speckle = (0.5 * raw + 0.5 * cv2.blur(raw, (3, 1))) * np.float32(LOG_GAIN)
        self.floor = rng.standard_exponential(sh, dtype=np.float32) * np.float32(0.02 * LOG_GAIN)
        tex = rng.standard_normal((sh[0] // 6 + 1, sh[1] // 6 + 1)).astype(np.float32)
        tex = cv2.resize(cv2.GaussianBlur(tex, (0, 0), 1.2), (sh[1], sh[0]), interpolation=cv2.INTER_LINEAR)
        self.texture = np.exp(0.45 * tex / (tex.std() + 1e-6)).astype(np.float32)
        self._grains: dict[int, np.ndarray] = {0: self.speckle}
        self._floors: dict[int, np.ndarray] = {0: self.floor}

    def grain(self, k: int) -> np.ndarray:
        """Speckle field ``k`` (:data:`GRAINS`), pre-scaled by the log gain."""
        if k not in self._grains:
            rng = np.random.default_rng([self.seed, 7920, k])
            self._grains[k] = _speckle(rng, self.shape, GRAINS[k]) * np.float32(LOG_GAIN)
        return self._grains[k]

    def floor_field(self, k: int) -> np.ndarray:
        """Noise-floor field with grain ``k``, mean ``0.02 * LOG_GAIN`` like the classic one."""
        if k not in self._floors:
            rng = np.random.default_rng([self.seed, 7921, k])
            self._floors[k] = _speckle(rng, self.shape, GRAINS[k]) * np.float32(0.02 * LOG_GAIN)
        return self._floors[k]

    def window(self, arr: np.ndarray, rng: np.random.Generator, h: int, w: int) -> np.ndarray:
        dy, dx = rng.integers(0, self.pad, 2)
        return arr[dy : dy + h, dx : dx + w]


def bounds(top: np.ndarray, bot: np.ndarray, sy: float, h: int) -> tuple[np.ndarray, np.ndarray]:
    """Inclusive row range per column of the pixels whose centres lie strictly between two curves (mm)."""
    with np.errstate(invalid="ignore"):
        start = np.floor(np.clip(top / sy, -2, h + 2)) + 1
        end = np.ceil(np.clip(bot / sy, -2, h + 2)) - 1
    return start.astype(np.int32), end.astype(np.int32)


class Region:
    """Rows ``sl`` of an image and the (rows, W) boolean mask of a structure inside them."""

    def __init__(self, sl: slice | None, band: np.ndarray | None) -> None:
        self.sl, self.band = sl, band


class Canvas:
    """Paints per-column row intervals into (H, W) layers, touching only the rows a structure spans."""

    def __init__(self, h: int, w: int) -> None:
        self.h, self.w = h, w
        self.rows = np.arange(h, dtype=np.int32)[:, None]
        self.cols = np.arange(w)

    def region(self, start: np.ndarray, end: np.ndarray) -> Region:
        ok = end >= start
        if not ok.any():
            return Region(None, None)
        r0, r1 = max(0, int(start[ok].min())), min(self.h - 1, int(end[ok].max()))
        if r1 < r0:
            return Region(None, None)
        rows = self.rows[r0 : r1 + 1]
        return Region(slice(r0, r1 + 1), (rows >= start) & (rows <= end))

    def paint(self, reg: Region, *pairs) -> None:
        """For each (layer, value) pair, set ``layer`` to ``value`` inside the region.

        ``value`` is a scalar, a (W,) per-column array, or a function of the row slice giving the band's
        values (so full-image fields are only evaluated on the rows a structure spans).
        """
        if reg.sl is None:
            return
        for layer, value in zip(pairs[::2], pairs[1::2], strict=True):
            v = value(reg.sl) if callable(value) else value
            np.copyto(layer[reg.sl], np.broadcast_to(np.asarray(v, layer.dtype), reg.band.shape), where=reg.band)

    def line(self, layer: np.ndarray, y_px: np.ndarray, value, offsets=(-1, 0, 1), where=None) -> None:
        """Add ``value`` (a scalar or one per column) along a curve (fractional row per column), a few px thick."""
        ok = np.isfinite(y_px) if where is None else np.isfinite(y_px) & where
        cols = self.cols[ok]
        base = np.round(y_px[ok]).astype(np.int64)
        per_col = np.ndim(value) > 0
        vals = np.asarray(value)[ok] if per_col else value
        for o in offsets:
            r = base + o
            keep = (r >= 0) & (r < self.h)
            layer[r[keep], cols[keep]] += vals[keep] if per_col else value
