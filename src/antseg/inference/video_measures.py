"""Per-frame measures of a segmented structure: presence, confidence, area, centroid, equivalent diameter and
the fitted ellipse (for the cornea: the limbus), and the ``frames.csv`` row that holds them.

Measures are taken on the largest connected region of a structure's mask at the frame's own size, so a stray
false-positive blob moves neither the centroid nor the ellipse. Coordinates are pixels of the displayed frame,
origin top left, pixel centres at integers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

#: A structure is present when its largest region covers at least this fraction of the frame.
MIN_AREA_FRACTION = 1e-3


@dataclass(frozen=True)
class Ellipse:
    """A fitted ellipse: centre (px), full axis lengths (px, major >= minor), and the major axis' angle in
    degrees from the image x axis, in [0, 180), clockwise on screen (y points down)."""

    cx: float
    cy: float
    major: float
    minor: float
    angle: float


@dataclass(frozen=True)
class StructureMeasures:
    """One structure in one frame.

    Attributes:
        present: the largest region covers at least :data:`MIN_AREA_FRACTION` of the frame.
        confidence: mean probability over the predicted pixels (network resolution), 0 when there are none.
        area_px: pixels of the largest region (after smoothing: the smoothed value).
        centroid: (x, y) of the largest region, None when absent.
        ellipse: the ellipse fitted to the largest region's outline, None when absent.
        fit_share: for a convex fit (:func:`fit_convex`), the share of the outline within 10 % of the ellipse's
            radius; None otherwise.
    """

    present: bool
    confidence: float
    area_px: float
    centroid: tuple[float, float] | None
    ellipse: Ellipse | None
    fit_share: float | None = None

    @property
    def diameter_px(self) -> float:
        """Equivalent diameter: that of the circle with the same area."""
        return 2.0 * math.sqrt(max(self.area_px, 0.0) / math.pi)


ABSENT = StructureMeasures(False, 0.0, 0.0, None, None)


def _off_border(contour: np.ndarray, size: tuple[int, int] | None) -> np.ndarray:
    """The outline without its points on the frame's border (kept when fewer than 5 would remain)."""
    if size is None or len(contour) < 5:
        return contour
    h, w = size
    p = contour.reshape(-1, 2)
    inner = (p[:, 0] > 0) & (p[:, 0] < w - 1) & (p[:, 1] > 0) & (p[:, 1] < h - 1)
    return contour[inner] if inner.sum() >= 5 and not inner.all() else contour


def fit_ellipse(contour: np.ndarray, size: tuple[int, int] | None = None) -> Ellipse | None:
    """Least-squares ellipse of an outline ((K, 1, 2) int points, K >= 5), normalised to major/minor/angle.

    Args:
        size: (H, W) of the frame: outline points on its border are left out (where the frame cuts a region,
            the border is not the region's edge), unless fewer than 5 points would remain.
    """
    contour = _off_border(contour, size)
    if len(contour) < 5:
        return None
    (cx, cy), (w, h), angle = cv2.fitEllipse(contour)
    if not (math.isfinite(w) and math.isfinite(h)) or w <= 0 or h <= 0:
        return None
    if w < h:
        w, h, angle = h, w, angle + 90.0
    return Ellipse(float(cx), float(cy), float(w), float(h), float(angle % 180.0))


def _radius(points: np.ndarray, e: Ellipse) -> np.ndarray:
    """Each point's radius in the ellipse's own frame (1 on the ellipse)."""
    a = math.radians(e.angle)
    dx, dy = points[:, 0] - e.cx, points[:, 1] - e.cy
    u = (dx * math.cos(a) + dy * math.sin(a)) / (e.major / 2)
    v = (-dx * math.sin(a) + dy * math.cos(a)) / (e.minor / 2)
    return np.sqrt(u * u + v * v)


#: A point of a convex structure's outline lies on its ellipse when within this share of the radius.
ON_ELLIPSE = 0.1


