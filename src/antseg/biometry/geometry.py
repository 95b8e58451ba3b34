"""Anterior-segment biometry from structure masks, scleral spurs and the pixel spacing (pure geometry).

Everything is measured in mm after applying the spacing (x and y may differ), never in pixels.
Boundaries are taken at pixel edges (half a pixel outside the last pixel of a structure), which is
unbiased for masks sampled at pixel centres. Definitions follow the reference documents:

- ACW: distance between the two spurs.
- ACD: along the perpendicular bisector of the spur line, corneal endothelium to anterior lens surface
  (the anterior-chamber extent on that line).
- LV: largest distance of the anterior lens surface in front of the spur line.
- AOD500/750: from the point of the inner wall 500/750 um from the spur, along the wall normal, to the iris.
- TISA500/750: chamber area between the spur's and that point's normals. ARA: chamber area peripheral to it.
- Pupil diameter: between the most central points of the two irises. Iris area: iris cross-section.
"""

from __future__ import annotations

import math

import numpy as np


def wall_profile(ac: np.ndarray, spacing: tuple[float, float]) -> np.ndarray:
    """Chamber roof (corneal endothelium / inner wall) per column, (K, 2) mm points sorted by x."""
    sx, sy = spacing
    cols = np.nonzero(ac.any(axis=0))[0]
    rows = ac[:, cols].argmax(axis=0)
    return np.stack([cols * sx, (rows - 0.5) * sy], axis=1)


def snap_to_wall(wall: np.ndarray, p_mm: np.ndarray) -> np.ndarray:
    """The point of the chamber-roof polyline ``wall`` (K, 2 mm, from :func:`wall_profile`) closest to ``p_mm``.

    A spur predicted (or labelled) a few pixels into the tissue or into the chamber is moved onto the wall, so
    the 500/750 um points and the wall normals are taken where the wall is, not beside it.
    """
    if len(wall) == 1:
        return wall[0].copy()
    a, b = wall[:-1], wall[1:]
    ab = b - a
    t = np.clip(((p_mm - a) * ab).sum(axis=1) / np.maximum((ab * ab).sum(axis=1), 1e-18), 0.0, 1.0)
    q = a + t[:, None] * ab
    return q[int(np.argmin(np.hypot(*(q - p_mm).T)))]


def point_on_wall(wall: np.ndarray, spur_mm: np.ndarray, dist: float, side: str) -> tuple[np.ndarray, np.ndarray]:
    """The wall point at chord distance ``dist`` (mm) from the spur toward the axis, and the wall normal there
    pointing into the chamber (down)."""
    pts = wall[wall[:, 0] > spur_mm[0]] if side == "left" else wall[wall[:, 0] < spur_mm[0]][::-1]
    pts = np.vstack([spur_mm[None], pts])  # the polyline starts at the spur itself
    d = np.hypot(*(pts - spur_mm).T)
    i = int(np.argmax(d >= dist))
    if d[i] < dist or i == 0:
        raise ValueError("the chamber roof is shorter than the distance")
    t = (dist - d[i - 1]) / (d[i] - d[i - 1])
    p = pts[i - 1] + t * (pts[i] - pts[i - 1])
    step = float(np.median(np.abs(np.diff(pts[1:, 0])))) if len(pts) > 2 else 1.0
    span = max(3, int(0.1 / max(step, 1e-9)))  # fit the direction over about 0.2 mm of wall
    lo, hi = pts[max(i - span, 0)], pts[min(i + span, len(pts) - 1)]
    tangent = (hi - lo) / np.linalg.norm(hi - lo)
    normal = np.array([-tangent[1], tangent[0]])
    return p, (normal if normal[1] > 0 else -normal)


def march(mask: np.ndarray, start_mm: np.ndarray, direction: np.ndarray, spacing: tuple[float, float],
          step_px: float = 0.05, max_mm: float = 5.0) -> float:  # fmt: skip
    """Distance (mm) from ``start_mm`` along ``direction`` until the ray leaves ``mask``.

    The ray is sampled every ``step_px`` pixels (nearest pixel), all samples at once.
    """
    sx, sy = spacing
    step = step_px * min(sx, sy)
    ts = 0.5 * min(sx, sy) + step * np.arange(int(np.ceil((max_mm - 0.5 * min(sx, sy)) / step)))
    h, w = mask.shape
    pts = (start_mm[None] + ts[:, None] * direction[None]) / (sx, sy)
    r, c = np.round(pts[:, 1]).astype(int), np.round(pts[:, 0]).astype(int)
    ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    inside = np.zeros(len(ts), bool)
    inside[ok] = mask[r[ok], c[ok]]
    out = np.flatnonzero(~inside)
    return float(ts[out[0]]) if len(out) else float(max_mm)


def _cross(o: np.ndarray, n: np.ndarray, pts: np.ndarray) -> np.ndarray:
    return (pts[:, 0] - o[0]) * n[1] - (pts[:, 1] - o[1]) * n[0]


