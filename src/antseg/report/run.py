"""``antseg report``: a folder of raw AS-OCT scans -> a per-eye HTML report, with CSV and JSON beside it."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from antseg import checks
from antseg.anatomy import MEASURES
from antseg.biometry.agreement import agreement
from antseg.biometry.dataset import AngleThresholds
from antseg.errors import AntsegInputError
from antseg.inference.inputs import collect_inputs
from antseg.io.atomic import atomic_dir, atomic_write_text
from antseg.io.images import read_image
from antseg.io.output_folder import existing_paths
from antseg.io.scan_meta import NO_SPACING, ScanMeta, resolve_spacing, scan_metadata
from antseg.io.tables import read_csv, write_csv, write_json
from antseg.pretrained import REAL_DATA_FIGURES, is_shipped
from antseg.report.analyse import ScanAnalyser, ScanResult, patient_and_eye
from antseg.report.eyes import is_narrow, summarise_eyes
from antseg.report.figures import agreement_section
from antseg.report.html import render

#: Width (px) of the overlays embedded in the page; full-size overlays are written beside it.
PREVIEW_WIDTH = 1280
#: Measures compared with reference values in the agreement section.
AGREEMENT_MEASURES = (
    "acd_mm",
    "acw_mm",
    "lv_mm",
    "aod500_mm_left",
    "aod500_mm_right",
    "tisa500_mm2_left",
    "tisa500_mm2_right",
)


def _jpeg(rgb: np.ndarray, width: int | None = None, quality: int = 85) -> bytes:
    if width and rgb.shape[1] > width:
        rgb = cv2.resize(rgb, (width, round(rgb.shape[0] * width / rgb.shape[1])), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    return buf.tobytes()


def _meta_table(path: Path | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    rows = read_csv(path)
    key = "image" if rows and "image" in rows[0] else "case_id"
    if not rows or key not in rows[0]:
        raise AntsegInputError(path, "meta CSV needs an 'image' or 'case_id' column")
    return {r[key]: r for r in rows}


def _model_description(an: ScanAnalyser) -> dict:
    m, s = an.seg.meta, an.spur.meta
    synthetic = bool(m.synthetic or s.synthetic)
    note = "It has not been trained on real scans: check every number against the images."
    if is_shipped(an.seg.checkpoint.path) or is_shipped(an.spur.checkpoint_path):
        note = f"{note} {REAL_DATA_FIGURES}"
    return {
        "segmentation": f"{an.seg.checkpoint.model['name']} ({an.seg.checkpoint.path})",
        "spurs": f"two-stage spur model ({an.spur.checkpoint_path}), {_wall_text(an.spur_wall_mm)}",
        "spur_wall_mm": an.spur_wall_mm,
        "training": f"Trained on '{m.dataset or 'unknown'}' (segmentation) and '{s.dataset or 'unknown'}' (spurs).",
        "synthetic": synthetic,
        "synthetic_note": note,
    }


def _wall_text(mm: float) -> str:
    if mm <= 0:
        return "used as predicted"
    return f"moved onto the angle wall the segmentation sees when more than {mm:g} mm off it"


def scan_row(s: ScanResult, th: AngleThresholds) -> dict:
    """One CSV row: identifiers, every measure, spurs with confidence, narrow flags, reasons and warnings."""
    row: dict = {"image": s.image.name, "patient": s.patient, "eye": s.eye}
    row.update({m: s.values.get(m, math.nan) for m in MEASURES})
    for n, p in s.spurs.items():
        row.update({f"{n}_x": p["x"], f"{n}_y": p["y"], f"{n}_confidence": round(float(p["confidence"]), 4)})
        row[f"{n}_moved_mm"] = p.get("moved_mm", math.nan)
    for side in ("left", "right"):
        nar = is_narrow(s.values, side, th)
        row[f"narrow_angle_{side}"] = "" if nar is None else ("yes" if nar else "no")
    row["reasons"] = "; ".join(f"{k}: {v}" for k, v in s.reasons.items())
    row["warnings"] = "; ".join(s.warnings)
    return row


def make_report(
    inputs: list[Path],
    out: str | Path,
    weights: str | Path,
    spurs: str | Path,
    spacing: tuple[float, float] | None = None,
    meta: Path | None = None,
    reference: Path | None = None,
    thresholds: AngleThresholds | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    spur_wall_mm: float | None = None,
    dicom_out: str | Path | None = None,
    show_identifiers: bool = False,
) -> dict:
    """Analyse every scan and write ``report.html``, ``scans.csv``, ``eyes.csv``, ``report.json`` and
    ``overlays/<stem>.jpg`` into ``out``.

    Args:
        inputs: scan files and folders of scans (JPEG/PNG/BMP).
        meta: CSV with ``image`` (or ``case_id`` = file stem), ``patient_id`` and ``eye``: groups scans by eye
            when the file names are not CASIA exports.
        reference: CSV with ``image`` (or ``case_id``) and measure columns: adds agreement plots and a table.
        spur_wall_mm: a spur further than this (mm) from the angle wall is moved onto it, with a warning
            (None: 0.3 mm; 0: off; :mod:`antseg.inference.spur_wall`).
        spacing: (x, y) mm per pixel for every scan; None: each DICOM's own (a DICOM without one is refused),
            the model's for image files.
        dicom_out: also write a DICOM Segmentation and measurement report per scan into this folder (DICOM
            scans only; the ``dicom`` extra; :mod:`antseg.export.dicom_seg_sr`).
        show_identifiers: the patient ID (and name and birth date columns) of DICOM scans in the tables and the
            page; without it, a pseudonym (:class:`antseg.io.scan_meta.ScanMeta`).

    Returns:
        {"n_scans", "n_eyes", "seconds_per_scan", "steps_ms" (per step, median), "html": path}.
    """
    files = collect_inputs([Path(p) for p in inputs])
    th = thresholds or AngleThresholds()
    meta_rows = _meta_table(meta)
    ref_rows = _meta_table(reference) if reference else {}
    spur_wall_mm = checks.spur_wall(spur_wall_mm)
    metas = {f: scan_metadata(f, identifiers=show_identifiers) for f in files}  # headers only, before any work
    _check_dicom(metas, spacing, dicom_out, out)
    an = ScanAnalyser(weights, spurs, spacing, device, spur_wall_mm)
    if an.spacing is None:
        raise AntsegInputError(None, "pixel spacing unknown: give --spacing (mm per pixel)")
    results, previews, steps, spacings = [], {}, [], {}
    used = existing_paths(inputs, weights, spurs, meta, reference)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_dir(out, overwrite=overwrite, inputs=used))
        writer = _dicom_writer(stack, dicom_out, overwrite, used, an)
        (tmp / "overlays").mkdir()
        t0 = time.perf_counter()
        for i, f in enumerate(files):
            image = read_image(f)
            patient, eye = patient_and_eye(f, meta_rows, metas[f])
            sp, notes = resolve_spacing(metas[f], spacing, an.spacing)
            res = an.analyse(image, f, patient, eye, spacing=sp)
            res.warnings += notes
            spacings[f.name] = _spacing_columns(metas[f], sp, spacing is not None, show_identifiers)
            if writer is not None:
                writer.write(writer.scan(f, res.masks, res.values, res.reasons, res.warnings, sp, eye))
            res.masks = {}
            (tmp / "overlays" / f"{f.stem}.jpg").write_bytes(_jpeg(res.overlay))
            previews[f.name] = _jpeg(res.overlay, PREVIEW_WIDTH, 80)
            res.overlay = res.overlay[:0]  # keep memory flat: the pixels are written, the numbers kept
            results.append(res)
            steps.append(res.seconds)
            if progress:
                progress(i + 1, len(files))
        per_scan = (time.perf_counter() - t0) / len(files)
        eyes = summarise_eyes(results, th)
        model = {**_model_description(an), "aod500": th.aod500_mm, "tisa500": th.tisa500_mm2}
        rows = [{**scan_row(r, th), **spacings[r.image.name]} for r in results]
        agree = []
        if ref_rows:
            for m in AGREEMENT_MEASURES:
                pairs = [
                    (r[m], _float(ref_rows.get(r["image"], ref_rows.get(Path(r["image"]).stem, {})).get(m)))
                    for r in rows
                ]
                a = agreement(np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], float))
                agree.append({"measure": m, **a, "pairs": pairs})
            write_csv(tmp / "agreement.csv", [{k: v for k, v in a.items() if k != "pairs"} for a in agree])
        steps_ms = {k: 1000 * float(np.median([s[k] for s in steps])) for k in steps[0]}
        timing = {"per_scan_s": per_scan, "steps_ms": steps_ms}
        write_csv(tmp / "scans.csv", rows, blank_nan=True)
        write_csv(
            tmp / "eyes.csv",
            [
                {
                    "eye": e.key,
                    "patient": e.patient,
                    "side": e.eye,
                    "scans": len(e.scans),
                    **{f"{m}_{k}": e.stats[m][k] for m in MEASURES for k in ("mean", "sd", "n")},
                }
                for e in eyes
            ],
            blank_nan=True,
        )
        page_spacing = {(r["spacing_x_mm"], r["spacing_y_mm"]) for r in rows}
        page_spacing = page_spacing.pop() if len(page_spacing) == 1 else None  # None: per scan, in scans.csv
        page = render(eyes, previews, model, page_spacing, timing, agreement_section(agree))
        atomic_write_text(tmp / "report.html", page)
        summary = {
            "n_scans": len(results),
            "n_eyes": len(eyes),
            "seconds_per_scan": per_scan,
            "steps_ms": steps_ms,
            "model": model,
            "spacing_mm": list(an.spacing),
            "eyes": [
                {"eye": e.key, "scans": [s.image.name for s in e.scans], "stats": e.stats, "narrow": e.narrow}
                for e in eyes
            ],
            "scans": rows,
            "agreement": [{k: v for k, v in a.items() if k != "pairs"} for a in agree],
        }
        write_json(tmp / "report.json", summary)
    return {
        **{k: summary[k] for k in ("n_scans", "n_eyes", "seconds_per_scan", "steps_ms")},
        "html": Path(out) / "report.html",
    }


def _check_dicom(
    metas: dict[Path, ScanMeta], spacing: tuple[float, float] | None, dicom_out: str | Path | None, out: str | Path
) -> None:
    """Refuse, before any work, a DICOM without spacing when no ``--spacing`` is given, and a ``--dicom-out``
    that cannot be written (an image-file scan, the folder inside ``--out``)."""
    missing = [f for f, m in metas.items() if m.source == "dicom" and m.spacing_mm is None]
    if missing and spacing is None:
        more = f" (and {len(missing) - 1} more scans)" if len(missing) > 1 else ""
        raise AntsegInputError(missing[0], NO_SPACING + more)
    if dicom_out is None:
        return
    not_dicom = [f for f, m in metas.items() if m.source != "dicom"]
    if not_dicom:
        raise AntsegInputError(not_dicom[0], "--dicom-out needs DICOM scans: this is an image file")
    d, o = Path(dicom_out).resolve(), Path(out).resolve()
    if d == o or d.is_relative_to(o) or o.is_relative_to(d):
        raise AntsegInputError(dicom_out, "--dicom-out must be a folder of its own, not --out or inside it")


def _dicom_writer(stack: contextlib.ExitStack, dicom_out, overwrite: bool, used: list[Path], an: ScanAnalyser):
    """The SEG/SR writer into its own atomic folder (None without ``--dicom-out``)."""
    if dicom_out is None:
        return None
    from antseg.export.dicom_seg_sr import DicomWriter

    writer = DicomWriter(Path("."), model_name=f"antseg {an.seg.checkpoint.model['name']}")  # highdicom first
    writer.folder = stack.enter_context(atomic_dir(dicom_out, overwrite=overwrite, inputs=used))
    return writer


def _spacing_columns(meta: ScanMeta, sp: tuple[float, float], given: bool, identifiers: bool) -> dict:
    """The spacing a scan was measured with and where it came from; with identifiers, the patient's name."""
    source = "--spacing" if given else meta.spacing_from or "model"
    cols = {"spacing_x_mm": sp[0], "spacing_y_mm": sp[1], "spacing_from": source}
    if identifiers and meta.source == "dicom":
        cols.update(patient_name=meta.patient_name, birth_date=meta.birth_date)
    return cols


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan
