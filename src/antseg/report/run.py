"""``antseg report``: a folder of raw AS-OCT scans -> a per-eye HTML report, with CSV and JSON beside it."""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np

from antseg import checks
from antseg.anatomy import MEASURES
from antseg.biometry.agreement import agreement
from antseg.biometry.dataset import AngleThresholds
from antseg.biometry.units import rounded
from antseg.config import dump_config
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir, atomic_write_text
from antseg.io.images import read_image
from antseg.io.meta_tables import read_meta, read_reference
from antseg.io.output_folder import existing_paths
from antseg.io.tables import write_csv, write_json
from antseg.models.model_card import card_summary
from antseg.models.shipped import is_shipped
from antseg.report.eyes import ReportScan, summarise_eyes
from antseg.report.figures import agreement_section
from antseg.report.grouping import scan_eyes
from antseg.report.html import render
from antseg.scan.config import ScanConfig
from antseg.scan.inputs import ScanInput, scan_inputs
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.rows import draw, result_row

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


def _model_description(pipe: ScanPipeline) -> dict:
    m, s = pipe.seg.meta, pipe.spur.meta
    synthetic = bool(m.synthetic or s.synthetic)
    note = "It has not been trained on real scans: check every number against the images."
    if is_shipped(pipe.seg.checkpoint.path) or is_shipped(pipe.spur.checkpoint_path):
        note = f"{note} {card_summary()}"
    return {
        "segmentation": f"{pipe.seg.checkpoint.model['name']} ({pipe.seg.checkpoint.path})",
        "spurs": f"two-stage spur model ({pipe.spur.checkpoint_path}), {_wall_text(pipe.wall_mm)}",
        "spur_wall_mm": pipe.wall_mm,
        "training": f"Trained on '{m.dataset or 'unknown'}' (segmentation) and '{s.dataset or 'unknown'}' (spurs).",
        "synthetic": synthetic,
        "synthetic_note": note,
        "mirror": pipe.config.mirror,
    }


def _wall_text(mm: float) -> str:
    if mm <= 0:
        return "used as predicted"
    return f"moved onto the angle wall the segmentation sees when more than {mm:g} mm off it"


