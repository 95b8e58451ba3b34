"""How much of an AOD500 / TISA500 error comes from the spur position and how much from the chamber boundary?

On a labelled dataset (e.g. the real development eye, which must stay outside the repository), each angle is
measured from the labels, then again with one input perturbed at a time:
- the spur moved along the chamber wall (toward the cornea = anterior, or toward the recess = posterior);
- the spur moved off the wall (into the tissue or into the chamber), with and without snapping it to the wall;
- the chamber boundary moved by dilating / eroding the anterior-chamber mask (as a segmentation bias would).

Usage: python benchmarks/bench_angle_sensitivity.py ../shared/reference/real_dev/age_eye_T0004
"""

from __future__ import annotations

import argparse
import math

import cv2
import numpy as np

from antseg.anatomy import SIDES, spur_name
from antseg.biometry.geometry import point_on_wall, wall_profile
from antseg.biometry.measure import measure
from antseg.data import load_dataset


def _aod(masks, spurs, spacing, side, snap):
    v, _ = measure(masks, spurs, spacing, snap_spurs=snap)
    return v[f"aod500_mm_{side}"], v[f"tisa500_mm2_{side}"]


def _wall_frame(ac, spur, spacing, side):
    """Unit tangent (toward the axis) and normal (into the chamber) of the wall at the spur, in pixels."""
    sx, sy = spacing
    wall = wall_profile(ac.astype(bool), spacing)
    s_mm = np.array([spur[0] * sx, spur[1] * sy])
    p, n = point_on_wall(wall, s_mm, 0.2, side)
    t = (p - s_mm) / np.linalg.norm(p - s_mm)
    return np.array([t[0] / sx, t[1] / sy]) / np.hypot(t[0] / sx, t[1] / sy), np.array([n[0], n[1]])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset")
    ap.add_argument("--shift", type=float, nargs="+", default=[2.0, 4.0, 8.0], help="perturbations in px")
    args = ap.parse_args()
    ds = load_dataset(args.dataset)
    rows: dict[str, list[float]] = {}

    def add(key, value):
        if math.isfinite(value):
            rows.setdefault(key, []).append(value)

    base_aod = []
    for c in ds.cases:
        sp = ds.spacing(c)
        masks = dict(zip(ds.structures, ds.load_masks(c), strict=True))
        spurs = dict(c.landmarks)
        for side in SIDES:
            name = spur_name(side)
            if spurs.get(name) is None:
                continue
            a0, t0 = _aod(masks, spurs, sp, side, False)
            a0s, t0s = _aod(masks, spurs, sp, side, True)
            if not math.isfinite(a0):
                continue
            base_aod.append(a0)
            add("snap: AOD500 change from snapping the labelled spur (mm)", a0s - a0)
            tan, nor = _wall_frame(masks["anterior_chamber"], spurs[name], sp, side)
            for d in args.shift:
                for sign, what in ((1, "anterior"), (-1, "posterior")):
                    moved = {**spurs, name: tuple(np.array(spurs[name]) + sign * d * tan)}
                    a, t = _aod(masks, moved, sp, side, False)
                    add(f"spur {d:g} px {what} along the wall: AOD500 change (mm)", a - a0)
                    add(f"spur {d:g} px {what} along the wall: TISA500 change (mm2)", t - t0)
                for sign, what in ((1, "into the chamber"), (-1, "into the tissue")):
                    moved = {**spurs, name: tuple(np.array(spurs[name]) + sign * d * nor)}
                    a, _ = _aod(masks, moved, sp, side, False)
                    add(f"spur {d:g} px off the wall {what}: AOD500 change (mm)", a - a0)
                    a, _ = _aod(masks, moved, sp, side, True)
                    add(f"spur {d:g} px off the wall {what}, snapped: AOD500 change (mm)", a - a0s)
                k = int(round(d))
                kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * k + 1, 2 * k + 1))
                for op, what in ((cv2.dilate, "dilated"), (cv2.erode, "eroded")):
                    m2 = {**masks, "anterior_chamber": op(masks["anterior_chamber"].astype(np.uint8), kernel)}
                    a, t = _aod(m2, spurs, sp, side, True)
                    add(f"chamber mask {what} by {k} px: AOD500 change (mm)", a - a0s)
                    add(f"chamber mask {what} by {k} px: TISA500 change (mm2)", t - t0s)
    print(f"{len(base_aod)} angles; AOD500 from the labels: mean {np.mean(base_aod):.3f} mm, "
          f"range {np.min(base_aod):.3f}-{np.max(base_aod):.3f} mm\n")  # fmt: skip
    print("| perturbation | mean change | mean abs change | n |\n| :-- | --: | --: | --: |")
    for k, v in rows.items():
        print(f"| {k} | {np.mean(v):+.4f} | {np.mean(np.abs(v)):.4f} | {len(v)} |")


if __name__ == "__main__":
    main()
