"""Keep predicted scleral spurs on the angle wall that the segmentation sees.

The scleral spur lies on the inner surface of the corneoscleral shell, where the chamber (or, in a closed
angle, the iris) meets it. The spur model looks at a window of texture and can land in the sclera or in the
ciliary body when the angle looks unlike its training data; the segmentation sees the whole anatomy and
transfers better. :func:`constrain_spurs` moves a spur that lies further than ``max_off_mm`` from that wall
onto its nearest wall point, and says how far it moved it. It also says how far each spur lies from where the
chamber ends on its side (``from_angle_mm``): the whole posterior cornea borders the chamber, so a spur can be on
the wall and still nowhere near an angle.

Measured on the real development eye (8 SS-1000 scans, 16 spurs; ``benchmarks/bench_zero_shot.py``): the
shipped default's mean spur error went from 30.7 px to 23.1 px (median 25.5 -> 21.2, max 78 -> 54); ten spur
models trained on different phantom draws went from 22.7-35.8 px to 17.4-24.1 px, every one of them better.
On 32 new realistic phantom scans none got worse (the ten: mean 5.6 -> 4.9 px; the default 4.3 -> 4.3 px).
A tighter wall (0.10 mm) gave 19.8 px on the real eye but moved a correct phantom spur 51 px, where the
predicted chamber and iris stop short of a narrow angle's tip: not taken. About 14 ms per 2130x998 scan.
"""

from __future__ import annotations

import math

import cv2
import numpy as np

from antseg.anatomy import ANTERIOR_CHAMBER, CORNEA, LEFT_IRIS, RIGHT_IRIS, side_of

#: Inner-boundary pixels of the cornea within this distance (mm) of the chamber or an iris form the angle wall.
WALL_TOLERANCE_MM = 0.13
#: A spur further than this (mm) from the angle wall is moved onto it. Phantom spurs predicted correctly lie
#: within it; real-scan misses (in the sclera, in the ciliary body) lie beyond it.
MAX_OFF_WALL_MM = 0.3
#: A spur further than this (mm) from the nearest wall point is not moved: the wall the segmentation sees is not
#: where the spur is (a chamber or cornea lost near that angle), so neither can be trusted. Real-scan misses the
#: wall corrected lay within 0.6 mm of it; on a phantom device shift the nearest wall point of one correct spur
#: lay 5.3 mm away, across the chamber (the mean error as reported went from 7.4 to 42 px).
MAX_MOVE_MM = 1.0
#: A spur further than this (mm) from where the chamber ends on its side is not at the angle. On 224 angles of
#: realistic phantom scans (three devices, all diagnosis groups) the true spur lay at most 0.35 mm from the chamber's
#: end (median 0.13); the labelled spurs of the real development eye at most 0.19 mm from the labelled chamber's.
MAX_FROM_ANGLE_MM = 1.0


def chamber_end(chamber: np.ndarray, side: str) -> tuple[float, float] | None:
    """Where the chamber ends on ``side`` (``left``: its leftmost column, ``right``: its rightmost): (x, y) with y
    the middle of the chamber's rows in that column. None when the chamber is empty or reaches the image's edge
    there (the angle lies outside the scan)."""
    cols = np.flatnonzero(chamber.any(axis=0))
    if cols.size == 0:
        return None
    x = int(cols[0] if side == "left" else cols[-1])
    if x in (0, chamber.shape[1] - 1):
        return None
    return float(x), float(np.flatnonzero(chamber[:, x]).mean())


def angle_wall(
    masks: dict[str, np.ndarray], spacing: tuple[float, float], tol_mm: float = WALL_TOLERANCE_MM
) -> np.ndarray | None:
    """The angle wall as a boolean (H, W) mask: pixels of the cornea's boundary that lie within ``tol_mm`` of the
    anterior chamber or an iris. None when the masks have no cornea or no chamber.

    Args:
        masks: structure name -> (H, W) binary mask; needs ``cornea`` and ``anterior_chamber``.
        spacing: (x, y) mm per pixel.
    """
    cornea, ac = masks.get(CORNEA), masks.get(ANTERIOR_CHAMBER)
    if cornea is None or ac is None or not cornea.any() or not ac.any():
        return None
    cornea = cornea.astype(np.uint8)
    edge = cornea - cv2.erode(cornea, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE)
    inside = ac.astype(bool)
    for name in (LEFT_IRIS, RIGHT_IRIS):
        if masks.get(name) is not None:
            inside = inside | masks[name].astype(bool)
    rx, ry = max(1, round(tol_mm / spacing[0])), max(1, round(tol_mm / spacing[1]))
    near = cv2.dilate(inside.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * rx + 1, 2 * ry + 1)))
    return (edge > 0) & (near > 0)


