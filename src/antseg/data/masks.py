"""Structure masks: bit packing into one PNG per case, and polygon rasterisation rules of real tools."""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image, ImageDraw


def pack_masks(masks: np.ndarray) -> np.ndarray:
    """Pack binary masks (N, H, W) into one bitmask (H, W): structure k (0-based) is bit k.

    Returns:
        uint8 for N <= 8, uint16 for N <= 16.
    """
    n = masks.shape[0]
    if n > 16:
        raise ValueError(f"at most 16 structures per bitmask, got {n}")
    dtype = np.uint8 if n <= 8 else np.uint16
    out = np.zeros(masks.shape[1:], dtype)
    for k in range(n):
        out |= masks[k].astype(dtype) << dtype(k)
    return out


def unpack_masks(packed: np.ndarray, n: int) -> np.ndarray:
    """Inverse of :func:`pack_masks`: (H, W) bitmask -> (n, H, W) uint8 in {0, 1}."""
    bits = np.arange(n, dtype=packed.dtype).reshape(n, 1, 1)
    return ((packed[None] >> bits) & 1).astype(np.uint8)


def rasterize_polygon_pil(points: np.ndarray, width: int, height: int) -> np.ndarray:
    """Rasterise a polygon exactly as LabelMe does (PIL polygon with outline), for LabelMe annotations.

    Args:
        points: (K, 2) float x, y in pixels.
    Returns:
        (H, W) uint8 mask in {0, 1}.
    """
    mask = np.zeros((height, width), np.uint8)
    pts = np.asarray(points, np.float64)
    if len(pts) < 3:
        return mask
    # Draw in the polygon's bounding box only: integer offsets keep PIL's rounding identical.
    x0 = int(max(0, np.floor(pts[:, 0].min()) - 1))
    y0 = int(max(0, np.floor(pts[:, 1].min()) - 1))
    x1 = int(min(width, np.ceil(pts[:, 0].max()) + 2))
    y1 = int(min(height, np.ceil(pts[:, 1].max()) + 2))
    if x1 <= x0 or y1 <= y0:
        return mask
    im = Image.new("L", (x1 - x0, y1 - y0), 0)
    xy = [(float(x) - x0, float(y) - y0) for x, y in pts]
    ImageDraw.Draw(im).polygon(xy=xy, outline=1, fill=1)
    mask[y0:y1, x0:x1] = np.asarray(im, np.uint8)
    return mask


def rasterize_polygon_cv2(exterior: np.ndarray, interiors: list[np.ndarray], width: int, height: int) -> np.ndarray:
    """Rasterise a polygon with holes as Supervisely does (OpenCV fillPoly, even-odd over all rings).

    Args:
        exterior: (K, 2) x, y pixel coordinates.
        interiors: hole rings, each (K, 2).
    Returns:
        (H, W) uint8 mask in {0, 1}.
    """
    mask = np.zeros((height, width), np.uint8)
    rings = [np.round(np.asarray(r, np.float64)).astype(np.int32).reshape(-1, 1, 2) for r in [exterior, *interiors]]
    rings = [r for r in rings if len(r) >= 3]
    if rings:
        cv2.fillPoly(mask, rings, 1)
    return mask


def mask_to_polygons(mask: np.ndarray) -> list[tuple[np.ndarray, list[np.ndarray]]]:
    """Outer contours (with their holes) of a binary mask, as pixel-chain polygons.

    Returns:
        list of (exterior (K, 2) int, [hole (K, 2) int, ...]).
    """
    contours, hierarchy = cv2.findContours(mask.astype(np.uint8), cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE)
    if hierarchy is None:
        return []
    hierarchy = hierarchy[0]
    out = []
    for i, c in enumerate(contours):
        if hierarchy[i][3] != -1 or len(c) < 3:
            continue
        holes = []
        child = hierarchy[i][2]
        while child != -1:
            holes.append(contours[child].reshape(-1, 2))
            child = hierarchy[child][0]
        out.append((c.reshape(-1, 2), holes))
    return out
