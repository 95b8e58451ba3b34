"""Exact biometry of a phantom eye, computed from its analytic curves (see FORMATS.md definitions)."""

from __future__ import annotations

import math
from functools import partial

import numpy as np

from antseg.anatomy import MEASURES, PER_SIDE_MEASURES, SIDES
from antseg.data.phantom.geometry import EyeGeometry


def ray_hit(origin: np.ndarray, direction: np.ndarray, poly: np.ndarray) -> tuple[float, np.ndarray]:
    """First intersection (t > 0) of the ray ``origin + t * direction`` with polyline ``poly`` (K, 2)."""
    a, b = poly[:-1], poly[1:]
    e = b - a
    den = direction[0] * e[:, 1] - direction[1] * e[:, 0]
    w = a - origin
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (w[:, 0] * e[:, 1] - w[:, 1] * e[:, 0]) / den
        s = (w[:, 0] * direction[1] - w[:, 1] * direction[0]) / den
    ok = (np.abs(den) > 1e-15) & (t > 1e-9) & (s >= 0) & (s <= 1)
    if not ok.any():
        raise ValueError("ray misses the curve")
    t_min = float(t[ok].min())
    return t_min, origin + t_min * direction


def shoelace(poly: np.ndarray) -> float:
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1))) / 2)


def _wall_arc(g: EyeGeometry, x0: float, x1: float, n: int = 2001) -> np.ndarray:
    xs = np.linspace(x0, x1, n)
    return np.stack([xs, g.endo(xs)], axis=1)


def _iris_between(g: EyeGeometry, side: str, xa: float, xb: float) -> np.ndarray:
    """Anterior iris surface points with x strictly between xa and xb, ordered from xa to xb."""
    c = g.iris_curve[side]
    lo, hi = min(xa, xb), max(xa, xb)
    pts = c[(c[:, 0] > lo) & (c[:, 0] < hi)]
    pts = pts[np.argsort(pts[:, 0])]
    return pts if xa <= xb else pts[::-1]


def angle_measures(g: EyeGeometry, side: str) -> dict[str, float]:
    """AOD, TISA and ARA at 500 and 750 um from the spur, on one side."""
    s, r = g.spur[side], g.recess[side]
    _, q0 = ray_hit(s, g.wall_normal(s), g.iris_curve[side])
    out = {}
    for d in (500, 750):
        p = g._along_wall(s, d / 1000.0, outward=False)
        aod, q = ray_hit(p, g.wall_normal(p), g.iris_curve[side])
        tisa = np.vstack([_wall_arc(g, s[0], p[0]), [q], _iris_between(g, side, q[0], q0[0]), [q0]])
        ara = np.vstack([_wall_arc(g, r[0], p[0]), [q], _iris_between(g, side, q[0], r[0])])
        out[f"aod{d}_mm_{side}"] = aod
        out[f"tisa{d}_mm2_{side}"] = shoelace(tisa)
        out[f"ara{d}_mm2_{side}"] = shoelace(ara)
    return out


def iris_shape(g: EyeGeometry, side: str, x_range: tuple[float, float] | None = None) -> tuple[float, float]:
    """(IT750, iris curvature) in mm.

    IT750: from the anterior iris surface point 750 um from the spur, along that surface's inward normal (the
    normal of its chord over +-0.1 mm in x), to the posterior surface. Curvature: largest distance of the
    posterior surface in front of the chord joining its most peripheral and most central points (positive =
    bowing forward); with ``x_range`` (mm, the image), of the part inside it.
    """
    lo, hi = sorted([g.recess[side][0], g.tip[side][0]])
    if x_range is not None:
        lo, hi = max(lo, x_range[0]), min(hi, x_range[1])
    xs = np.linspace(lo, hi, 16001)
    ant, post = g.iris_interval(side, xs)
    if side == "right":
        xs, ant, post = xs[::-1], ant[::-1], post[::-1]  # from the periphery to the pupil
    front = np.stack([xs, ant], axis=1)
    back = np.stack([xs, post], axis=1)
    chord = back[-1] - back[0]
    up = np.array([chord[1], -chord[0]]) / np.linalg.norm(chord)
    up = up if up[1] < 0 else -up
    curvature = float(((back - back[0]) @ up).max())
    d = np.hypot(*(front - g.spur[side]).T)
    if d[0] >= 0.75 or not (d >= 0.75).any():
        return math.nan, curvature  # the point 750 um from the spur is outside the image
    i = int(np.argmax(d >= 0.75))
    a = front[i - 1] + (0.75 - d[i - 1]) / (d[i] - d[i - 1]) * (front[i] - front[i - 1])
    # The normal is that of the chord over +-0.1 mm in x, as the mask measurement takes it
    # (antseg.biometry.geometry.iris_thickness): on a curved iris (a plateau root) a local tangent tilts the
    # ray and IT750 differed by up to 0.09 mm between the two, with both exact to their own definition.
    span = max(1, round(0.1 / abs(xs[1] - xs[0])))
    t = front[min(i + span, len(front) - 1)] - front[max(i - span, 0)]
    n = np.array([-t[1], t[0]]) / np.linalg.norm(t)
    n = n if n[1] > 0 else -n
    it750, _ = ray_hit(a - 1e-6 * n, n, back)
    return float(it750), curvature


