"""``antseg predict``: images, folders, and a video at a timestamp.

Images are predicted one at a time into a resumable output folder (:class:`~antseg.io.resumable.ResumableDir`):
memory stays flat however many there are, a crash keeps every finished image, and ``resume=True`` skips them.
AS-OCT scans go through the per-scan pipeline (:class:`~antseg.scan.ScanPipeline`: the same masks and spurs as
``biometry`` and ``report``); images for other models (surgical frames) through the model alone.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from antseg import checks
from antseg.anatomy import ANTERIOR_CHAMBER
from antseg.batch.runner import resumable_dir, run_items
from antseg.batch.workers import open_workers
from antseg.config import config_to_dict
from antseg.errors import AntsegInputError
from antseg.inference.inputs import check_video_input, collect_inputs
from antseg.inference.onnx_predictor import load_predictor
from antseg.inference.outputs import area_rows, write_prediction
from antseg.inference.video import VIDEO_SUFFIXES, read_frame_at
from antseg.inference.video_stream import VideoOptions, predict_video_input, resolve_video_weights
from antseg.io.atomic import atomic_dir
from antseg.io.dicom_read import is_dicom
from antseg.io.digest import file_sha256
from antseg.io.output_folder import existing_paths
from antseg.io.resumable import ResumableDir
from antseg.io.tables import stream_csv, stream_json_list, write_csv
from antseg.models.checkpoint import require_modality
from antseg.scan.config import ScanConfig
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.rows import model_spacing_note
from antseg.scan.tasks import PipelineSpec, PredictTask, ScanItem

SPUR_COLUMNS = [
    "image", "landmark", "x", "y", "confidence", "visible", "moved_mm", "off_wall_mm", "from_angle_mm", "model_x",
    "model_y", "mirror_mm",
]  # fmt: skip
QUALITY_COLUMNS = ["image", "in_domain", "warnings", "repairs"]
AREA_COLUMNS = ["image", "structure", "area_px", "area_mm2"]


def predict_paths(
    weights: str | Path | None,
    inputs: list[Path],
    out: Path,
    timestamp: float | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    spurs: str | Path | None = None,
    resume: bool = False,
    log: Callable[[str], None] | None = None,
    video: VideoOptions | None = None,
    spur_wall_mm: float | None = None,
    config: ScanConfig | None = None,
    workers: int = 1,
    cluster: str | None = None,
) -> Path:
    """Segment images/folders, or one video frame at ``timestamp`` seconds, into ``out``.

    Images: ``out/<stem>/<structure>.png`` + ``overlay.png`` each, and ``out/areas.csv``.
    Video: ``out/original.png``, ``out/<structure>.png``, ``out/overlay.png`` (the reference layout).
    With ``spurs`` (a spur model), also ``spurs.csv`` / ``spurs.json`` (original pixels) and the spurs
    drawn on each overlay. ``weights`` may be None when only spurs are wanted.

    Args:
        resume: continue an interrupted run into ``out`` (or add new images to a finished one), skipping
            the images already done.
        log: receives one-line notes (how many images a resumed run skips).
        video: whole-video settings; one video without ``timestamp`` is segmented whole (``video_stream``).
        spur_wall_mm: with both models: a spur further than this (mm, at the segmentation checkpoint's spacing)
            from the angle wall is moved onto it (None: 0.3 mm, 0: off; :mod:`antseg.inference.spur_wall`);
            ``spurs.csv`` says how far in ``moved_mm`` (empty when not checked; ``off_wall_mm``: too far from the
            wall to move, left where it was), ``from_angle_mm`` how far it lies from where the chamber ends on its
            side, and where the spur model put it (``model_x``, ``model_y``).
        config: the per-scan pipeline's settings for AS-OCT scans (mirror pass, repairs); ``spur_wall_mm``
            overrides its own. AS-OCT runs also write ``quality.csv`` (out-of-domain scans, warnings, repairs).
        workers: images at once, each in its own process (:mod:`antseg.batch`); the tables are the same as with 1.
        cluster: the address of a Dask scheduler whose workers process the images (the ``cluster`` extra).
    """
    inputs = [Path(p) for p in inputs]
    out = Path(out)
    if (workers != 1 or cluster is not None) and (timestamp is not None or video is not None or (
            len(inputs) == 1 and inputs[0].suffix.lower() in VIDEO_SUFFIXES)):  # fmt: skip
        raise AntsegInputError(None, "--workers and --cluster are for images; a video runs in one process")
    if video is not None or (timestamp is None and len(inputs) == 1 and inputs[0].suffix.lower() in VIDEO_SUFFIXES):
        return predict_video_input(weights, inputs, out, timestamp, video, device, overwrite, progress, resume, log)
    if timestamp is not None:
        if resume:
            raise AntsegInputError(None, "--resume is for images; a video frame is one output")
        return _predict_video(weights, inputs, out, timestamp, device, overwrite)
    videos = [p for p in inputs if p.suffix.lower() in VIDEO_SUFFIXES]
    if videos:
        raise AntsegInputError(videos[0], "is a video: give --timestamp SECONDS")
    files = collect_inputs(inputs)  # each name once: outputs are named by the stem
    if weights is None and spurs is None:
        raise AntsegInputError(None, "give segmentation weights, --spurs, or both")
    spur_wall_mm = checks.spur_wall(spur_wall_mm)
    cfg = config or ScanConfig()
    if spur_wall_mm is not None:
        cfg = replace(cfg, spur_wall_mm=spur_wall_mm)
    pred = load_predictor(weights, device) if weights is not None else None
    asoct = pred is None or ANTERIOR_CHAMBER in pred.structures
    pipe = ScanPipeline(pred, spurs, cfg, device) if asoct else None
    if spurs is not None and pipe is None:
        raise AntsegInputError(spurs, "spurs are found on AS-OCT scans; this segmentation model has no chamber")
    header = {
        "kind": "antseg-predict",
        "weights": None if pred is None else str(pred.checkpoint.path.resolve()),
        "spurs": None if pipe is None or pipe.spur is None else str(pipe.spur.checkpoint_path.resolve()),
        "spur_wall_mm": spur_wall_mm,
        "scan_config": None if pipe is None else config_to_dict(cfg),
        # the models by content: a model retrained at the same path must not add rows to the earlier model's
        "weights_sha256": None if pred is None else file_sha256(pred.checkpoint.path),
        "spurs_sha256": None if pipe is None or pipe.spur is None else file_sha256(pipe.spur.checkpoint_path),
    }
    spec = PipelineSpec.of(weights, spurs, cfg, device, asoct=pipe is not None)
    task = PredictTask(spec, cfg.spacing)
    items = [ScanItem(os.path.abspath(f)) for f in files]
    used = existing_paths(inputs, weights, spurs)
    with open_workers(workers, cluster, spec, pipe if pipe is not None else pred) as backend:
        with resumable_dir(out, header, resume, overwrite, used, log, unit="images") as job:
            if job.done and log:
                log(f"resuming: {sum(f.stem in job.done for f in files)} of {len(files)} images are already done")
            if pipe is not None and cfg.spacing is None and pipe.spacing is not None and log:
                if not any(is_dicom(f) for f in files):  # only DICOM files carry a spacing
                    log(model_spacing_note(pipe.spacing))
            run_items(job, items, lambda it: it.stem, task, backend, progress)
            _write_tables(job, pred is not None, pipe is not None and pipe.spur is not None, pipe is not None)
    return job.out


def _rows(job: ResumableDir, key: str) -> Iterator[dict]:
    for entry in job.entries():
        yield from entry.get(key, [])


def _write_tables(job: ResumableDir, areas: bool, spurs: bool, quality: bool = False) -> None:
    """``areas.csv``, ``spurs.csv`` / ``spurs.json`` and ``quality.csv`` from the journal, streamed (memory stays
    flat)."""
    if areas:
        stream_csv(job.partial / "areas.csv", _rows(job, "areas"), AREA_COLUMNS)
    if spurs:
        stream_csv(job.partial / "spurs.csv", _rows(job, "spurs"), SPUR_COLUMNS, blank_nan=True)
        stream_json_list(job.partial / "spurs.json", _rows(job, "spurs"))
    if quality:
        stream_csv(job.partial / "quality.csv", _rows(job, "quality"), QUALITY_COLUMNS)


def _predict_video(
    weights: str | Path | None, inputs: list[Path], out: Path, timestamp: float, device: str, overwrite: bool
) -> Path:
    """The frame on screen at ``timestamp`` seconds: ``original.png``, one mask per structure, the overlay."""
    t = checks.timestamp(timestamp)
    if len(inputs) != 1:
        raise AntsegInputError(None, "--timestamp takes exactly one video")
    if weights is None:
        raise AntsegInputError(None, "a video frame needs segmentation weights")
    video = check_video_input(inputs[0])
    frame = read_frame_at(video, t)
    weights = resolve_video_weights(weights)  # ``default``: the surgical model
    pred = load_predictor(weights, device)
    require_modality(pred.meta, pred.checkpoint.path, "surgical", "video segmentation")
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(video, weights)) as tmp:
        masks = pred.predict(frame).masks
        write_prediction(tmp, frame, masks, pred.structures, write_original=True)
        write_csv(tmp / "areas.csv", area_rows(f"{video.name}@{t:g}s", masks, pred.structures, None), AREA_COLUMNS)
    return out
