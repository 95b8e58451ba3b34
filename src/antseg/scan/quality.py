"""Quality control of one scan: is it an anterior-segment B-scan at all, and which measures to doubt.

Two levels:

- :func:`image_problems` and :func:`anatomy_problems`: an image that is not a full anterior-segment B-scan (a
  colour photo, a surgery frame, a corneal close-up, half a scan, a rotated or blank image) gets a warning and
  no measures at all: numbers from it would look precise and mean nothing.
- :func:`judge_measures`: every measure of an in-domain scan gets ``ok``, ``check`` or ``not measured`` and
  its reasons: disagreement with the mirrored scan, spurs that are unsure or were moved, an implausible value,
  a broken chamber near the measurement line, a large repair where it was measured.
"""

from __future__ import annotations

import math

import numpy as np

from antseg.anatomy import ANTERIOR_CHAMBER, CORNEA, LEFT_IRIS, RIGHT_IRIS, SIDES, spur_name
from antseg.biometry.ranges import PLAUSIBLE, base_measure, plausible
from antseg.scan.config import QualityLimits
from antseg.scan.result import CHECK, Measure, Repair

#: Smallest side (px) of an image that can be an AS-OCT B-scan.
MIN_SIDE = 128
#: Width / height of an AS-OCT B-scan: CASIA SS-1000 2.1, CASIA2 1.4, other devices 1.1-2.5.
ASPECT = (0.9, 4.0)
#: Mean chroma above this: a colour image (OCT exports are grey; JPEG chroma noise stays far below).
MAX_CHROMA = 12.0
#: Median grey level above this: mostly bright, unlike an OCT scan's dark background.
MAX_MEDIAN = 110
#: The chamber's width / height (mm): about 3-6 on real eyes; a close-up or rotated scan gives far less.
MIN_CHAMBER_ASPECT = 1.8
#: The chamber must cover at least this fraction of the image.
MIN_CHAMBER_FRACTION = 0.005

#: Share of the chamber's columns whose roof must be cornea.
MIN_ROOFED = 0.8
#: A chamber still this deep (fraction of its deepest column) where it leaves the image is cut through its middle.
CUT_DEPTH = 0.5
#: The cornea counts as the chamber's roof within this distance (mm) above the chamber's top.
ROOF_GAP_MM = 0.05
#: Central corneal thickness (mm) of real eyes, widely: outside it the image is magnified or mis-scaled.
CORNEAL_THICKNESS_MM = (0.3, 1.1)
#: An iris further than this (mm) from the chamber is not where an iris is.
MAX_IRIS_GAP_MM = 0.3

#: Measures that need the chamber, and those that need a side's spur (besides the chamber).
CHAMBER_MEASURES = ("acd_mm", "ac_area_mm2", "lv_mm")
ANGLE_MEASURES = ("aod500_mm", "aod750_mm", "tisa500_mm2", "tisa750_mm2", "ara500_mm2", "ara750_mm2")
#: Measures that do not depend on the spurs.
SPUR_FREE = ("iris_area_mm2", "iris_curvature_mm", "pupil_diameter_mm", "ac_area_mm2")


def image_problems(image: np.ndarray) -> list[str]:
    """Reasons the image itself cannot be an AS-OCT B-scan ((H, W) grey or (H, W, 3) RGB uint8)."""
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        return [f"image is {w}x{h} px: too small for an AS-OCT B-scan"]
    out = []
    if not ASPECT[0] <= w / h <= ASPECT[1]:
        out.append(f"image is {w}x{h} px (width/height {w / h:.2f}): not the shape of an AS-OCT B-scan "
                   "(rotated, or cut)")  # fmt: skip
    if image.ndim == 3:
        sub = image[::4, ::4].astype(np.float32)  # every 16th pixel is plenty for a mean, and 16x faster
        chroma = float(np.abs(sub - sub.mean(axis=2, keepdims=True)).mean())
        if chroma > MAX_CHROMA:
            out.append(f"image is in colour (mean chroma {chroma:.0f}): not an AS-OCT B-scan")
    grey = image if image.ndim == 2 else image.mean(axis=2)
    sample = grey[::4, ::4]
    if float(np.median(sample)) > MAX_MEDIAN:
        out.append("image is mostly bright: not an AS-OCT B-scan")
    if float(sample.std()) < 2.0:
        out.append("image is blank (no contrast)")
    return out