def fit_convex(contour: np.ndarray, size: tuple[int, int] | None = None) -> tuple[Ellipse | None, float]:
    """The ellipse of a convex structure (the limbus disc, the pupil) and the share of its outline on it.

    The outline's points in notches (where the mask misses a part: an instrument, a reflection) and on the frame's
    border are left out of a first fit; two refits keep only the points within :data:`ON_ELLIPSE` of its radius,
    so a bump (a blob the mask added) does not pull the ellipse either. The share is over every outline point
    off the border: 1 for a perfect ellipse.
    """
    every = _off_border(contour, size)
    e = fit_ellipse(_on_hull(every))
    if e is None:
        return None, 0.0
    pts = every.reshape(-1, 2).astype(np.float64)
    for _ in range(2):
        near = np.abs(_radius(pts, e) - 1) < ON_ELLIPSE
        if near.sum() < max(5, len(pts) // 3):
            break
        e = fit_ellipse(every[near]) or e
    return e, float(np.mean(np.abs(_radius(pts, e) - 1) < ON_ELLIPSE))


def _on_hull(contour: np.ndarray, depth_px: float = 1.5) -> np.ndarray:
    """The outline points outside the notches deeper than ``depth_px`` (OpenCV's convexity defects)."""
    try:
        defects = cv2.convexityDefects(contour, cv2.convexHull(contour, returnPoints=False))
    except cv2.error:  # a self-touching outline: keep every point
        return contour
    if defects is None:
        return contour
    keep = np.ones(len(contour), bool)
    for start, end, _, depth in defects.reshape(-1, 4):
        if depth / 256 > depth_px:
            idx = np.arange(start + 1, end if end > start else end + len(contour)) % len(contour)
            keep[idx] = False
    return contour[keep] if keep.sum() >= 5 else contour


def measure_mask(mask: np.ndarray, confidence: float, scale: float = 1.0, convex: bool = False) -> StructureMeasures:
    """Measures of the largest region of one (H, W) uint8 {0, 1} mask (its holes excluded from the area), in
    frame pixels: ``scale`` is the mask's pixels per frame pixel (a mask smaller than its frame); ``convex``: the
    ellipse of a convex structure and the share of the outline on it (:func:`fit_convex`)."""
    m = _measure(mask, confidence, convex)
    if scale == 1.0 or m.centroid is None:
        return m
    e = m.ellipse
    c = (m.centroid[0] + 0.5) / scale - 0.5, (m.centroid[1] + 0.5) / scale - 0.5
    if e is not None:
        e = Ellipse((e.cx + 0.5) / scale - 0.5, (e.cy + 0.5) / scale - 0.5, e.major / scale, e.minor / scale, e.angle)
    return StructureMeasures(m.present, m.confidence, m.area_px / scale**2, c, e, m.fit_share)


def _measure(mask: np.ndarray, confidence: float, convex: bool) -> StructureMeasures:
    h, w = mask.shape
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return StructureMeasures(False, float(confidence), 0.0, None, None)
    if len(contours) == 1:
        outline, mo = contours[0], cv2.moments(mask, binaryImage=True)
    else:  # keep the largest region: its outline filled, and-ed with the mask (holes stay out)
        outline = max(contours, key=cv2.contourArea)
        x0, y0, bw, bh = cv2.boundingRect(outline)
        region = np.zeros((bh, bw), np.uint8)
        cv2.drawContours(region, [outline], -1, 1, cv2.FILLED, offset=(-x0, -y0))
        region &= mask[y0 : y0 + bh, x0 : x0 + bw]
        mo = cv2.moments(region, binaryImage=True)
        mo["m10"], mo["m01"] = mo["m10"] + x0 * mo["m00"], mo["m01"] + y0 * mo["m00"]
    area = float(mo["m00"])
    if area <= 0:
        return StructureMeasures(False, float(confidence), 0.0, None, None)
    centroid = (mo["m10"] / area, mo["m01"] / area)
    present = area >= MIN_AREA_FRACTION * h * w
    if convex:
        e, share = fit_convex(outline, (h, w))
        return StructureMeasures(present, float(confidence), area, centroid, e, share)
    return StructureMeasures(present, float(confidence), area, centroid, fit_ellipse(outline, (h, w)))


MEASURE_COLUMNS = (
    "present",
    "confidence",
    "area_px",
    "area_mm2",
    "centroid_x",
    "centroid_y",
    "diameter_px",
    "diameter_mm",
    "ellipse_cx",
    "ellipse_cy",
    "ellipse_major_px",
    "ellipse_minor_px",
    "ellipse_angle_deg",
)


def frame_columns(structures: list[str]) -> list[str]:
    """``frames.csv`` columns: frame index, pts, time, then :data:`MEASURE_COLUMNS` per structure."""
    return ["frame", "pts", "time_s"] + [f"{s}_{c}" for s in structures for c in MEASURE_COLUMNS]


def _f(v: float | None, digits: int = 2) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def frame_row(
    index: int,
    pts: int | None,
    time_s: float,
    measures: dict[str, StructureMeasures],
    spacing: tuple[float, float] | None = None,
) -> dict[str, object]:
    """One ``frames.csv`` row; mm columns are empty without a spacing ((x, y) mm per pixel), measures of an
    absent structure are empty (its presence and confidence are always written)."""
    row: dict[str, object] = {"frame": index, "pts": "" if pts is None else pts, "time_s": f"{time_s:.6f}"}
    for s, m in measures.items():
        row[f"{s}_present"] = int(m.present)
        row[f"{s}_confidence"] = f"{m.confidence:.4f}"
        if not m.present:
            continue
        mm2 = None if spacing is None else m.area_px * spacing[0] * spacing[1]
        row[f"{s}_area_px"] = _f(m.area_px, 1)
        row[f"{s}_area_mm2"] = _f(mm2, 4)
        row[f"{s}_diameter_px"] = _f(m.diameter_px)
        row[f"{s}_diameter_mm"] = "" if mm2 is None else f"{2 * math.sqrt(mm2 / math.pi):.4f}"
        if m.centroid is not None:
            row[f"{s}_centroid_x"], row[f"{s}_centroid_y"] = _f(m.centroid[0]), _f(m.centroid[1])
        if m.ellipse is not None:
            e = m.ellipse
            row.update(
                {
                    f"{s}_ellipse_cx": _f(e.cx),
                    f"{s}_ellipse_cy": _f(e.cy),
                    f"{s}_ellipse_major_px": _f(e.major),
                    f"{s}_ellipse_minor_px": _f(e.minor),
                    f"{s}_ellipse_angle_deg": _f(e.angle, 1),
                }
            )
    return row
