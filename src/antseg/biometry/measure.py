"""All biometric measures of one scan, with a reason for each value that cannot be measured."""

from __future__ import annotations

import math

import numpy as np

from antseg.anatomy import MEASURES, PER_SIDE_MEASURES, SIDES, spur_name
from antseg.biometry.geometry import (
    chamber_depth,
    iris_curvature,
    iris_thickness,
    iris_tip,
    lens_vault,
    march,
    nan_reason,
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
) -> tuple[dict[str, float], dict[str, str]]:
    """Biometry of one scan.

    Args:
        masks: structure name -> (H, W) binary mask (``anterior_chamber``, ``lens``, ``left_iris``,
            ``right_iris``; others ignored).
        spurs: ``left_scleral_spur`` / ``right_scleral_spur`` -> (x, y) pixels, or None when not visible.
        spacing: (x, y) mm per pixel.
        snap_spurs: measure the angle (AOD, TISA, ARA) from the spur moved onto the chamber wall (its closest
            wall point), so a spur a few pixels off the wall does not shift the 500/750 um points.
    Returns:
        (values, reasons): every key of :data:`MEASURES`; NaN where it cannot be measured, and then a
        reason in ``reasons``.
    """
    sx, sy = spacing
    v: dict[str, float] = {}
    why: dict[str, str] = {}
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
        up = np.array([chord[1], -chord[0]]) / v["acw_mm"]
        up = -up if up[1] > 0 else up
        mid = (sp_mm["left"] + sp_mm["right"]) / 2
        if ac is None:
            nan_reason(v, why, ["acd_mm"], "no anterior chamber")
        else:
            v["acd_mm"] = chamber_depth(ac, mid, up, spacing)
        if lens is None or not lens.any():
            nan_reason(v, why, ["lv_mm"], "lens not visible")
        else:
            v["lv_mm"] = lens_vault(lens.astype(bool), sp_mm["left"], up, spacing)
    irises = {s: masks.get(f"{s}_iris") for s in SIDES}
    if all(m is not None and m.any() for m in irises.values()):
        v["pupil_diameter_mm"] = float(
            np.linalg.norm(iris_tip(irises["right"], "right", spacing) - iris_tip(irises["left"], "left", spacing))
        )
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
            v[f"iris_curvature_mm_{s}"] = iris_curvature(iris.astype(bool), s, spacing)
            if sp_mm[s] is None:
                nan_reason(v, why, [f"it750_mm_{s}"], f"{s} scleral spur not visible")
            else:
                try:
                    v[f"it750_mm_{s}"] = iris_thickness(iris.astype(bool), sp_mm[s], 0.75, s, spacing)
                except ValueError as exc:
                    nan_reason(v, why, [f"it750_mm_{s}"], str(exc))
        angle = [k for k in keys if not k.startswith(("iris_", "it750"))]
        if sp_mm[s] is None:
            nan_reason(v, why, angle, f"{s} scleral spur not visible")
            continue
        if ac is None:
            nan_reason(v, why, angle, "no anterior chamber")
            continue
        wall = wall_profile(ac, spacing)
        spur = snap_to_wall(wall, sp_mm[s]) if snap_spurs else sp_mm[s]
        try:
            _, n_spur = point_on_wall(wall, spur, 1e-6, s)
            for d in (500, 750):
                p, n = point_on_wall(wall, spur, d / 1000, s)
                v[f"aod{d}_mm_{s}"] = march(ac, p, n, spacing)
                v[f"tisa{d}_mm2_{s}"] = sector_area(ac, spacing, spur, n_spur, p, n)
                v[f"ara{d}_mm2_{s}"] = sector_area(ac, spacing, spur, None, p, n)
        except ValueError as exc:
            nan_reason(v, why, angle, str(exc))
    return {k: v[k] for k in MEASURES}, why
