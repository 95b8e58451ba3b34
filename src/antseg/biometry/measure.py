"""All biometric measures of one scan, with a reason for each value that cannot be measured. Never raises on
geometry: a measure the masks and spurs cannot give is NaN with its reason."""

from __future__ import annotations

import math

import numpy as np

from antseg.anatomy import MEASURES, PER_SIDE_MEASURES, SIDES, spur_name
from antseg.biometry.geometry import (
    ACD_OFFSETS,
    chamber_extents,
    chamber_floor,
    iris_curvature,
    iris_thickness,
    iris_tip,
    lens_front,
    lens_vault,
    march,
    nan_reason,
    near,
    point_on_wall,
    sector_area,
    snap_to_wall,
    wall_profile,
)


def measure(
    masks: dict[str, np.ndarray],
    spurs: dict[str, tuple[float, float] | None],
    spacing: tuple[float, float],
    snap_spurs: bool = False,
    details: dict | None = None,
) -> tuple[dict[str, float], dict[str, str]]:
    """Biometry of one scan.

    Args:
        masks: structure name -> (H, W) binary mask (``anterior_chamber``, ``lens``, ``left_iris``,
            ``right_iris``; others ignored).
        spurs: ``left_scleral_spur`` / ``right_scleral_spur`` -> (x, y) pixels, or None when not visible.
        spacing: (x, y) mm per pixel.
        snap_spurs: measure the angle (AOD, TISA, ARA) from the spur moved onto the chamber wall (its closest
            wall point), so a spur a few pixels off the wall does not shift the 500/750 um points.
        details: when given, filled with what the quality checks look at: ``acd_lines_mm`` (the chamber extent
            on each line of :data:`~antseg.biometry.geometry.ACD_OFFSETS`), ``acd_floor_on_lens`` (True/False:
            the chamber ends on the lens front on the bisector; None when the masks have no lens),
            ``lens_front_columns`` (how many columns show the lens front in the pupil).
    Returns:
        (values, reasons): every key of :data:`MEASURES`; NaN where it cannot be measured, and then a
        reason in ``reasons``.
    """
    sx, sy = spacing
    v: dict[str, float] = {}
    why: dict[str, str] = {}
    info = details if details is not None else {}
    ac = masks.get("anterior_chamber")
    lens = masks.get("lens")
    ac = None if ac is None or not ac.any() else ac.astype(bool)
    sp = {s: spurs.get(spur_name(s)) for s in SIDES}
    sp_mm = {s: None if p is None else np.array([p[0] * sx, p[1] * sy]) for s, p in sp.items()}
    v["ac_area_mm2"] = float(ac.sum() * sx * sy) if ac is not None else math.nan
    if ac is None:
        why["ac_area_mm2"] = "no anterior chamber"
    if sp_mm["left"] is None or sp_mm["right"] is None:
        nan_reason(v, why, ["acw_mm", "acd_mm", "lv_mm"], "a scleral spur is not visible")
    else:
        chord = sp_mm["right"] - sp_mm["left"]
        v["acw_mm"] = float(np.linalg.norm(chord))
        if not v["acw_mm"] > 0:
            nan_reason(v, why, ["acw_mm", "acd_mm", "lv_mm"], "the two scleral spurs coincide")
        else:
            up = np.array([chord[1], -chord[0]]) / v["acw_mm"]
            up = -up if up[1] > 0 else up
            mid = (sp_mm["left"] + sp_mm["right"]) / 2
            offsets = [f * v["acw_mm"] for f in ACD_OFFSETS]
            _chamber_depth(v, why, info, ac, lens, mid, up, spacing, offsets)
            _lens_vault(v, why, info, ac, lens, masks, sp_mm["left"], up, spacing)
    irises = {s: masks.get(f"{s}_iris") for s in SIDES}
    if all(m is not None and m.any() for m in irises.values()):
        tips = {s: iris_tip(irises[s], s, spacing) for s in SIDES}
        v["pupil_diameter_mm"] = float(np.linalg.norm(tips["right"] - tips["left"]))
    else:
        nan_reason(v, why, ["pupil_diameter_mm"], "an iris is missing")
    for s in SIDES:
        keys = [f"{m}_{s}" for m in PER_SIDE_MEASURES]
        iris = irises[s]
        v[f"iris_area_mm2_{s}"] = float(iris.sum() * sx * sy) if iris is not None and iris.any() else math.nan
        if math.isnan(v[f"iris_area_mm2_{s}"]):
            why[f"iris_area_mm2_{s}"] = f"no {s} iris"
        shape = [f"it750_mm_{s}", f"iris_curvature_mm_{s}"]
        if iris is None or not iris.any():
            nan_reason(v, why, shape, f"no {s} iris")
        else:
            curvature = [f"iris_curvature_mm_{s}"]
            _guarded(v, why, curvature, lambda i=iris, s=s: [iris_curvature(i.astype(bool), s, spacing)])
            if sp_mm[s] is None:
                nan_reason(v, why, [f"it750_mm_{s}"], f"{s} scleral spur not visible")
            else:
                _guarded(
                    v, why, [f"it750_mm_{s}"],
                    lambda i=iris, s=s: [iris_thickness(i.astype(bool), sp_mm[s], 0.75, s, spacing)],
                )  # fmt: skip
        angle = [k for k in keys if not k.startswith(("iris_", "it750"))]
        if sp_mm[s] is None:
            nan_reason(v, why, angle, f"{s} scleral spur not visible")
            continue
        if ac is None:
            nan_reason(v, why, angle, "no anterior chamber")
            continue
        _guarded(v, why, angle, lambda s=s: _angle(ac, sp_mm[s], s, spacing, snap_spurs))
    for k in MEASURES:  # a value that came out infinite or undefined is not a measurement
        if k not in v or not math.isfinite(v[k]):
            nan_reason(v, why, [k], "could not be measured (degenerate geometry)")
    return {k: v[k] for k in MEASURES}, why


