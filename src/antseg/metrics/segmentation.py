"""Segmentation metrics per structure: Dice, IoU, HD95 and ASSD (mm when the spacing is known, else px).

Empty masks are handled explicitly and reported, never dropped:

| reference | prediction | Dice, IoU | HD95, ASSD | status |
|---|---|---|---|---|
| empty | empty | 1, 1 | 0, 0 | ``both_empty`` |
| empty | not empty | 0, 0 | undefined (NaN) | ``false_positive`` |
| not empty | empty | 0, 0 | undefined (NaN) | ``missed`` |
| not empty | not empty | computed | computed | ``ok`` |

Surface distances use MONAI's edge extraction and Euclidean distance transform with the pixel spacing;
HD95 is the larger of the two directed 95th percentiles, ASSD the mean of both directed distance sets.
"""

from __future__ import annotations

import numpy as np

STATUSES = ("ok", "both_empty", "missed", "false_positive")


def dice_iou(pred: np.ndarray, ref: np.ndarray) -> tuple[float, float]:
    """Dice and IoU of two binary masks (any shape); both empty gives (1, 1)."""
    p, r = pred.astype(bool), ref.astype(bool)
    inter = np.logical_and(p, r).sum()
    ps, rs = p.sum(), r.sum()
    if ps + rs == 0:
        return 1.0, 1.0
    return float(2 * inter / (ps + rs)), float(inter / (ps + rs - inter))


def surface_distances(pred: np.ndarray, ref: np.ndarray, spacing: tuple[float, float] | None) -> tuple[float, float]:
    """(HD95, ASSD) of two non-empty 2-D binary masks, in the units of ``spacing`` (x, y) or pixels."""
    from monai.metrics.utils import get_mask_edges, get_surface_distance

    p, r = pred.astype(bool), ref.astype(bool)
    rows, cols = np.nonzero(p | r)
    r0, r1, c0, c1 = max(rows.min() - 2, 0), rows.max() + 3, max(cols.min() - 2, 0), cols.max() + 3
    p, r = p[r0:r1, c0:c1], r[r0:r1, c0:c1]  # crop: the distance transform is the cost
    sp = None if spacing is None else (float(spacing[1]), float(spacing[0]))  # (row, col) order
    ep, er = get_mask_edges(p, r, crop=False)
    d_pr = np.asarray(get_surface_distance(ep, er, distance_metric="euclidean", spacing=sp))
    d_rp = np.asarray(get_surface_distance(er, ep, distance_metric="euclidean", spacing=sp))
    hd95 = max(np.percentile(d_pr, 95), np.percentile(d_rp, 95))
    assd = (d_pr.sum() + d_rp.sum()) / (len(d_pr) + len(d_rp))
    return float(hd95), float(assd)


def segmentation_metrics(
    pred: np.ndarray,
    ref: np.ndarray,
    names: list[str],
    spacing: tuple[float, float] | None = None,
    distances: bool = True,
) -> list[dict]:
    """Per-structure metrics of one case.

    Args:
        pred: (N, H, W) binary masks, predicted.
        ref: (N, H, W) binary masks, reference.
        spacing: (x, y) mm per pixel; None gives distances in pixels.
    Returns:
        one dict per structure: structure, dice, iou, hd95, assd, status, unit.
    """
    out = []
    unit = "mm" if spacing is not None else "px"
    for k, name in enumerate(names):
        p, r = pred[k].astype(bool), ref[k].astype(bool)
        dice, iou = dice_iou(p, r)
        if not p.any() and not r.any():
            status, hd, asd = "both_empty", 0.0, 0.0
        elif not r.any():
            status, hd, asd = "false_positive", np.nan, np.nan
        elif not p.any():
            status, hd, asd = "missed", np.nan, np.nan
        else:
            status = "ok"
            hd, asd = surface_distances(p, r, spacing) if distances else (np.nan, np.nan)
        out.append(
            {"structure": name, "dice": dice, "iou": iou, "hd95": hd, "assd": asd, "status": status, "unit": unit}
        )
    return out


class SegmentationMetric:
    """Accumulates per-case metrics (MONAI-style: call it per case, ``aggregate`` at the end)."""

    def __init__(self, names: list[str], distances: bool = True) -> None:
        self.names, self.distances = names, distances
        self.rows: list[dict] = []

    def __call__(
        self,
        pred: np.ndarray,
        ref: np.ndarray,
        case_id: str,
        group: str = "",
        spacing: tuple[float, float] | None = None,
    ) -> list[dict]:
        rows = segmentation_metrics(pred, ref, self.names, spacing, self.distances)
        for r in rows:
            r.update(case_id=case_id, group=group)
        self.rows.extend(rows)
        return rows

    def aggregate(self, by: str | None = None) -> list[dict]:
        """Mean and sd per structure (and per ``by`` column, e.g. ``group``), with status counts."""
        return summarize(self.rows, by)


def summarize(rows: list[dict], by: str | None = None) -> list[dict]:
    keys: dict[tuple, list[dict]] = {}
    for r in rows:
        keys.setdefault((r[by] if by else "all", r["structure"]), []).append(r)
    out = []
    for (grp, name), rs in keys.items():
        row = {"group": grp, "structure": name, "n": len(rs), "unit": rs[0]["unit"]}
        for m in ("dice", "iou", "hd95", "assd"):
            vals = np.array([r[m] for r in rs], float)
            vals = vals[np.isfinite(vals)]
            row[f"{m}_mean"] = float(vals.mean()) if len(vals) else float("nan")
            row[f"{m}_sd"] = float(vals.std(ddof=1)) if len(vals) > 1 else 0.0 if len(vals) else float("nan")
        for s in STATUSES:
            row[f"n_{s}"] = sum(r["status"] == s for r in rs)
        out.append(row)
    return out