def _integrate(g: EyeGeometry, fn, x0: float, x1: float, n: int = 8001) -> float:
    xs = np.linspace(x0, x1, n)
    top, bot = fn(xs)
    return float(np.trapezoid(np.clip(bot - top, 0, None), xs))


#: Per-side measures that need that side's spur (all but the iris area and curvature).
SPUR_BASED: tuple[str, ...] = tuple(m for m in PER_SIDE_MEASURES if m not in ("iris_area_mm2", "iris_curvature_mm"))


def exact_biometry(
    g: EyeGeometry, x_range: tuple[float, float] | None = None, out_of_view: tuple[str, ...] = ()
) -> dict[str, float]:
    """All reference measurements of the phantom eye (mm / mm2), keyed as in :data:`MEASURES`.

    Args:
        x_range: (x0, x1) mm of the image's outer pixel edges. A scan cropped at a side shows only part of the
            chamber and of that iris: the areas and the iris curvature then count only what lies inside, as the
            masks do (without it, a cropped iris's area differed from its mask's by up to 0.25 mm2).
        out_of_view: sides whose spur lies outside the image: what needs that spur (its angle measures and
            IT750; ACW, ACD and LV) is NaN, as no measurement of the image can have it.
    """
    lo_x, hi_x = x_range if x_range is not None else (-math.inf, math.inf)
    sl, sr = g.spur["left"], g.spur["right"]
    chord = sr - sl
    acw = float(np.linalg.norm(chord))
    mid = 0.5 * (sl + sr)
    up = np.array([chord[1], -chord[0]]) / acw  # perpendicular to the spur line, pointing anterior (y down)
    if up[1] > 0:
        up = -up
    # ACD on the perpendicular bisector of the spur line: endothelium down to the anterior lens surface.
    lens_front = np.stack([np.linspace(g.p.cx - 4, g.p.cx + 4, 8001), np.zeros(8001)], axis=1)
    lens_front[:, 1] = g.lens_ant(lens_front[:, 0])
    _, on_lens = ray_hit(mid + 20 * up, -up, lens_front)
    wall = _wall_arc(g, g.p.cx - 3, g.p.cx + 3, 3001)
    _, on_endo = ray_hit(mid, up, wall)
    acd = float(np.linalg.norm(on_lens - on_endo))
    # LV: largest distance of the anterior lens surface in front of the spur line.
    lv = float(np.max((lens_front - sl) @ up))
    out = {
        "acd_mm": acd,
        "acw_mm": acw,
        "lv_mm": lv,
        "pupil_diameter_mm": float(np.linalg.norm(g.tip["right"] - g.tip["left"])),
        "ac_area_mm2": _integrate(
            g, g.chamber_interval, max(g.recess["left"][0], lo_x), min(g.recess["right"][0], hi_x)
        ),
    }
    for side in SIDES:
        out.update(angle_measures(g, side))
        x0, x1 = sorted([g.recess[side][0], g.tip[side][0]])
        out[f"iris_area_mm2_{side}"] = _integrate(g, partial(g.iris_interval, side), max(x0, lo_x), min(x1, hi_x))
        out[f"it750_mm_{side}"], out[f"iris_curvature_mm_{side}"] = iris_shape(g, side, x_range)
    for side in out_of_view:
        for key in ("acw_mm", "acd_mm", "lv_mm", *(f"{m}_{side}" for m in SPUR_BASED)):
            out[key] = math.nan
    return {k: out[k] for k in MEASURES}
