"""``antseg report``: a folder of raw AS-OCT scans -> a per-eye HTML report, with CSV and JSON beside it."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.anatomy import MEASURES
from antseg.batch.runner import resumable_dir, run_items, sweep_temp_files
from antseg.batch.workers import open_workers
from antseg.biometry.agreement import agreement
from antseg.biometry.dataset import AngleThresholds
from antseg.biometry.units import rounded
from antseg.config import dump_config
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir, atomic_write_text
from antseg.io.meta_tables import read_meta, read_reference
from antseg.io.output_folder import existing_paths
from antseg.io.tables import write_csv, write_json
from antseg.models.model_card import card_summary
from antseg.models.shipped import is_shipped
from antseg.report.eyes import ReportScan, summarise_eyes
from antseg.report.figures import agreement_section
from antseg.report.grouping import scan_eyes
from antseg.report.html import render
from antseg.report.previews import Previews
from antseg.scan.codec import decode_result
from antseg.scan.config import ScanConfig
from antseg.scan.inputs import ScanInput, scan_inputs
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.rows import FROM_MODEL, model_spacing_note, result_row, spacing_columns
from antseg.scan.tasks import MeasureTask, PipelineSpec, model_header, scan_items

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


def synthetic_statement(segmentation: bool, spurs: bool) -> tuple[str, str]:
    """The report's boxed warning, (headline, what to check), for models trained on synthetic data only; ("", "")
    when neither was. A model adapted to the user's scans or trained on labelled real scans is not synthetic-only,
    and the spur model alone decides only the spurs and what is measured from them."""
    if segmentation and spurs:
        return ("Both models were trained on synthetic data only.",
                "They have not been trained on real scans: check every number against the images.")  # fmt: skip
    if segmentation:
        return ("The segmentation model was trained on synthetic data only.",
                "It has not been trained on real scans: check every number against the images.")  # fmt: skip
    if spurs:
        return ("The spur model was trained on synthetic data only.",
                "It has not been trained on real scans: check every spur, and the angle measures and chamber width "
                "taken from them, against the images.")  # fmt: skip
    return "", ""


def _model_description(pipe: ScanPipeline) -> dict:
    m, s = pipe.seg.meta, pipe.spur.meta
    synthetic = bool(m.synthetic or s.synthetic)
    headline, note = synthetic_statement(bool(m.synthetic), bool(s.synthetic))
    if is_shipped(pipe.seg.checkpoint.path) or is_shipped(pipe.spur.checkpoint_path):
        note = f"{note} {card_summary()}"
    return {
        "segmentation": f"{pipe.seg.checkpoint.model['name']} ({pipe.seg.checkpoint.path})",
        "spurs": f"two-stage spur model ({pipe.spur.checkpoint_path}), {_wall_text(pipe.wall_mm)}",
        "spur_wall_mm": pipe.wall_mm,
        "training": f"Trained on '{m.dataset or 'unknown'}' (segmentation) and '{s.dataset or 'unknown'}' (spurs).",
        "synthetic": synthetic,
        "synthetic_headline": headline,
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
    resume: bool = False,
    workers: int = 1,
    cluster: str | None = None,
    log: Callable[[str], None] | None = None,
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
        resume: continue a run that was stopped (or add scans to a finished one): scans already analysed are
            not analysed again; the tables and the page are made from every scan given.
        workers: scans analysed at once, each worker in its own process (:mod:`antseg.batch`); the tables are
            byte-identical to one worker's.
        cluster: the address of a Dask scheduler whose workers analyse the scans (the ``cluster`` extra); the
            per-eye summaries are assembled here from the per-scan results.

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
    if dicom_out is not None and (workers != 1 or cluster is not None or resume):
        raise AntsegInputError(dicom_out, "--dicom-out is written by one process in one run: drop --workers, "
                               "--cluster and --resume")  # fmt: skip
    spec = PipelineSpec.of(weights, spurs, cfg, device, use="report")
    used = existing_paths(inputs, weights, spurs, meta, reference)
    items = scan_items(scans)
    with contextlib.ExitStack() as stack:
        backend = stack.enter_context(open_workers(workers, cluster, spec, pipe))
        job = stack.enter_context(resumable_dir(out, model_header("antseg-report", pipe, cfg), resume, overwrite, used,
                                                log))  # fmt: skip
        writer = _dicom_writer(stack, dicom_out, overwrite, used, pipe)
        eye_of = {f.name: eye for f, (_, eye) in zip(files, eyes_of, strict=True)}
        keep = None if writer is None else lambda f, res: writer.write(_dicom_scan(writer, f, res, eye_of[f.name]))
        task = MeasureTask(spec, ".jpg", keep=keep)
        sweep_temp_files(job.partial / "overlays")
        run = run_items(job, items, task.key, task, backend, progress)
        tmp = job.partial
        found = _results(job, {task.key(it) for it in items})
        results, steps, spacings = [], [], {}
        for s, item, (patient, eye) in zip(scans, items, eyes_of, strict=True):
            res, overlay_s = found[task.key(item)]
            sp = s.spacing or pipe.spacing
            spacings[s.path.name] = _spacing_columns(s, sp, cfg.spacing is not None, show_identifiers)
            results.append(ReportScan(s.path, patient, eye, res))
            steps.append({**res.seconds, "overlay": overlay_s})
        per_scan = run.per_item_s if run.done else float(np.median([sum(s.values()) for s in steps]))
        previews = Previews(tmp / "overlays", files, PREVIEW_WIDTH)
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
        from_model = all(r["spacing_from"] == FROM_MODEL for r in rows)
        note = model_spacing_note(page_spacing) if from_model and page_spacing is not None else ""
        if note and log:
            log(note)
        page = render(eyes, previews, model, page_spacing, timing, agreement_section(agree), spacing_note=note)
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
                    "narrow_status": e.narrow_status,
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
        "run": run,
        "warnings": warnings,
    }


def _results(job, keys: set[str]) -> dict[str, tuple]:
    """key -> (the scan's result without pixels, seconds its overlay took), from the run's journal."""
    out = {}
    for e in job.entries():
        if e["key"] in keys:
            out[e["key"]] = (decode_result(e["result"]), e.get("overlay_s", math.nan))
    return out


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
    cols = spacing_columns(sp, given, s.meta.spacing_from)
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