def scan_row(s: ReportScan, th: AngleThresholds) -> dict:
    """One CSV row: identifiers, every measure with its status, spurs, narrow flags, reasons and warnings, and
    whether the scan was used in its eye's summary."""
    row = result_row(s.result, th, image=s.path.name, patient=s.patient, eye=s.eye)
    row["used_in_eye_summary"] = "no" if s.left_out else "yes"
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
    eye_regex: str | None = None,
    config: ScanConfig | None = None,
    dicom_out: str | Path | None = None,
    show_identifiers: bool = False,
) -> dict:
    """Analyse every scan with the per-scan pipeline (:class:`~antseg.scan.ScanPipeline`) and write
    ``report.html``, ``scans.csv``, ``eyes.csv``, ``report.json``, ``scan_config.yaml`` and
    ``overlays/<stem>.jpg`` into ``out``.

    Args:
        inputs: scan files and folders of scans (JPEG/PNG/BMP/TIFF, DICOM).
        meta: CSV with ``image`` (or ``case_id`` = file stem), ``patient_id`` and ``eye``: groups scans by eye
            when the file names are not CASIA exports.
        reference: CSV with ``image`` (or ``case_id``) and measure columns: adds agreement plots and a table.
        spur_wall_mm: a spur further than this (mm) from the angle wall is moved onto it, with a warning
            (None: 0.3 mm; 0: off; :mod:`antseg.inference.spur_wall`).
        eye_regex: a name pattern with ``(?P<patient>...)`` [and ``(?P<eye>...)``] that groups scans into eyes
            (see :func:`antseg.report.grouping.scan_eyes` for every rule).
        config: the pipeline's settings (mirror pass, repairs, quality limits); ``spacing`` and ``spur_wall_mm``
            override its own.
        spacing: (x, y) mm per pixel for every scan; None: each DICOM's own (a DICOM without one is refused),
            the model's for image files.
        dicom_out: also write a DICOM Segmentation and measurement report per scan into this folder (DICOM
            scans only; the ``dicom`` extra; :mod:`antseg.export.dicom_seg_sr`).
        show_identifiers: the patient ID (and name and birth date columns) of DICOM scans in the tables and the
            page; without it, a pseudonym (:class:`antseg.io.scan_meta.ScanMeta`).

    Returns:
        {"n_scans", "n_eyes", "seconds_per_scan", "steps_ms" (per step, median), "html": path, "warnings": when
        ``meta`` or ``reference`` rows and the scans do not match up}.
    """
    th = thresholds or AngleThresholds()
    cfg = replace(config or ScanConfig(), spacing=spacing or (config.spacing if config else None))
    if spur_wall_mm is not None:
        cfg = replace(cfg, spur_wall_mm=checks.spur_wall(spur_wall_mm))
    scans = scan_inputs(inputs, cfg.spacing, None, identifiers=show_identifiers)  # headers only, before any work
    files = [s.path for s in scans]
    _check_dicom(scans, dicom_out, out)
    meta_table = read_meta(meta, "--meta") if meta else None
    ref_table = read_reference(reference, AGREEMENT_MEASURES, "--reference") if reference else None
    warnings = [] if meta_table is None else meta_table.match_warnings(files, "--meta", "scans are grouped by name")
    if ref_table is not None:
        warnings += ref_table.match_warnings(files, "--reference", "no agreement with reference values is shown")
    meta_rows = {} if meta_table is None else meta_table.index
    ref_rows = {} if ref_table is None else ref_table.index
    own = [(s.meta.patient or s.path.stem, s.meta.laterality) if s.meta.source == "dicom" else None for s in scans]
    eyes_of = scan_eyes(files, meta_rows, eye_regex, own)
    pipe = ScanPipeline(weights, spurs, cfg, device, use="report")
    if pipe.spacing is None and any(s.spacing is None for s in scans):
        raise AntsegInputError(None, "pixel spacing unknown: give --spacing (mm per pixel)")
    results, previews, steps, spacings = [], {}, [], {}
    used = existing_paths(inputs, weights, spurs, meta, reference)
    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(atomic_dir(out, overwrite=overwrite, inputs=used))
        writer = _dicom_writer(stack, dicom_out, overwrite, used, pipe)
        (tmp / "overlays").mkdir()
        t0 = time.perf_counter()
        for i, (s, (patient, eye)) in enumerate(zip(scans, eyes_of, strict=True)):
            f = s.path
            sp = s.spacing or pipe.spacing
            res = pipe.run(read_image(f), name=f.name, spacing=sp)
            res.warnings += s.notes
            spacings[f.name] = _spacing_columns(s, sp, spacing is not None, show_identifiers)
            if writer is not None:
                writer.write(_dicom_scan(writer, f, res, eye))
            t1 = time.perf_counter()
            drawn = draw(res)
            (tmp / "overlays" / f"{f.stem}.jpg").write_bytes(_jpeg(drawn))
            previews[f.name] = _jpeg(drawn, PREVIEW_WIDTH, 80)
            res.image = res.image[:0]  # keep memory flat: the pixels are written, the numbers kept
            res.masks = res.masks[:, :0]
            results.append(ReportScan(f, patient, eye, res))
            steps.append({**res.seconds, "overlay": time.perf_counter() - t1})
            if progress:
                progress(i + 1, len(files))
        per_scan = (time.perf_counter() - t0) / len(files)
        eyes = summarise_eyes(results, th)
        model = {**_model_description(pipe), "aod500": th.aod500_mm, "tisa500": th.tisa500_mm2}
        rows = [{**scan_row(r, th), **spacings[r.path.name]} for r in results]
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
        write_csv(tmp / "eyes.csv", [eye_row(e) for e in eyes], blank_nan=True)
        page_spacing = {(r["spacing_x_mm"], r["spacing_y_mm"]) for r in rows}
        page_spacing = page_spacing.pop() if len(page_spacing) == 1 else None  # None: per scan, in scans.csv
        page = render(eyes, previews, model, page_spacing, timing, agreement_section(agree))
        atomic_write_text(tmp / "report.html", page)
        dump_config(replace(cfg, spacing=pipe.spacing), tmp / "scan_config.yaml")
        summary = {
            "n_scans": len(results),
            "n_eyes": len(eyes),
            "seconds_per_scan": per_scan,
            "steps_ms": steps_ms,
            "model": model,
            "spacing_mm": None if page_spacing is None else list(page_spacing),
            "eyes": [
                {
                    "eye": e.key,
                    "scans": [s.path.name for s in e.scans],
                    "used": [s.path.name for s in e.used],
                    "stats": e.stats,
                    "narrow": e.narrow,
                }
                for e in eyes
            ],  # fmt: skip
            "scans": rows,
            "agreement": [{k: v for k, v in a.items() if k != "pairs"} for a in agree],
            "warnings": warnings,
        }
        write_json(tmp / "report.json", summary)
    return {
        **{k: summary[k] for k in ("n_scans", "n_eyes", "seconds_per_scan", "steps_ms")},
        "html": Path(out) / "report.html",
        "warnings": warnings,
    }


