"""Measurements drawn on the scan, the way device software shows them."""

from __future__ import annotations

import math

import cv2
import numpy as np

from antseg.anatomy import SPURS
from antseg.biometry.geometry import point_on_wall, wall_profile

YELLOW, CYAN, MAGENTA, GREEN, WHITE = (255, 220, 0), (0, 220, 255), (255, 60, 220), (60, 255, 60), (255, 255, 255)
ORANGE = (255, 150, 0)


def draw_biometry(
    image: np.ndarray, masks: dict, spurs: dict, values: dict, spacing: tuple[float, float],
    statuses: dict[str, str] | None = None,
) -> np.ndarray:  # fmt: skip
    """RGB (H, W, 3): spurs, ACW, ACD, AOD500 lines per side, and a legend with every value (with ``statuses``,
    a value to check is written in orange and marked ``check``)."""
    out = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    sx, sy = spacing
    th = max(1, round(image.shape[1] / 800))
    px = lambda p: (int(round(p[0] / sx)), int(round(p[1] / sy)))  # noqa: E731
    sl, sr = (spurs.get(n) for n in SPURS)
    for p in (sl, sr):
        if p is not None:
            cv2.drawMarker(out, (int(round(p[0])), int(round(p[1]))), YELLOW, cv2.MARKER_CROSS, 14 * th, 2 * th)
    if sl is not None and sr is not None:
        cv2.line(out, tuple(int(round(v)) for v in sl), tuple(int(round(v)) for v in sr), YELLOW, th, cv2.LINE_AA)
        mid = np.array([(sl[0] + sr[0]) / 2 * sx, (sl[1] + sr[1]) / 2 * sy])
        if not math.isnan(values.get("acd_mm", math.nan)):
            ac = masks.get("anterior_chamber")
            cols = np.nonzero(ac[:, int(round(mid[0] / sx))])[0] if ac is not None else []
            if len(cols):
                x = int(round(mid[0] / sx))
                cv2.line(out, (x, int(cols.min())), (x, int(cols.max())), CYAN, th, cv2.LINE_AA)
    ac = masks.get("anterior_chamber")
    if ac is not None and ac.any():
        wall = wall_profile(ac.astype(bool), spacing)
        for side, p in (("left", sl), ("right", sr)):
            aod = values.get(f"aod500_mm_{side}", math.nan)
            if p is None or math.isnan(aod):
                continue
            try:
                q, n = point_on_wall(wall, np.array([p[0] * sx, p[1] * sy]), 0.5, side)
            except ValueError:
                continue
            cv2.line(out, px(q), px(q + aod * n), MAGENTA, th, cv2.LINE_AA)
    labels = [
        ("ACD", "acd_mm", "mm"), ("ACW", "acw_mm", "mm"), ("LV", "lv_mm", "mm"), ("PD", "pupil_diameter_mm", "mm"),
        ("AOD500 L", "aod500_mm_left", "mm"), ("AOD500 R", "aod500_mm_right", "mm"),
        ("TISA500 L", "tisa500_mm2_left", "mm2"), ("TISA500 R", "tisa500_mm2_right", "mm2"),
    ]  # fmt: skip
    status = statuses or {}
    lines = [
        (f"{name} {values[k]:.3f} {unit}" + (" check" if status.get(k) == "check" else ""),
         ORANGE if status.get(k) == "check" else WHITE)
        for name, k, unit in labels if not math.isnan(values.get(k, math.nan))
    ]  # fmt: skip
    scale = 0.4 * th
    for i, (text, colour) in enumerate(lines):
        y = int(18 * th * (i + 1))
        cv2.putText(out, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 3 * th, cv2.LINE_AA)
        cv2.putText(out, text, (8, y), cv2.FONT_HERSHEY_SIMPLEX, scale, colour, th, cv2.LINE_AA)
    return out
