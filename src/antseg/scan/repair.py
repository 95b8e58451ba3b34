"""Anatomically consistent AS-OCT masks: what the anatomy guarantees, enforced after segmentation.

In a B-scan through the anterior segment:

- the anterior chamber is one region without holes, under the cornea, above the irises and the lens front; in
  each column it is one vertical run (a gap between its roof and floor that no other structure fills is
  chamber: typically the reflection line or a dim patch the model missed);
- each iris is one solid wedge at its own lateral end of the chamber (a left iris on the left, never in the
  pupil);
- the lens lies below the chamber, and the nucleus inside the lens; each is one region without holes;
- the cornea is one band.

:func:`repair_masks` enforces these in a fixed order and returns a :class:`~antseg.scan.result.Repair` for every
change, so the output says what was repaired and the quality checks can doubt a measure taken where a repair was
large. Structures the model does not have are left alone.
"""

from __future__ import annotations

import cv2
import numpy as np

from antseg.anatomy import ANTERIOR_CHAMBER, CORNEA, LEFT_IRIS, LENS, NUCLEUS, RIGHT_IRIS
from antseg.scan.result import Repair

#: An iris's outer end must lie within this fraction of the chamber's width from the chamber's end on its side.
IRIS_REACH = 0.35


def _u8(mask: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(mask, dtype=np.uint8)


def _box(mask: np.ndarray) -> tuple[slice, slice] | None:
    """The bounding box of ``mask``'s pixels; None when it is empty."""
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    if not len(rows):
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 8-connected component of a binary mask (all of it when it has one or none; of equally large
    ones, the one whose bounding box is highest, then leftmost)."""
    m = mask.astype(bool)
    box = _box(m)
    if box is None:
        return m
    # Every component lies inside the mask's bounding box: labelling the box alone gives the same components.
    n, labels, stats, _ = cv2.connectedComponentsWithStats(_u8(m[box]), connectivity=8)
    if n <= 2:
        return m
    s = stats[1:]
    best = np.lexsort((s[:, cv2.CC_STAT_LEFT], s[:, cv2.CC_STAT_TOP], -s[:, cv2.CC_STAT_AREA]))[0]
    out = np.zeros_like(m)
    out[box] = labels == 1 + int(best)
    return out


def fill_holes(mask: np.ndarray, blocked: np.ndarray | None = None) -> np.ndarray:
    """``mask`` with every enclosed hole filled (4-connected background not reaching the border), except the
    ``blocked`` pixels (other structures inside it)."""
    m = mask.astype(bool)
    # Holes lie inside the mask's bounding box, and background on the box's edge touches the background outside it
    # (all of which reaches the image's border) or is on the border: background reaching the box's edge is exactly
    # background reaching the image's border.
    box = _box(m)
    if box is None:
        return m
    background = ~m[box]
    n, labels = cv2.connectedComponents(_u8(background), connectivity=4)
    if n <= 1:
        return m
    edge = np.zeros(n, bool)
    edge[np.concatenate([labels[0], labels[-1], labels[:, 0], labels[:, -1]])] = True
    hole = background & ~edge[labels]
    if blocked is not None:
        hole &= ~blocked[box]
    out = m.copy()
    out[box] |= hole
    return out


def fill_columns(mask: np.ndarray, blocked: np.ndarray | None = None) -> np.ndarray:
    """``mask`` made one vertical run per column: each column filled from its first to its last mask pixel,
    except the ``blocked`` pixels."""
    m = mask.astype(bool)
    cols = np.flatnonzero(m.any(axis=0))
    if not len(cols):
        return m
    h = m.shape[0]
    top = m[:, cols].argmax(axis=0)
    bottom = h - 1 - m[::-1, cols].argmax(axis=0)
    rows = np.arange(h)[:, None]
    span = np.zeros_like(m)
    span[:, cols] = (rows >= top[None]) & (rows <= bottom[None])
    if blocked is not None:
        span &= ~blocked
    return m | span


def _floor_rows(ac: np.ndarray) -> np.ndarray:
    """Per column, the row of the chamber's lowest pixel (-1 where the column has no chamber)."""
    h = ac.shape[0]
    has = ac.any(axis=0)
    return np.where(has, h - 1 - ac[::-1].argmax(axis=0), -1)


class _Log:
    """Collects repairs with their size in mm2."""

    def __init__(self, spacing: tuple[float, float] | None) -> None:
        self.spacing = spacing
        self.items: list[Repair] = []

    def add(self, structure: str, action: str, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        changed = before.astype(bool) ^ after.astype(bool)
        n = int(changed.sum())
        if n:
            area = None if self.spacing is None else n * self.spacing[0] * self.spacing[1]
            self.items.append(Repair(structure, action, n, area, changed))
        return after.astype(bool)


def repair_masks(
    masks: dict[str, np.ndarray], spacing: tuple[float, float] | None = None
) -> tuple[dict[str, np.ndarray], list[Repair]]:
    """Enforce the anatomy of the module docstring on one scan's masks.

    Args:
        masks: structure name -> (H, W) binary mask; unknown structures pass through unchanged.
        spacing: (x, y) mm per pixel, for the repairs' areas (None: pixels only).
    Returns:
        (repaired masks as uint8 {0, 1}, the repairs made, in order).
    """
    out = {k: v.astype(bool) for k, v in masks.items()}
    log = _Log(spacing)
    ac = out.get(ANTERIOR_CHAMBER)
    if ac is not None and ac.any():
        ac = out[ANTERIOR_CHAMBER] = log.add(ANTERIOR_CHAMBER, "removed islands", ac, largest_component(ac))
    if LENS in out and out[LENS].any():
        lens = out[LENS]
        if ac is not None and ac.any():
            above = np.arange(lens.shape[0])[:, None] <= _floor_rows(ac)[None]
            lens = log.add(LENS, "removed lens above the chamber's floor", lens, lens & ~above)
        if lens.any():
            lens = log.add(LENS, "removed islands", lens, largest_component(lens))
            lens = log.add(LENS, "filled holes", lens, fill_holes(lens))
        out[LENS] = lens
        if NUCLEUS in out:
            inside = out[NUCLEUS] & out[LENS]
            inside = log.add(NUCLEUS, "removed nucleus outside the lens", out[NUCLEUS], inside)
            if inside.any():
                inside = log.add(NUCLEUS, "removed islands", inside, largest_component(inside))
                inside = log.add(NUCLEUS, "filled holes", inside, fill_holes(inside) & out[LENS])
            out[NUCLEUS] = inside
    _repair_irises(out, ac, log)
    if ac is not None and ac.any():
        blocked = np.zeros_like(ac)
        for name in (LEFT_IRIS, RIGHT_IRIS, CORNEA, LENS):
            if name in out:
                blocked |= out[name]
        ac = log.add(ANTERIOR_CHAMBER, "filled holes", ac, fill_holes(ac, blocked))
        ac = log.add(ANTERIOR_CHAMBER, "filled gaps between roof and floor", ac, fill_columns(ac, blocked))
        out[ANTERIOR_CHAMBER] = ac
    if CORNEA in out and out[CORNEA].any():
        cornea = log.add(CORNEA, "removed islands", out[CORNEA], largest_component(out[CORNEA]))
        out[CORNEA] = log.add(CORNEA, "filled holes", cornea, fill_holes(cornea))
    return {k: v.astype(np.uint8) for k, v in out.items()}, log.items


def _repair_irises(out: dict[str, np.ndarray], ac: np.ndarray | None, log: _Log) -> None:
    """Each iris one wedge at its own end of the chamber: islands removed, a swapped pair swapped back, an iris
    away from its side of the chamber (in the pupil, or on the other side) removed."""
    for name in (LEFT_IRIS, RIGHT_IRIS):
        if name in out and out[name].any():
            iris = log.add(name, "removed islands", out[name], largest_component(out[name]))
            out[name] = log.add(name, "filled holes", iris, fill_holes(iris))
    if ac is None or not ac.any() or LEFT_IRIS not in out or RIGHT_IRIS not in out:
        return
    cols = np.flatnonzero(ac.any(axis=0))
    lo, hi = float(cols[0]), float(cols[-1])
    centre, reach = (lo + hi) / 2, IRIS_REACH * (hi - lo)

    def centre_of(mask: np.ndarray) -> float | None:
        c = np.flatnonzero(mask.any(axis=0))
        return None if not len(c) else float(c.mean())

    left, right = centre_of(out[LEFT_IRIS]), centre_of(out[RIGHT_IRIS])
    if left is not None and right is not None and left > centre > right:
        swapped = out[RIGHT_IRIS].copy()
        log.add(LEFT_IRIS, "swapped with the right iris", out[LEFT_IRIS], swapped)
        log.add(RIGHT_IRIS, "swapped with the left iris", out[RIGHT_IRIS], out[LEFT_IRIS])
        out[LEFT_IRIS], out[RIGHT_IRIS] = swapped, out[LEFT_IRIS]
    for name, side in ((LEFT_IRIS, "left"), (RIGHT_IRIS, "right")):
        c = np.flatnonzero(out[name].any(axis=0))
        if not len(c):
            continue
        outer = float(c[0]) if side == "left" else float(c[-1])
        if (side == "left" and outer > lo + reach) or (side == "right" and outer < hi - reach):
            out[name] = log.add(name, f"removed: not at the chamber's {side} end (in the pupil)", out[name],
                                np.zeros_like(out[name]))  # fmt: skip