def _angle(ac, spur_mm, side: str, spacing, snap: bool) -> list[float]:
    """AOD500, TISA500, ARA500, AOD750, TISA750, ARA750 of one side (the order of ``PER_SIDE_MEASURES``)."""
    wall = wall_profile(ac, spacing)
    spur = snap_to_wall(wall, spur_mm) if snap else spur_mm
    _, n_spur = point_on_wall(wall, spur, 1e-6, side)
    out = {}
    for d in (500, 750):
        p, n = point_on_wall(wall, spur, d / 1000, side)
        out[f"aod{d}"] = march(ac, p, n, spacing)
        out[f"tisa{d}"] = sector_area(ac, spacing, spur, n_spur, p, n)
        out[f"ara{d}"] = sector_area(ac, spacing, spur, None, p, n)
    return [out[m.split("_")[0]] for m in PER_SIDE_MEASURES if not m.startswith(("iris_", "it750"))]


def _guarded(v: dict, why: dict, keys: list[str], compute) -> None:
    """Set ``keys`` from ``compute()`` (a list of values in that order); a geometric failure (or a value that is
    not finite) leaves them NaN with the reason."""
    try:
        with np.errstate(all="ignore"):
            vals = [float(x) for x in compute()]
    except (ValueError, ZeroDivisionError, IndexError, FloatingPointError, np.linalg.LinAlgError) as exc:
        nan_reason(v, why, keys, str(exc) or type(exc).__name__)
        return
    for k, x in zip(keys, vals, strict=True):
        if math.isfinite(x):
            v[k] = x
        else:
            nan_reason(v, why, [k], "could not be measured (degenerate geometry)")


def _chamber_depth(v, why, info, ac, lens, mid, up, spacing, offsets) -> None:
    """ACD: the median chamber extent over the bisector and its parallels (see ``ACD_OFFSETS``)."""
    if ac is None:
        nan_reason(v, why, ["acd_mm"], "no anterior chamber")
        return
    lines = chamber_extents(ac, mid, up, spacing, offsets)
    info["acd_lines_mm"] = [float(x) for x in lines]
    if np.isfinite(lines).sum() < (len(lines) + 1) // 2:
        nan_reason(v, why, ["acd_mm"], "the perpendicular bisector of the spurs misses the chamber")
        return
    v["acd_mm"] = float(np.nanmedian(lines))
    floor = chamber_floor(ac, mid, up, spacing)
    if lens is None:
        info["acd_floor_on_lens"] = None
    else:
        info["acd_floor_on_lens"] = bool(floor is not None and lens.any() and near(lens, floor, 0.1, spacing))


def _lens_vault(v, why, info, ac, lens, masks, spur_l, up, spacing) -> None:
    """LV from the lens front where the scan shows it (in the pupil, under the chamber)."""
    if lens is None or not lens.any():
        nan_reason(v, why, ["lv_mm"], "lens not visible")
        return
    if ac is None:
        nan_reason(v, why, ["lv_mm"], "no anterior chamber")
        return
    pupil = None
    irises = [masks.get(f"{s}_iris") for s in SIDES]
    if all(m is not None and m.any() for m in irises):
        left, right = iris_tip(irises[0], "left", spacing), iris_tip(irises[1], "right", spacing)
        if right[0] > left[0]:
            pupil = (float(left[0]), float(right[0]))
    front = lens_front(lens.astype(bool), ac, spacing, pupil)
    info["lens_front_columns"] = int(len(front))
    if len(front) < 3:
        nan_reason(v, why, ["lv_mm"], "the lens front is not seen in the pupil under the chamber")
        return
    v["lv_mm"] = lens_vault(front, spur_l, up)
