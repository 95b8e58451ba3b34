"""Where the predicted chamber roof (the posterior corneal surface) lies, against the labels and the image.

Usage:
    python benchmarks/bench_chamber_roof.py LABELLED_DATASET [--seg default] [--limit N] [--out results.json]

ACD is measured where the device's central reflection line crosses the cornea, so a roof that bends there moves
the most-used number. For each scan with a reflection line (``antseg.scan.reflection``), with the per-scan
pipeline as ``report`` runs it:

- the predicted roof minus the labelled one (px, negative: the prediction lies higher) on columns every 30 px from
  the line's centre out to 150 px: a bump at 0 is the line's doing, the same offset everywhere is not;
- away from the line (4-14 % of the width either side): the image's steepest fall from cornea to chamber (a
  Gaussian-smoothed column) relative to the labelled and the predicted roof, so a label convention and a model bias
  can be told apart (on phantoms the truth lies about 4 px above that edge);
- the rows the labels leave between the cornea and the chamber (phantoms: none), and the cornea's and the
  chamber's grey level inside the line's columns against beside them.

Measured on the real development eye against realistic phantoms: ``docs/results/trust.md``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import cv2
import numpy as np

from antseg.data.canonical import load_dataset
from antseg.scan.config import ScanConfig
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.reflection import reflection_bands

OFFSETS = tuple(range(-150, 151, 30))


def _top(mask: np.ndarray, x: int) -> int | None:
    rows = np.flatnonzero(mask[:, x])
    return int(rows[0]) if len(rows) else None


def scan_rows(grey: np.ndarray, labels: dict, pred: dict) -> dict | None:
    """The figures of one scan (None without a reflection line): see the module docstring."""
    bands = reflection_bands(grey)
    if not bands:
        return None
    (a, b), w = bands[0], grey.shape[1]
    mid = (a + b) // 2
    lac, pac, lco = labels["anterior_chamber"] > 0, pred["anterior_chamber"] > 0, labels["cornea"] > 0
    bump = []
    for dx in OFFSETS:
        x = mid + dx
        lt, pt = (_top(lac, x), _top(pac, x)) if 0 <= x < w else (None, None)
        bump.append(np.nan if lt is None or pt is None else pt - lt)
    smooth = cv2.GaussianBlur(grey.astype(np.float32), (0, 0), sigmaX=6, sigmaY=2)
    fall = np.diff(smooth, axis=0)
    away, gap = [], []
    step = max(1, w // 100)
    cols = [
        *range(mid - int(0.14 * w), mid - int(0.04 * w), step),
        *range(mid + int(0.04 * w), mid + int(0.14 * w), step),
    ]
    for x in cols:
        if not 0 <= x < w:
            continue
        lt, pt, co = _top(lac, x), _top(pac, x), np.flatnonzero(lco[:, x])
        if lt is None or pt is None or not len(co):
            continue
        lo, hi = max(0, min(lt, pt) - 15), max(lt, pt) + 15
        edge = lo + int(np.argmin(fall[lo:hi, x]))
        away.append((pt - lt, edge - lt, pt - edge))
        gap.append(lt - co[-1] - 1)
    inside = np.zeros_like(lco)
    inside[:, a + 2 : b - 2] = True
    beside = np.zeros_like(lco)
    beside[:, max(0, a - 3 * (b - a)) : a - (b - a)] = True
    beside[:, b + (b - a) : b + 3 * (b - a)] = True
    g = grey.astype(np.float32)
    grey_levels = [g[m].mean() if m.any() else np.nan for m in (lco & inside, lco & beside, lac & inside, lac & beside)]
    return {"bump": bump, "away": away, "gap": gap, "grey": grey_levels}


def measure(data: Path, seg: str, limit: int | None) -> dict:
    """The figures over a dataset's scans with a reflection line (see the module docstring)."""
    ds = load_dataset(data)
    pipe = ScanPipeline(seg, None, ScanConfig(), "cpu")
    bumps, away, gaps, greys = [], [], [], []
    for c in ds.cases[:limit]:
        grey = ds.load_image(c, grayscale=True)
        res = pipe.run(ds.load_image(c), c.case_id, spacing=c.spacing)
        got = scan_rows(
            grey,
            dict(zip(ds.structures, ds.load_masks(c), strict=True)),
            dict(zip(res.structures, res.masks, strict=True)),
        )
        if got is None:
            continue
        bumps.append(got["bump"])
        away += got["away"]
        gaps += got["gap"]
        greys.append(got["grey"])
    bump, a, gr = np.array(bumps, float), np.array(away, float), np.array(greys, float)
    return {
        "scans": len(bumps),
        "roof_offset_px_by_distance_from_line": dict(
            zip(OFFSETS, np.nanmedian(bump, axis=0).round(1).tolist(), strict=True)
        ),
        "away_from_line_px": {
            "predicted_minus_labelled": float(np.median(a[:, 0])),
            "edge_minus_labelled": float(np.median(a[:, 1])),
            "predicted_minus_edge": float(np.median(a[:, 2])),
        },  # fmt: skip
        "rows_between_labelled_cornea_and_chamber": float(np.median(gaps)),
        "line_grey": {
            "cornea_inside": float(np.nanmedian(gr[:, 0])),
            "cornea_beside": float(np.nanmedian(gr[:, 1])),
            "chamber_inside": float(np.nanmedian(gr[:, 2])),
            "chamber_beside": float(np.nanmedian(gr[:, 3])),
        },  # fmt: skip
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="A canonical dataset with chamber and cornea masks.")
    ap.add_argument("--seg", default="default", help="Segmentation model (default: the shipped one).")
    ap.add_argument("--limit", type=int, default=None, help="At most this many scans.")
    ap.add_argument("--out", type=Path, default=None, help="Write the figures as JSON here.")
    args = ap.parse_args()
    res = measure(args.data, args.seg, args.limit)
    print(json.dumps(res, indent=1))
    if args.out:
        args.out.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
