"""What prediction writes: per-structure masks, a colour overlay, and a table of areas."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from antseg.anatomy import default_colour
from antseg.io.images import write_png

#: Where the spur model put a spur that was then moved onto the angle wall.
MOVED_GREY = (170, 170, 170)


def overlay(
    image: np.ndarray, masks: np.ndarray, names: list[str], alpha: float = 0.4, spurs: dict | None = None
) -> np.ndarray:
    """RGB image with translucent fills and solid outlines per structure, and spur markers, (H, W, 3) uint8.

    A spur moved onto the angle wall (``moved_mm`` > 0, :mod:`antseg.inference.spur_wall`) also shows where the
    spur model put it: a small grey ring joined to the marker by a thin grey line."""
    rgb = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image.copy()
    out = rgb.astype(np.float32)
    for k, name in enumerate(names):
        m = masks[k].astype(bool)
        if not m.any():
            continue
        col = np.array(default_colour(name, k), np.float32)
        out[m] = (1 - alpha) * out[m] + alpha * col
    out = out.astype(np.uint8)
    thick = max(1, round(max(rgb.shape[:2]) / 700))
    for k, name in enumerate(names):
        contours, _ = cv2.findContours(masks[k].astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, tuple(int(c) for c in default_colour(name, k)), thick, cv2.LINE_AA)
    for name, p in (spurs or {}).items():
        if p.get("visible"):
            col = tuple(int(c) for c in default_colour(name, 0))
            centre = (int(round(p["x"])), int(round(p["y"])))
            if (p.get("moved_mm") or 0) > 0 and p.get("model_x") is not None:
                was = (int(round(p["model_x"])), int(round(p["model_y"])))
                cv2.line(out, was, centre, MOVED_GREY, thick, cv2.LINE_AA)
                cv2.circle(out, was, 5 * thick, MOVED_GREY, thick, cv2.LINE_AA)
            cv2.drawMarker(out, centre, col, cv2.MARKER_CROSS, 12 * thick, thick + 1, cv2.LINE_AA)
            cv2.circle(out, centre, 8 * thick, col, thick, cv2.LINE_AA)
    return out


def write_prediction(
    folder: Path,
    image: np.ndarray,
    masks: np.ndarray,
    names: list[str],
    write_original: bool = False,
    spurs: dict | None = None,
) -> None:
    """``<structure>.png`` (0/255) per structure and ``overlay.png``; ``original.png`` when asked."""
    folder.mkdir(parents=True, exist_ok=True)
    if write_original:
        write_png(folder / "original.png", image)
    for k, name in enumerate(names):
        write_png(folder / f"{name}.png", masks[k].astype(np.uint8) * 255)
    write_png(folder / "overlay.png", overlay(image, masks, names, spurs=spurs))


def area_rows(name: str, masks: np.ndarray, names: list[str], spacing: tuple[float, float] | None) -> list[dict]:
    rows = []
    for k, s in enumerate(names):
        px = int(masks[k].sum())
        rows.append(
            {
                "image": name,
                "structure": s,
                "area_px": px,
                "area_mm2": "" if spacing is None else f"{px * spacing[0] * spacing[1]:.4f}",
            }
        )
    return rows