def constrain_spurs(
    spurs: dict[str, dict],
    masks: dict[str, np.ndarray],
    spacing: tuple[float, float] | None,
    max_off_mm: float | None = None,
    max_move_mm: float = MAX_MOVE_MM,
) -> dict[str, dict]:
    """Move each visible spur that lies more than ``max_off_mm`` from the angle wall onto its nearest wall point.

    Args:
        spurs: name -> {"x", "y" (pixels or None), "confidence", "visible"} as from the spur predictor.
        masks: structure name -> (H, W) binary mask of the same scan (see :func:`angle_wall`).
        spacing: (x, y) mm per pixel; None leaves the spurs as they are.
        max_off_mm: the distance (mm) beyond which a spur is moved; None: :data:`MAX_OFF_WALL_MM`; 0: off.
        max_move_mm: a spur further than this from its half of the wall stays where it is, with ``off_wall_mm``.
    Returns:
        A new dict: each spur as given plus ``moved_mm`` (0.0 when it stayed; NaN when it could not be checked:
        no spacing, no cornea or chamber, not visible, or too far from the wall) and ``model_x`` / ``model_y``,
        where the spur model put it; a spur too far from the wall also gets ``off_wall_mm``, its distance to the
        nearest wall point. A left spur only moves to the left half of the chamber's wall, a right spur to the
        right half. Every spur also gets ``from_angle_mm``: its final distance to where the chamber ends on its side
        (:func:`chamber_end`; NaN without spacing, chamber or that end, or when not visible).
    """
    out = {n: {**p, "moved_mm": math.nan, "model_x": p.get("x"), "model_y": p.get("y")} for n, p in spurs.items()}
    max_off_mm = MAX_OFF_WALL_MM if max_off_mm is None else max_off_mm
    wall = angle_wall(masks, spacing) if spacing is not None and max_off_mm > 0 else None
    if wall is not None and wall.any():
        _move_onto_wall(out, wall, masks[ANTERIOR_CHAMBER], spacing, max_off_mm, max_move_mm)
    for name, p in out.items():
        p["from_angle_mm"] = _from_angle(p, masks.get(ANTERIOR_CHAMBER), side_of(name), spacing)
    return out


def _from_angle(p: dict, chamber: np.ndarray | None, side: str | None, spacing) -> float:
    if not p.get("visible") or p.get("x") is None or chamber is None or spacing is None or side is None:
        return math.nan
    end = chamber_end(chamber, side)
    if end is None:
        return math.nan
    return float(math.hypot((p["x"] - end[0]) * spacing[0], (p["y"] - end[1]) * spacing[1]))


def _move_onto_wall(out: dict[str, dict], wall: np.ndarray, chamber: np.ndarray, spacing: tuple[float, float],
                    max_off_mm: float, max_move_mm: float) -> None:  # fmt: skip
    wy, wx = np.nonzero(wall)
    centre = float(np.nonzero(chamber.any(axis=0))[0].mean())
    sx, sy = spacing
    for name, p in out.items():
        if not p.get("visible") or p.get("x") is None:
            continue
        side = side_of(name)
        keep = wx < centre if side == "left" else wx >= centre if side == "right" else np.ones(len(wx), bool)
        if not keep.any():
            continue
        xs, ys = wx[keep], wy[keep]
        d = np.hypot((xs - p["x"]) * sx, (ys - p["y"]) * sy)
        i = int(np.argmin(d))
        if d[i] > max_move_mm:
            p["off_wall_mm"] = float(d[i])
        elif d[i] > max_off_mm:
            p.update(x=float(xs[i]), y=float(ys[i]), moved_mm=float(d[i]))
        else:
            p["moved_mm"] = 0.0
