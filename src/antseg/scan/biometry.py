"""``antseg biometry`` as one call: ground truth of a dataset, predictions on a dataset split (compared with its
ground truth and reference values), or new images measured by the per-scan pipeline."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.anatomy import MEASURES
from antseg.batch.backends import check_workers
from antseg.batch.runner import resumable_dir, run_items, sweep_temp_files
from antseg.batch.workers import open_workers
from antseg.biometry.agreement import agreement
from antseg.biometry.dataset import AngleThresholds, dataset_biometry, read_reference
from antseg.biometry.measure import measure
from antseg.biometry.units import rounded
from antseg.config import dump_config
from antseg.data.canonical import load_dataset
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir
from antseg.io.images import write_png
from antseg.io.output_folder import existing_paths
from antseg.io.tables import columns_of, stream_csv, write_csv, write_json
from antseg.scan.codec import decode_result
from antseg.scan.config import ScanConfig
from antseg.scan.inputs import scan_inputs
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.rows import draw, model_spacing_note, result_row, spacing_columns
from antseg.scan.tasks import MeasureTask, PipelineSpec, model_header, scan_items

KEY = ["acd_mm", "acw_mm", "lv_mm", "aod500_mm_left", "aod500_mm_right", "tisa500_mm2_left", "tisa500_mm2_right"]


def predicted_biometry(
    weights: str | Path, spur_weights: str | Path, dataset: str | Path, out: str | Path, split: str = "test",
    device: str = "auto", thresholds: AngleThresholds | None = None, overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None, spacing: tuple[float, float] | None = None,
    spur_wall_mm: float | None = None, config: ScanConfig | None = None,
) -> dict:  # fmt: skip
    """Measure a dataset split three ways: the reference values (if any), the ground-truth masks and spurs, and
    the models' predictions. Writes ``biometry_predicted.csv``, ``biometry_ground_truth.csv``,
    ``agreement.csv`` (predicted vs reference, and ground truth vs reference), ``biometry.md`` and overlays.

    Args:
        spacing: (x, y) mm per pixel overriding the dataset's own.
        spur_wall_mm: a predicted spur further than this (mm) from the angle wall is moved onto it (None: the
            default, 0.3 mm; 0: off).
        config: the per-scan pipeline's settings (:class:`~antseg.scan.ScanConfig`); ``spur_wall_mm`` overrides
            its own.
    """
    ds = load_dataset(dataset)
    override = spacing
    cases = [c for c in ds.cases if c.split == split or split == "all"]
    if not cases:
        raise AntsegInputError(ds.root, f"no cases in split {split!r}")
    cfg = replace(config or ScanConfig(), spur_wall_mm=spur_wall_mm if spur_wall_mm is not None else
                  (config.spur_wall_mm if config else None))  # fmt: skip
    pipe = ScanPipeline(weights, spur_weights, cfg, device, use="biometry")
    th = thresholds or AngleThresholds()
    ref = read_reference(ds.root / ds.manifest.reference_biometry) if ds.manifest.reference_biometry else {}
    pred_rows, gt_rows = [], []
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(dataset, weights, spur_weights)) as tmp:
        (tmp / "overlays").mkdir()
        for i, c in enumerate(cases):
            spacing = override or ds.spacing(c)
            if spacing is None:
                raise AntsegInputError(ds.root, f"case {c.case_id}: pixel spacing unknown")
            res = pipe.run(ds.load_image(c), name=c.case_id, spacing=spacing)
            pred_rows.append(result_row(res, th, case_id=c.case_id, group=c.group))
            gv, _ = measure(dict(zip(ds.structures, ds.load_masks(c), strict=True)), c.landmarks, spacing)
            gt_rows.append({"case_id": c.case_id, "group": c.group, **{k: rounded(k, x) for k, x in gv.items()}})
            write_png(tmp / "overlays" / f"{c.case_id}.png", draw(res))
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
                   spur_wall_mm: float | None = None, config: ScanConfig | None = None,
                   thresholds: AngleThresholds | None = None, progress: Callable[[int, int], None] | None = None,
                   resume: bool = False, workers: int = 1, cluster: str | None = None,
                   log: Callable[[str], None] | None = None) -> Path:  # fmt: skip
    """Predict then measure new images with the per-scan pipeline; spacing from ``spacing``, else a DICOM's own (a
    DICOM without one is refused), else the segmentation checkpoint's. Writes ``biometry.csv`` (every measure
    with its status), overlays and ``scan_config.yaml``, one scan at a time into a resumable folder.

    ``spur_wall_mm``: a predicted spur further than this (mm) from the angle wall is moved onto it (None: the
    default, 0.3 mm; 0: off). ``resume``, ``workers`` and ``cluster``: as for ``predict``
    (:func:`antseg.scan.predict.predict_paths`).
    """
    cfg = replace(config or ScanConfig(), spacing=spacing or (config.spacing if config else None))
    if spur_wall_mm is not None:
        cfg = replace(cfg, spur_wall_mm=spur_wall_mm)
    scans = scan_inputs(images, cfg.spacing, None)  # a DICOM without spacing is refused before any work
    pipe = ScanPipeline(weights, spur_weights, cfg, device, use="biometry")
    if pipe.spacing is None and any(s.spacing is None for s in scans):
        raise AntsegInputError(None, "pixel spacing unknown: give --spacing")
    spec = PipelineSpec.of(weights, spur_weights, cfg, device, use="biometry")
    task = MeasureTask(spec, ".png")
    items = scan_items(scans)
    used = existing_paths(images, weights, spur_weights)
    th = thresholds or AngleThresholds()
    source = {s.path.name: s.meta.spacing_from for s in scans}
    given = cfg.spacing is not None  # --spacing or the config's
    if pipe.spacing is not None and not given and not any(source.values()) and log:
        log(model_spacing_note(pipe.spacing))
    with open_workers(workers, cluster, spec, pipe) as backend:
        with resumable_dir(out, model_header("antseg-biometry", pipe, cfg), resume, overwrite, used, log) as job:
            sweep_temp_files(job.partial / "overlays")
            run_items(job, items, task.key, task, backend, progress)
            keys = {task.key(it) for it in items}

            def rows():
                for e in job.entries():
                    if e["key"] in keys:
                        res = decode_result(e["result"])
                        yield {**result_row(res, th, image=res.name),
                               **spacing_columns(res.spacing, given, source.get(res.name, ""))}  # fmt: skip

            stream_csv(job.partial / "biometry.csv", rows(), columns_of(rows()), blank_nan=True)
            dump_config(replace(cfg, spacing=pipe.spacing), job.partial / "scan_config.yaml")
    return job.out


def run_biometry(
    out: str | Path,
    images: list[Path] | None = None,
    dataset: str | Path | None = None,
    weights: str | Path | None = None,
    spurs: str | Path | None = None,
    spacing: tuple[float, float] | None = None,
    split: str | None = None,
    thresholds: AngleThresholds | None = None,
    overlays: bool = True,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    spur_wall_mm: float | None = None,
    config: ScanConfig | None = None,
    resume: bool = False,
    workers: int = 1,
    cluster: str | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Measure biometry in mm, choosing the mode from what is given.

    - ``dataset`` only: its ground-truth masks and spurs (all cases, or ``split``).
    - ``weights`` + ``spurs`` + ``dataset``: predictions on ``split`` (default test), against the ground truth
      and the dataset's reference values.
    - ``weights`` + ``spurs`` + ``images``: predictions on new images; with images and neither model given, the
      shipped ``default`` models (trained on synthetic phantoms only).

    Args:
        spacing: (x, y) mm per pixel; overrides the dataset's or the checkpoint's in every mode.
        spur_wall_mm: with models: a predicted spur further than this (mm) from the angle wall the segmentation
            sees is moved onto it (None: 0.3 mm, 0: off; :mod:`antseg.inference.spur_wall`).
        config: with models: the per-scan pipeline's settings (:class:`~antseg.scan.ScanConfig`).
        resume, workers, cluster: images only: continue an interrupted run, process images in N local worker
            processes or on a Dask cluster (:func:`antseg.scan.predict.predict_paths`).

    Returns:
        a summary: ``mode``, ``n_cases`` or ``n_images``, and the mode's tables (``markdown``, ``agreement``).
    """
    spacing = checks.spacing(spacing, "--spacing")
    spur_wall_mm = checks.spur_wall(spur_wall_mm)
    if images and dataset is not None:
        raise AntsegInputError(None, "give images or --dataset, not both: which should be measured?")
    check_workers(workers)
    if not images and (resume or workers != 1 or cluster is not None):
        raise AntsegInputError(None, "--resume, --workers and --cluster are for images; --dataset runs in one process")
    if images and weights is None and spurs is None:
        weights = spurs = "default"  # antseg's shipped models
    if (weights is None) != (spurs is None):
        raise AntsegInputError(None, "predicted biometry needs both --weights and --spurs")
    th = thresholds or AngleThresholds()
    if weights is None:
        if dataset is None:
            raise AntsegInputError(None, "give --dataset (ground truth) or --weights/--spurs with images")
        res = dataset_biometry(dataset, out, spacing=spacing, split=split, thresholds=th, overlays=overlays,
                               overwrite=overwrite, progress=progress)  # fmt: skip
        return {"mode": "ground_truth", **res}
    if images:
        image_biometry(weights, spurs, images, Path(out), spacing, device=device, overwrite=overwrite,
                       spur_wall_mm=spur_wall_mm, config=config, thresholds=th, progress=progress, resume=resume,
                       workers=workers, cluster=cluster, log=log)  # fmt: skip
        return {"mode": "images", "n_images": len(images)}
    if dataset is None:
        raise AntsegInputError(None, "give images or --dataset")
    res = predicted_biometry(weights, spurs, dataset, out, split=split or "test", device=device, thresholds=th,
                             overwrite=overwrite, progress=progress, spacing=spacing,
                             spur_wall_mm=spur_wall_mm, config=config)  # fmt: skip
    return {"mode": "predicted", **res}
