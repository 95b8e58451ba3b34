"""``antseg predict``: images, folders, and a video at a timestamp.

Images are predicted one at a time into a resumable output folder (:class:`~antseg.io.resumable.ResumableDir`):
memory stays flat however many there are, a crash keeps every finished image, and ``resume=True`` skips them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.errors import AntsegInputError
from antseg.inference.inputs import check_video_input, collect_inputs
from antseg.inference.onnx_predictor import load_predictor
from antseg.inference.outputs import area_rows, write_prediction
from antseg.inference.predictor import Predictor
from antseg.inference.spur_wall import constrain_spurs
from antseg.inference.spurs import SpurPredictor
from antseg.inference.video import VIDEO_SUFFIXES, read_frame_at
from antseg.inference.video_stream import VideoOptions, predict_video_input, resolve_video_weights
from antseg.io.atomic import atomic_dir
from antseg.io.images import read_image
from antseg.io.output_folder import existing_paths
from antseg.io.resumable import ResumableDir
from antseg.io.tables import stream_csv, stream_json_list, write_csv

SPUR_COLUMNS = ["image", "landmark", "x", "y", "confidence", "visible", "moved_mm", "model_x", "model_y"]
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
            ``spurs.csv`` says how far in ``moved_mm`` (empty when not checked) and where the spur model put it
            (``model_x``, ``model_y``).
    """
    inputs = [Path(p) for p in inputs]
    out = Path(out)
    if video is not None or (timestamp is None and len(inputs) == 1 and inputs[0].suffix.lower() in VIDEO_SUFFIXES):
        return predict_video_input(weights, inputs, out, timestamp, video, device, overwrite, progress, resume, log)
    if timestamp is not None:
        if resume:
            raise AntsegInputError(None, "--resume is for images; a video frame is one output")
        return _predict_video(weights, inputs, out, timestamp, device, overwrite)
    videos = [p for p in inputs if p.suffix.lower() in VIDEO_SUFFIXES]
    if videos:
        raise AntsegInputError(videos[0], "is a video: give --timestamp SECONDS")
    files = collect_inputs(inputs)
    _check_unique_stems(files)
    if weights is None and spurs is None:
        raise AntsegInputError(None, "give segmentation weights, --spurs, or both")
    spur_wall_mm = checks.spur_wall(spur_wall_mm)
    pred = load_predictor(weights, device) if weights is not None else None
    sp = SpurPredictor(spurs, device) if spurs is not None else None
    header = {
        "kind": "antseg-predict",
        "weights": None if pred is None else str(pred.checkpoint.path.resolve()),
        "spurs": None if sp is None else str(Path(spurs).resolve()),
        "spur_wall_mm": spur_wall_mm,
    }
    job = ResumableDir(out, header, resume=resume, overwrite=overwrite, inputs=existing_paths(inputs, weights, spurs))
    try:
        if job.done and log:
            log(f"resuming: {sum(f.stem in job.done for f in files)} of {len(files)} images are already done")
        for i, f in enumerate(files):
            if f.stem not in job.done:
                _predict_one(job, f, pred, sp, spur_wall_mm)
            if progress:
                progress(i + 1, len(files))
        _write_tables(job, pred is not None, sp is not None)
    except AntsegInputError as exc:
        if job.abandon():
            kept = f"{len(job.done)} finished images are kept: fix it and run again with --resume"
            raise AntsegInputError(exc.path, f"{exc.problem} ({kept})") from None
        raise
    except BaseException:
        if job.abandon() and log:
            log(f"stopped after {len(job.done)} images; run the same command with --resume to continue")
        raise
    return job.finish()


def _check_unique_stems(files: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for f in files:
        if f.stem in seen:
            raise AntsegInputError(f, f"has the same name as {seen[f.stem]}; their outputs would collide")
        seen[f.stem] = f


def _predict_one(
    job: ResumableDir, f: Path, pred: Predictor | None, sp: SpurPredictor | None, spur_wall_mm: float | None
) -> None:
    """Predict one image into its own folder, then record it (with its table rows) in the journal."""
    img = read_image(f, grayscale=pred is None or pred.grayscale)
    names = pred.structures if pred else []
    masks = pred.predict(img).masks if pred else np.zeros((0, *img.shape[:2]), np.uint8)
    points = sp.predict(img) if sp else {}
    if points and pred is not None:
        points = constrain_spurs(points, dict(zip(names, masks, strict=True)), pred.spacing, spur_wall_mm)
    with job.item(f.stem) as tmp:
        write_prediction(tmp, img, masks, names, spurs=points)
    areas = area_rows(f.name, masks, names, pred.spacing if pred else None)
    spur_rows = [{"image": f.name, "landmark": n, **v} for n, v in points.items()]
    job.record(f.stem, {"areas": areas, "spurs": spur_rows})


def _rows(job: ResumableDir, key: str) -> Iterator[dict]:
    for entry in job.entries():
        yield from entry.get(key, [])


def _write_tables(job: ResumableDir, areas: bool, spurs: bool) -> None:
    """``areas.csv`` and ``spurs.csv`` / ``spurs.json`` from the journal, streamed (memory stays flat)."""
    if areas:
        stream_csv(job.partial / "areas.csv", _rows(job, "areas"), AREA_COLUMNS)
    if spurs:
        stream_csv(job.partial / "spurs.csv", _rows(job, "spurs"), SPUR_COLUMNS, blank_nan=True)
        stream_json_list(job.partial / "spurs.json", _rows(job, "spurs"))


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
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(video, weights)) as tmp:
        masks = pred.predict(frame).masks
        write_prediction(tmp, frame, masks, pred.structures, write_original=True)
        write_csv(tmp / "areas.csv", area_rows(f"{video.name}@{t:g}s", masks, pred.structures, None), AREA_COLUMNS)
    return out