def sector_area(ac: np.ndarray, spacing, spur_mm, n_spur, p_mm, n_p, reach_mm: float = 2.0) -> float:
    """Chamber area (mm2) between the normals at the spur and at ``p`` (TISA); with ``n_spur`` None, all the
    chamber on the spur's side of p's normal (ARA). Only pixels within ``reach_mm`` of the spur count."""
    sx, sy = spacing
    # Only pixels within reach of the spur can count: look in that window, not the whole chamber.
    h, w = ac.shape
    r0, r1 = max(0, int((spur_mm[1] - reach_mm) / sy) - 1), min(h, int((spur_mm[1] + reach_mm) / sy) + 2)
    c0, c1 = max(0, int((spur_mm[0] - reach_mm) / sx) - 1), min(w, int((spur_mm[0] + reach_mm) / sx) + 2)
    r, c = np.nonzero(ac[r0:r1, c0:c1])
    r, c = r + r0, c + c0
    q = np.stack([c * sx, r * sy], axis=1)
    keep = np.hypot(*(q - spur_mm).T) < reach_mm
    keep &= np.sign(_cross(p_mm, n_p, q)) == np.sign(_cross(p_mm, n_p, spur_mm[None])[0])
    if n_spur is not None:
        keep &= np.sign(_cross(spur_mm, n_spur, q)) == np.sign(_cross(spur_mm, n_spur, p_mm[None])[0])
    return float(keep.sum() * sx * sy)


def iris_tip(iris: np.ndarray, side: str, spacing) -> np.ndarray:
    """Most central point of an iris (mm): its pupillary edge, at the mean row of that column."""
    sx, sy = spacing
    cols = np.nonzero(iris.any(axis=0))[0]
    col = cols.max() if side == "left" else cols.min()
    edge = col + 0.5 if side == "left" else col - 0.5
    return np.array([edge * sx, np.nonzero(iris[:, col])[0].mean() * sy])


#: Lateral offsets of the lines along which ACD is measured, as fractions of ACW: the perpendicular bisector of
#: the spurs and parallels on both sides, +-0.45 mm apart at most on a 12 mm chamber. Over that span a real
#: chamber's depth changes by under 0.01 mm, while an artefact on the bisector itself (the device's central
#: reflection, about 0.3 mm wide on CASIA scans) spoils at most three of the seven lines: the median ignores it,
#: and the spread between the lines reveals it.
ACD_OFFSETS = (-0.0375, -0.025, -0.0125, 0.0, 0.0125, 0.025, 0.0375)


def _line_samples(ac: np.ndarray, origin: np.ndarray, up: np.ndarray, spacing, step_px: float) -> tuple:
    """Samples along the line through ``origin`` (mm) with direction ``up``, over the chamber's bounding box:
    (t in mm along ``up``, inside the chamber)."""
    sx, sy = spacing
    rows, cols = np.flatnonzero(ac.any(axis=1)), np.flatnonzero(ac.any(axis=0))
    corners = np.array([[c * sx, r * sy] for r in (rows[0] - 1, rows[-1] + 1) for c in (cols[0] - 1, cols[-1] + 1)])
    proj = (corners - origin) @ up
    step = step_px * min(sx, sy)
    ts = np.arange(proj.min() - step, proj.max() + step, step)
    pts = (origin[None] + ts[:, None] * up[None]) / (sx, sy)
    r, c = np.round(pts[:, 1]).astype(int), np.round(pts[:, 0]).astype(int)
    h, w = ac.shape
    ok = (r >= 0) & (r < h) & (c >= 0) & (c < w)
    inside = np.zeros(len(ts), bool)
    inside[ok] = ac[r[ok], c[ok]]
    return ts, inside


def chamber_extents(ac: np.ndarray, mid_mm: np.ndarray, up: np.ndarray, spacing, offsets_mm) -> np.ndarray:
    """Chamber extent (mm) along lines of direction ``up`` through ``mid_mm`` shifted sideways by each offset (mm):
    from the first chamber sample (the corneal endothelium) to the last (the lens front), NaN where a line misses
    the chamber. A gap inside the chamber does not cut the extent short. Sampled every 0.05 px."""
    side = np.array([-up[1], up[0]])
    out = np.full(len(offsets_mm), np.nan)
    if not ac.any():
        return out
    step = 0.05 * min(spacing)
    for k, off in enumerate(offsets_mm):
        _, inside = _line_samples(ac, mid_mm + off * side, up, spacing, 0.05)
        idx = np.flatnonzero(inside)
        if len(idx):
            out[k] = float((idx[-1] - idx[0] + 1) * step)
    return out


