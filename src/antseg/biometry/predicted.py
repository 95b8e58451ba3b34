"""Biometry from model predictions (masks and spurs), compared with ground truth and reference values."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from antseg.anatomy import MEASURES, side_of
from antseg.biometry.agreement import agreement
from antseg.biometry.dataset import AngleThresholds, measurement_row, read_reference
from antseg.biometry.measure import measure
from antseg.biometry.overlay import draw_biometry
from antseg.data.canonical import load_dataset
from antseg.errors import AntsegInputError
from antseg.inference.inputs import collect_inputs
from antseg.inference.predictor import Predictor
from antseg.inference.spur_wall import constrain_spurs
from antseg.inference.spurs import SpurPredictor
from antseg.io.atomic import atomic_dir
from antseg.io.images import read_image, write_png
from antseg.io.output_folder import existing_paths
from antseg.io.scan_meta import NO_SPACING, resolve_spacing, scan_metadata
from antseg.io.tables import write_csv, write_json

KEY = ["acd_mm", "acw_mm", "lv_mm", "aod500_mm_left", "aod500_mm_right", "tisa500_mm2_left", "tisa500_mm2_right"]


def _predict_and_measure(
    seg: Predictor, spurs: SpurPredictor, image: np.ndarray, spacing, spur_wall_mm: float | None
) -> tuple[dict, dict, dict, dict, dict]:
    """Segment, find the spurs (kept on the angle wall, :mod:`antseg.inference.spur_wall`), measure.

    Returns (values, reasons, masks, spur (x, y) or None, ``{side}_spur_moved_mm`` columns)."""
    grey = image if image.ndim == 2 else image.mean(axis=2).astype(np.uint8)
    masks = dict(zip(seg.structures, seg.predict(grey).masks, strict=True))
    pts = constrain_spurs(spurs.predict(grey), masks, spacing, spur_wall_mm)
    spur_xy = {n: (p["x"], p["y"]) if p["visible"] else None for n, p in pts.items()}
    v, why = measure(masks, spur_xy, spacing)
    moved = {f"{side_of(n)}_spur_moved_mm": p["moved_mm"] for n, p in pts.items()}
    return v, why, masks, spur_xy, moved


def predicted_biometry(
    weights: str | Path, spur_weights: str | Path, dataset: str | Path, out: str | Path, split: str = "test",
    device: str = "auto", thresholds: AngleThresholds | None = None, overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None, spacing: tuple[float, float] | None = None,
    spur_wall_mm: float | None = None,
) -> dict:  # fmt: skip
    """Measure a dataset split three ways: the reference values (if any), the ground-truth masks and spurs, and
    the models' predictions. Writes ``biometry_predicted.csv``, ``biometry_ground_truth.csv``,
    ``agreement.csv`` (predicted vs reference, and ground truth vs reference), ``biometry.md`` and overlays.

    Args:
        spacing: (x, y) mm per pixel overriding the dataset's own.
        spur_wall_mm: a predicted spur further than this (mm) from the angle wall is moved onto it (None: the
            default, 0.3 mm; 0: off).
    """
    ds = load_dataset(dataset)
    override = spacing
    cases = [c for c in ds.cases if c.split == split or split == "all"]
    if not cases:
        raise AntsegInputError(ds.root, f"no cases in split {split!r}")
    seg, sp = Predictor(weights, device), SpurPredictor(spur_weights, device)
    th = thresholds or AngleThresholds()
    ref = read_reference(ds.root / ds.manifest.reference_biometry) if ds.manifest.reference_biometry else {}
    pred_rows, gt_rows = [], []
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(dataset, weights, spur_weights)) as tmp:
        (tmp / "overlays").mkdir()
        for i, c in enumerate(cases):
            spacing = override or ds.spacing(c)
            if spacing is None:
                raise AntsegInputError(ds.root, f"case {c.case_id}: pixel spacing unknown")
            img = ds.load_image(c, grayscale=True)
            v, why, masks, spur_xy, moved = _predict_and_measure(seg, sp, img, spacing, spur_wall_mm)
            pred_rows.append({**measurement_row(v, why, th, case_id=c.case_id, group=c.group), **moved})
            gv, _ = measure(dict(zip(ds.structures, ds.load_masks(c), strict=True)), c.landmarks, spacing)
            gt_rows.append({"case_id": c.case_id, "group": c.group, **gv})
            write_png(tmp / "overlays" / f"{c.case_id}.png", draw_biometry(img, masks, spur_xy, v, spacing))
            if progress:
                progress(i + 1, len(cases))
        write_csv(tmp / "biometry_predicted.csv", pred_rows, blank_nan=True)
        write_csv(tmp / "biometry_ground_truth.csv", gt_rows, blank_nan=True)
        table = []
        for m in MEASURES:
            row = {"measure": m}
            truth = np.array([ref.get(r["case_id"], {}).get(m, math.nan) for r in pred_rows])
            for name, rows in (("predicted", pred_rows), ("ground_truth", gt_rows)):
                vals = np.array([r[m] for r in rows], float)
                base = truth if ref else np.array([r[m] for r in gt_rows], float)
                row.update({f"{name}_{k}": val for k, val in agreement(vals, base).items()})
            table.append(row)
        write_csv(tmp / "agreement.csv", table)
        md = agreement_markdown(table, bool(ref))
        (tmp / "biometry.md").write_text(md)
        result = {"dataset": str(ds.root), "split": split, "n_cases": len(cases), "agreement": table, "markdown": md}
        write_json(tmp / "summary.json", result)
    return result


def agreement_markdown(table: list[dict], has_reference: bool) -> str:
    ref = "analytic truth" if has_reference else "ground-truth masks"
    lines = [
        f"| measure | from GT masks: MAE | from predictions: MAE | max abs | ICC | Bland-Altman bias [LoA] "
        f"| (vs {ref}) |",
        "| :-- | --: | --: | --: | --: | :-- | :-- |",
    ]
    for r in table:
        if r["measure"] not in KEY or not r.get("predicted_n"):
            continue
        gt = f"{r.get('ground_truth_mean_abs_error', math.nan):.4f}" if r.get("ground_truth_n") else "n/a"
        lines.append(
            f"| {r['measure']} | {gt} | {r['predicted_mean_abs_error']:.4f} | {r['predicted_max_abs_error']:.4f} | "
            f"{r['predicted_icc']:.3f} | {r['predicted_bland_altman_bias']:+.4f} "
            f"[{r['predicted_loa_low']:+.4f}, {r['predicted_loa_high']:+.4f}] | n={r['predicted_n']} |"
        )
    return "\n".join(lines) + "\n"


def image_biometry(weights, spur_weights, images: list[Path], out: Path, spacing: tuple[float, float] | None,
                   device: str = "auto", overwrite: bool = False,
                   spur_wall_mm: float | None = None) -> Path:  # fmt: skip
    """Predict then measure new images; spacing from ``spacing``, else a DICOM's own (a DICOM without one is
    refused), else the segmentation checkpoint's.

    ``spur_wall_mm``: a predicted spur further than this (mm) from the angle wall is moved onto it (None: the
    default, 0.3 mm; 0: off).
    """
    files = collect_inputs([Path(p) for p in images])
    metas = {f: scan_metadata(f) for f in files}  # a DICOM's own spacing; one without it needs --spacing
    missing = [f for f, m in metas.items() if m.source == "dicom" and m.spacing_mm is None]
    if missing and spacing is None:
        raise AntsegInputError(missing[0], NO_SPACING)
    seg, sp = Predictor(weights, device), SpurPredictor(spur_weights, device)
    override = spacing
    if (override or seg.spacing) is None and any(m.source == "file" for m in metas.values()):
        raise AntsegInputError(None, "pixel spacing unknown: give --spacing")
    rows = []
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(images, weights, spur_weights)) as tmp:
        (tmp / "overlays").mkdir()
        for f in files:
            img = read_image(f, grayscale=True)
            spacing = resolve_spacing(metas[f], override, seg.spacing)[0]
            v, why, masks, spur_xy, moved = _predict_and_measure(seg, sp, img, spacing, spur_wall_mm)
            rows.append({**measurement_row(v, why, AngleThresholds(), image=f.name), **moved})
            write_png(tmp / "overlays" / f"{f.stem}.png", draw_biometry(img, masks, spur_xy, v, spacing))
        write_csv(tmp / "biometry.csv", rows, blank_nan=True)
    return out
