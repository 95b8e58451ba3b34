"""Ultralytics YOLO pose layout for training the YOLO11-pose spur baseline yourself.

``images/<split>/``, ``labels/<split>/<case>.txt`` with one object per scan:
``0 cx cy w h x1 y1 v1 x2 y2 v2`` (normalised; v = 2 visible, 0 absent with x = y = 0), and ``data.yaml``
with ``kpt_shape: [2, 3]``, ``flip_idx: [1, 0]`` and per-keypoint OKS sigmas.

OKS sigmas: Ultralytics uses COCO's sigmas for 17 keypoints and ``1/nkpt`` otherwise, i.e. 0.5 for two
spurs, so lenient that pose mAP means nothing. ``kpt_sigmas`` here are chosen so that OKS = 0.5 at
``OKS_TOLERANCE_PX`` of error for the dataset's median box. Stock Ultralytics does not read that key;
set it on the validator (``validator.sigma = np.array(kpt_sigmas)``) to use it.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import yaml

from antseg.anatomy import SPURS
from antseg.data.canonical import CanonicalDataset
from antseg.data.exporters.registry import EXPORTERS, write_image_as
from antseg.errors import AntsegInputError

OKS_TOLERANCE_PX = 20.0
ORDER = SPURS


def object_box(ds: CanonicalDataset, case) -> tuple[float, float, float, float] | None:
    """(x0, y0, x1, y1) of the anterior segment: the structures' extent if masks exist, else around the spurs."""
    pts = [p for p in (case.landmarks.get(n) for n in ORDER) if p is not None]
    boxes = []
    if case.mask:
        m = ds.load_masks(case).any(axis=0)
        if m.any():
            rows, cols = np.nonzero(m)
            boxes.append((cols.min(), rows.min(), cols.max(), rows.max()))
    if pts:
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        mx, my = 0.08 * case.width, 0.15 * case.height
        boxes.append((min(xs) - mx, min(ys) - my, max(xs) + mx, max(ys) + my))
    if not boxes:
        return None
    x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
    x1, y1 = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return max(0.0, x0), max(0.0, y0), min(case.width - 1.0, x1), min(case.height - 1.0, y1)


def label_line(case, box) -> str:
    w, h = case.width, case.height
    x0, y0, x1, y1 = box
    vals = [0, (x0 + x1) / 2 / w, (y0 + y1) / 2 / h, (x1 - x0) / w, (y1 - y0) / h]
    for n in ORDER:
        p = case.landmarks.get(n)
        vals += [0.0, 0.0, 0] if p is None else [p[0] / w, p[1] / h, 2]
    return " ".join(str(v) if isinstance(v, int) else f"{v:.6f}" for v in vals)


def oks_sigma(scales: list[float], tolerance_px: float = OKS_TOLERANCE_PX) -> float:
    """sigma with OKS = exp(-d^2 / (2 s^2 (2 sigma)^2)) = 0.5 at d = tolerance, s = median sqrt(box area)."""
    s = float(np.median(scales)) if scales else 1000.0
    return tolerance_px / (2 * s * math.sqrt(2 * math.log(2)))


@EXPORTERS.register("yolo-pose")
def export_yolo_pose(ds: CanonicalDataset, out: Path, image_format: str) -> None:
    missing = [n for n in ORDER if n not in ds.landmarks]
    if missing:
        raise AntsegInputError(
            ds.root, f"yolo-pose export needs landmarks {', '.join(ORDER)}; missing {', '.join(missing)}"
        )
    scales, splits = [], set()
    for c in ds:
        split = c.split or "train"
        splits.add(split)
        (out / "images" / split).mkdir(parents=True, exist_ok=True)
        (out / "labels" / split).mkdir(parents=True, exist_ok=True)
        write_image_as(ds, c, out / "images" / split / c.case_id, image_format)
        box = object_box(ds, c)
        text = ""
        if box is not None:
            text = label_line(c, box) + "\n"
            scales.append(math.sqrt(max(1.0, (box[2] - box[0]) * (box[3] - box[1]))))
        (out / "labels" / split / f"{c.case_id}.txt").write_text(text)
    sigma = round(oks_sigma(scales), 5)
    data = {
        **{s: f"images/{s}" for s in ("train", "val", "test") if s in splits},
        "kpt_shape": [2, 3],
        "flip_idx": [1, 0],
        "names": {0: "anterior_segment"},
        "kpt_names": list(ORDER),
        "kpt_sigmas": [sigma, sigma],
    }
    header = (
        "# Exported by antseg. kpt_sigmas: OKS = 0.5 at a 20 px spur error for the median box.\n"
        "# Stock Ultralytics ignores kpt_sigmas (it uses 1/nkpt = 0.5); set validator.sigma to use them.\n"
        "# No 'path' key: Ultralytics then resolves images/ relative to this file.\n"
    )
    (out / "data.yaml").write_text(header + yaml.safe_dump(data, sort_keys=False))