def _check_dicom(scans: list[ScanInput], dicom_out: str | Path | None, out: str | Path) -> None:
    """Refuse, before any work, a ``--dicom-out`` that cannot be written (an image-file scan, a folder inside
    ``--out``)."""
    if dicom_out is None:
        return
    not_dicom = [s.path for s in scans if s.meta.source != "dicom"]
    if not_dicom:
        raise AntsegInputError(not_dicom[0], "--dicom-out needs DICOM scans: this is an image file")
    d, o = Path(dicom_out).resolve(), Path(out).resolve()
    if d == o or d.is_relative_to(o) or o.is_relative_to(d):
        raise AntsegInputError(dicom_out, "--dicom-out must be a folder of its own, not --out or inside it")


def _dicom_writer(stack: contextlib.ExitStack, dicom_out, overwrite: bool, used: list[Path], pipe: ScanPipeline):
    """The SEG/SR writer into its own atomic folder (None without ``--dicom-out``)."""
    if dicom_out is None:
        return None
    from antseg.export.dicom_seg_sr import DicomWriter

    writer = DicomWriter(Path("."), model_name=f"antseg {pipe.seg.checkpoint.model['name']}")  # highdicom first
    writer.folder = stack.enter_context(atomic_dir(dicom_out, overwrite=overwrite, inputs=used))
    return writer


def _dicom_scan(writer, path: Path, res, eye: str):
    """A pipeline result as the DICOM writer takes it: masks, values, and each measure's status and reasons."""
    return writer.scan(
        path, res.mask_dict, res.values, res.reasons, res.warnings, res.spacing, eye,
        statuses={k: (m.status, list(m.reasons)) for k, m in res.measures.items()},
    )  # fmt: skip


def _spacing_columns(s: ScanInput, sp: tuple[float, float], given: bool, identifiers: bool) -> dict:
    """The spacing a scan was measured with and where it came from; with identifiers, the patient's name."""
    source = "--spacing" if given else s.meta.spacing_from or "model"
    cols = {"spacing_x_mm": sp[0], "spacing_y_mm": sp[1], "spacing_from": source}
    if identifiers and s.meta.source == "dicom":
        cols.update(patient_name=s.meta.patient_name, birth_date=s.meta.birth_date)
    return cols


def _float(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def eye_row(e) -> dict:
    """One row of ``eyes.csv``: the eye, its scans (and how many were used), each measure's summary."""
    row = {"eye": e.key, "patient": e.patient, "side": e.eye, "scans": len(e.scans), "scans_used": len(e.used)}
    for m in MEASURES:
        st = e.stats[m]
        row.update({f"{m}_median": rounded(m, st["median"]), f"{m}_mean": rounded(m, st["mean"]),
                    f"{m}_sd": rounded(m, st["sd"]), f"{m}_n": st["n"], f"{m}_status": st["status"]})  # fmt: skip
    return row