def anatomy_problems(
    masks: dict[str, np.ndarray], spacing: tuple[float, float] | None, spurs: dict[str, dict] | None = None
) -> list[str]:
    """Reasons the segmented anatomy is not a full anterior-segment B-scan: no chamber, a chamber that is not
    wide and shallow, one running off an image side where no spur is found (half a scan), no iris on a side,
    an iris away from the chamber, a cornea that does not roof the chamber or is not a cornea's thickness."""
    ac = masks.get(ANTERIOR_CHAMBER)
    if ac is None:
        return []  # a model without a chamber: nothing to judge here
    h, w = ac.shape
    if ac.sum() < MIN_CHAMBER_FRACTION * h * w:
        return ["no anterior chamber found: not a B-scan of the anterior segment"]
    out = []
    rows, cols = np.flatnonzero(ac.any(axis=1)), np.flatnonzero(ac.any(axis=0))
    sx, sy = spacing or (1.0, 1.0)
    width, height = (cols[-1] - cols[0] + 1) * sx, (rows[-1] - rows[0] + 1) * sy
    if width / height < MIN_CHAMBER_ASPECT:
        out.append(f"the chamber is {width / height:.1f} times as wide as deep (real chambers: 3 to 6): a corneal "
                   "close-up, a rotated scan or not an AS-OCT B-scan")  # fmt: skip
    margin = max(2, w // 200)
    depth = ac.sum(axis=0)
    for side, off, edge in (("left", cols[0] < margin, cols[0]), ("right", cols[-1] >= w - margin, cols[-1])):
        if not off:
            continue
        if depth[edge] > CUT_DEPTH * depth.max():
            out.append(f"the chamber is cut by the {side} side of the image, {depth[edge] / depth.max():.0%} of its "
                       "depth: a partial scan")  # fmt: skip
        elif not (spurs or {}).get(spur_name(side), {}).get("visible"):
            out.append(f"the chamber runs off the {side} side of the image and its spur is not in it: a partial scan")
    for name, side in ((LEFT_IRIS, "left"), (RIGHT_IRIS, "right")):
        if name in masks and not masks[name].any():
            out.append(f"no {side} iris found: not a full anterior-segment B-scan")
    cornea = masks.get(CORNEA)
    if cornea is not None:
        out += _cornea_problems(cornea.astype(bool), ac.astype(bool), cols, spacing)
    for name, side in ((LEFT_IRIS, "left"), (RIGHT_IRIS, "right")):
        iris = masks.get(name)
        if iris is not None and iris.any() and spacing and _gap_mm(iris, ac, spacing) > MAX_IRIS_GAP_MM:
            out.append(f"the {side} iris does not touch the chamber: not a full anterior-segment B-scan")
    return out


def _cornea_problems(cornea: np.ndarray, ac: np.ndarray, cols: np.ndarray, spacing) -> list[str]:
    """The cornea roofs the chamber across its width, and is as thick as a cornea at the scan's spacing."""
    top = ac[:, cols].argmax(axis=0)
    reach = max(3, round(ROOF_GAP_MM / spacing[1])) if spacing else 3
    roofed = np.array([cornea[max(0, t - reach) : t + 1, c].any() for t, c in zip(top, cols, strict=True)])
    if roofed.mean() < MIN_ROOFED:
        return [f"the cornea covers only {roofed.mean():.0%} of the chamber's roof: not a full anterior-segment "
                "B-scan"]  # fmt: skip
    if spacing is None:
        return []
    centre = int(cols[len(cols) // 2])
    thick = float(cornea[:, max(0, centre - 2) : centre + 3].sum(axis=0).mean()) * spacing[1]
    low, high = CORNEAL_THICKNESS_MM
    if not low <= thick <= high:
        return [f"the central cornea is {thick:.2f} mm thick (real corneas {low:g} to {high:g} mm): a magnified "
                "image, or the pixel spacing is wrong"]  # fmt: skip
    return []


def _gap_mm(a: np.ndarray, b: np.ndarray, spacing) -> float:
    """Shortest distance (mm) between two masks, from a subsample of ``a``'s pixels."""
    ya, xa = np.nonzero(a)
    yb, xb = np.nonzero(b)
    step = max(1, len(ya) // 400)
    ya, xa = ya[::step], xa[::step]
    stride = max(1, len(yb) // 4000)
    yb, xb = yb[::stride], xb[::stride]
    from scipy.spatial import cKDTree  # 0.6 s to import: only once a scan is checked, not at every command's start

    tree = cKDTree(np.column_stack([xb * spacing[0], yb * spacing[1]]))
    return float(tree.query(np.column_stack([xa * spacing[0], ya * spacing[1]]))[0].min())


def spur_off_wall(spur: dict) -> bool:
    """The spur lay too far from the angle wall to be moved onto it (``off_wall_mm`` set)."""
    off = spur.get("off_wall_mm", math.nan)
    return off is not None and not math.isnan(off)


def spur_far_from_angle(spur: dict, limits: QualityLimits) -> bool:
    """The spur lies more than ``limits.spur_from_angle_mm`` from where the chamber ends on its side."""
    far = spur.get("from_angle_mm", math.nan)
    return far is not None and far > limits.spur_from_angle_mm


def spur_astray(spur: dict, limits: QualityLimits) -> bool:
    """The spur lies somewhere else in the scan: too far from the angle wall to be moved onto it, or more than
    ``limits.spur_from_angle_mm`` from where the chamber ends on its side."""
    return spur_off_wall(spur) or spur_far_from_angle(spur, limits)


def spur_doubts(spur: dict, side: str, limits: QualityLimits) -> list[str]:
    """Why a spur (as the pipeline reports it) is unsure; empty when it is fine or absent."""
    if not spur.get("visible"):
        return []
    out = []
    if spur["confidence"] < limits.spur_confidence:
        out.append(f"{side} spur found with low confidence ({spur['confidence']:.2f})")
    moved = spur.get("moved_mm", math.nan)
    if moved is not None and not math.isnan(moved) and moved > 0:
        out.append(f"{side} spur was {moved:.2f} mm off the angle wall and was moved onto it")
    if spur_off_wall(spur):
        out.append(f"{side} spur lies {spur['off_wall_mm']:.2f} mm from the angle wall the segmentation sees, too far "
                   "to move it onto it: the spur or the segmentation is wrong there")  # fmt: skip
    if spur_far_from_angle(spur, limits):
        out.append(f"{side} spur lies {spur['from_angle_mm']:.2f} mm from where the chamber ends on its side, not at "
                   "the angle: the spur or the segmentation is wrong there")  # fmt: skip
    mirror = spur.get("mirror_mm", math.nan)
    if mirror is not None and not math.isnan(mirror) and mirror > limits.spur_mirror_mm:
        out.append(f"{side} spur lies {mirror:.2f} mm from the one found on the mirrored scan")
    return out


def spacing_hint(acw: Measure | None, spurs: dict[str, dict], limits: QualityLimits,
                 spacing: tuple[float, float]) -> str | None:  # fmt: skip
    """The warning that the pixel spacing may be wrong: the chamber width between the spurs lies outside what real
    eyes have while both spurs are at their angles (a spur elsewhere in the scan explains the width, and has its own
    warning). None when there is nothing to say."""
    if acw is None or math.isnan(acw.value) or plausible("acw_mm", acw.value):
        return None
    if any(spur_astray(spurs.get(spur_name(s), {}), limits) for s in SIDES):
        return None
    low, high = PLAUSIBLE["acw_mm"]
    return (f"the chamber is {acw.value:.1f} mm wide between the spurs (real eyes: {low:g} to {high:g} mm): is the "
            f"pixel spacing {spacing[0]:g} x {spacing[1]:g} mm right? Give --spacing")  # fmt: skip


def judge_measures(
    values: dict[str, float],
    reasons: dict[str, str],
    details: dict,
    spurs: dict[str, dict],
    repairs: list[Repair],
    mirror: dict[str, float],
    limits: QualityLimits,
    lens_in_model: bool,
) -> dict[str, Measure]:
    """Every measure with its status and reasons.

    Args:
        values, reasons, details: from :func:`antseg.biometry.measure.measure` on the final masks and spurs.
        spurs: the final spurs (with ``moved_mm`` and ``mirror_mm``).
        repairs: the consistency repairs made.
        mirror: measure -> |value on the scan - value on the mirrored scan| (missing or NaN: not compared).
        lens_in_model: the segmentation model has a lens (else the chamber's floor is not checked against it).
    """
    out: dict[str, Measure] = {}
    for k, v in values.items():
        m = Measure(v, mirror=float(mirror.get(k, math.nan)))
        if math.isnan(v):
            m.drop(reasons.get(k, "could not be measured"))
        out[k] = m
    side_doubts = {s: spur_doubts(spurs.get(spur_name(s), {}), s, limits) for s in SIDES}
    big = [r for r in repairs if r.area_mm2 is not None and r.area_mm2 >= limits.repair_mm2]
    chamber_fixes = [r for r in big if r.structure == ANTERIOR_CHAMBER and r.action.startswith("filled")]
    for k, m in out.items():
        if m.status != CHECK and math.isnan(m.value):
            continue
        base, side = base_measure(k)
        tol = limits.mirror.get(base)
        if tol is not None and not math.isnan(m.mirror) and m.mirror > tol:
            m.doubt(f"differs by {m.mirror:.3f} on the mirrored scan")
        if not plausible(k, m.value):
            low, high = PLAUSIBLE[base]
            m.doubt(f"outside the plausible range {low:g} to {high:g}")
        # ACD, ACW and LV depend on the spurs only through the bisector, which the mirror pass already moves
        # (it finds its own spurs); the angle measures depend on where their spur lies on the wall.
        needs = (side,) if side and base not in SPUR_FREE else ()
        for s in needs:
            for d in side_doubts[s]:
                m.doubt(d)
        if base in CHAMBER_MEASURES + ANGLE_MEASURES:
            for r in chamber_fixes:
                if _repair_matters(r, base, side, spurs):
                    m.doubt(f"the chamber was repaired ({r.action}, {r.area_mm2:.3f} mm2)")
    _judge_acd(out.get("acd_mm"), out.get("ac_area_mm2"), details, limits, lens_in_model)
    lv = out.get("lv_mm")
    if lv is not None and not math.isnan(lv.value):
        if details.get("lens_front_columns", limits.min_lens_front_columns) < 2 * limits.min_lens_front_columns:
            lv.doubt("the lens front is seen in only a few columns of the pupil")
    return out


def _judge_acd(acd: Measure | None, area: Measure | None, details: dict, limits: QualityLimits,
               lens_in_model: bool) -> None:  # fmt: skip
    """Doubt ACD where the chamber's floor is broken on its line, and the chamber area with it: the area takes in
    the same floor (a spike of the floor toward the reflection line can leave the area's own checks quiet)."""
    if acd is None or math.isnan(acd.value):
        return
    lines = np.array(details.get("acd_lines_mm", []), float)
    lines = lines[np.isfinite(lines)]
    floor = []
    if len(lines) > 1 and float(lines.max() - lines.min()) > limits.acd_spread_mm:
        floor.append(f"the chamber's depth varies by {float(lines.max() - lines.min()):.2f} mm across the "
                     "measurement line (a hole, spike or step near it)")  # fmt: skip
    if lens_in_model and details.get("acd_floor_on_lens") is False:
        floor.append("the chamber does not end on the lens front on the measurement line")
    for why in floor:
        acd.doubt(why)
        if area is not None and not math.isnan(area.value):
            area.doubt(why)


def _repair_matters(r: Repair, base: str, side: str, spurs: dict[str, dict]) -> bool:
    """Whether a chamber repair lies where ``base`` (of ``side``) is measured: the chamber area always, ACD and
    LV in the middle third between the spurs, the angle measures near their spur."""
    if r.changed is None:
        return True
    cols = np.flatnonzero(r.changed.any(axis=0))
    if base == "ac_area_mm2":
        return True
    pts = {s: spurs.get(spur_name(s), {}) for s in SIDES}
    xs = {s: p.get("x") for s, p in pts.items() if p.get("visible") and p.get("x") is not None}
    if len(xs) < 2 and base in ("acd_mm", "lv_mm"):
        return True
    if base in ("acd_mm", "lv_mm"):
        lo, hi = sorted(xs.values())
        a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
        return bool(((cols >= a) & (cols <= b)).any())
    x = xs.get(side)
    if x is None:
        return False
    other = [v for s, v in xs.items() if s != side]
    reach = abs(other[0] - x) * 0.15 if other else r.changed.shape[1] * 0.1
    return bool((np.abs(cols - x) <= reach).any())