def chamber_floor(ac: np.ndarray, mid_mm: np.ndarray, up: np.ndarray, spacing) -> np.ndarray | None:
    """The deepest chamber point (mm) on the line through ``mid_mm`` along ``up`` (where ACD ends), or None."""
    if not ac.any():
        return None
    ts, inside = _line_samples(ac, mid_mm, up, spacing, 0.25)
    idx = np.flatnonzero(inside)
    return None if not len(idx) else mid_mm + ts[idx[0]] * up


def near(mask: np.ndarray, point_mm: np.ndarray, radius_mm: float, spacing) -> bool:
    """True when ``mask`` has a pixel within ``radius_mm`` of ``point_mm``."""
    sx, sy = spacing
    c0, r0 = point_mm[0] / sx, point_mm[1] / sy
    rx, ry = radius_mm / sx, radius_mm / sy
    h, w = mask.shape
    rows = slice(max(0, int(r0 - ry) - 1), min(h, int(r0 + ry) + 2))
    cols = slice(max(0, int(c0 - rx) - 1), min(w, int(c0 + rx) + 2))
    rr, cc = np.nonzero(mask[rows, cols])
    if not len(rr):
        return False
    d = np.hypot((cc + cols.start - c0) * sx, (rr + rows.start - r0) * sy)
    return bool(d.min() <= radius_mm)


def lens_front(lens: np.ndarray, ac: np.ndarray, spacing, pupil: tuple[float, float] | None = None,
               gap_mm: float = 0.1) -> np.ndarray:  # fmt: skip
    """The anterior lens surface where the scan shows it: the top of the lens (mm points) in the columns where
    it lies under the chamber, within ``gap_mm`` of the chamber's floor, and (when ``pupil`` = (x0, x1) mm is
    given) inside the pupil. Elsewhere the lens is hidden behind the iris or not seen, and nothing is taken."""
    sx, sy = spacing
    cols = np.nonzero(lens.any(axis=0) & ac.any(axis=0))[0]
    if pupil is not None:
        cols = cols[(cols * sx >= pupil[0]) & (cols * sx <= pupil[1])]
    if not len(cols):
        return np.zeros((0, 2))
    top = lens[:, cols].argmax(axis=0)
    floor = ac.shape[0] - 1 - ac[::-1, cols].argmax(axis=0)
    keep = (top > floor) & ((top - floor - 1) * sy <= gap_mm)
    return np.stack([cols[keep] * sx, (top[keep] - 0.5) * sy], axis=1)


def lens_vault(front: np.ndarray, spur_l: np.ndarray, up: np.ndarray) -> float:
    """Largest distance (mm) of the anterior lens surface points ``front`` (mm, from :func:`lens_front`) in front
    of the spur line."""
    return float(((front - spur_l) @ up).max())


def nan_reason(values: dict, reasons: dict, keys: list[str], why: str) -> None:
    for k in keys:
        values[k] = math.nan
        reasons.setdefault(k, why)


def _iris_surfaces(iris: np.ndarray, side: str, spacing) -> tuple[np.ndarray, np.ndarray]:
    """Anterior and posterior iris surfaces per column (mm), ordered from the periphery to the pupil."""
    sx, sy = spacing
    cols = np.nonzero(iris.any(axis=0))[0]
    first = iris[:, cols].argmax(axis=0)
    last = iris.shape[0] - 1 - iris[::-1, cols].argmax(axis=0)
    front = np.stack([cols * sx, (first - 0.5) * sy], axis=1)
    back = np.stack([cols * sx, (last + 0.5) * sy], axis=1)
    return (front, back) if side == "left" else (front[::-1], back[::-1])


def iris_thickness(iris: np.ndarray, spur_mm: np.ndarray, dist: float, side: str, spacing) -> float:
    """Iris thickness (mm) at the anterior-surface point ``dist`` mm from the spur, along that surface's normal."""
    front, _ = _iris_surfaces(iris, side, spacing)
    d = np.hypot(*(front - spur_mm).T)
    i = int(np.argmax(d >= dist))
    if d[i] < dist or i == 0:
        raise ValueError(f"the iris does not reach {dist * 1000:.0f} um from the spur")
    a = front[i - 1] + (dist - d[i - 1]) / (d[i] - d[i - 1]) * (front[i] - front[i - 1])
    span = max(3, int(0.1 / spacing[0]))
    t = front[min(i + span, len(front) - 1)] - front[max(i - span, 0)]
    n = np.array([-t[1], t[0]]) / np.linalg.norm(t)
    return march(iris, a, n if n[1] > 0 else -n, spacing)


def iris_curvature(iris: np.ndarray, side: str, spacing) -> float:
    """Largest distance (mm) of the posterior iris surface in front of the chord joining its most peripheral
    and most central points (positive: the iris bows forward)."""
    _, back = _iris_surfaces(iris, side, spacing)
    chord = back[-1] - back[0]
    up = np.array([chord[1], -chord[0]]) / np.linalg.norm(chord)
    up = up if up[1] < 0 else -up
    return float(((back - back[0]) @ up).max())
