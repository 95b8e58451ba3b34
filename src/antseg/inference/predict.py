"""``antseg predict``: images, folders, and a video at a timestamp."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from antseg.errors import AntsegInputError
from antseg.inference.inputs import collect_inputs
from antseg.inference.outputs import area_rows, write_prediction
from antseg.inference.predictor import Predictor
from antseg.inference.spurs import SpurPredictor
from antseg.inference.video import VIDEO_SUFFIXES, read_frame_at
from antseg.io.atomic import atomic_dir
from antseg.io.images import read_image
from antseg.io.tables import write_csv, write_json


def predict_paths(
    weights: str | Path | None,
    inputs: list[Path],
    out: Path,
    timestamp: float | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    spurs: str | Path | None = None,
) -> Path:
    """Segment images/folders, or one video frame at ``timestamp`` seconds, into ``out``.

    Images: ``out/<stem>/<structure>.png`` + ``overlay.png`` each, and ``out/areas.csv``.
    Video: ``out/original.png``, ``out/<structure>.png``, ``out/overlay.png`` (the reference layout).
    With ``spurs`` (a spur model), also ``spurs.csv`` / ``spurs.json`` (original pixels) and the spurs
    drawn on each overlay. ``weights`` may be None when only spurs are wanted.
    """
    inputs = [Path(p) for p in inputs]
    videos = [p for p in inputs if p.suffix.lower() in VIDEO_SUFFIXES]
    if timestamp is not None:
        if len(inputs) != 1:
            raise AntsegInputError(None, "--timestamp takes exactly one video")
        frame = read_frame_at(inputs[0], timestamp)
        pred = Predictor(weights, device)
        with atomic_dir(out, overwrite=overwrite) as tmp:
            masks = pred.predict(frame).masks
            write_prediction(tmp, frame, masks, pred.structures, write_original=True)
            _write_areas(tmp, area_rows(f"{inputs[0].name}@{timestamp:g}s", masks, pred.structures, None))
        return out
    if videos:
        raise AntsegInputError(videos[0], "is a video: give --timestamp SECONDS")
    files = collect_inputs(inputs)
    stems = [f.stem for f in files]
    if len(set(stems)) != len(stems):
        dup = next(s for s in stems if stems.count(s) > 1)
        raise AntsegInputError(None, f"two inputs share the name {dup!r}; outputs would collide")
    if weights is None and spurs is None:
        raise AntsegInputError(None, "give segmentation weights, --spurs, or both")
    pred = Predictor(weights, device) if weights is not None else None
    sp = SpurPredictor(spurs, device) if spurs is not None else None
    rows: list[dict] = []
    spur_rows: list[dict] = []
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for i, f in enumerate(files):
            grey = pred is None or pred.grayscale
            img = read_image(f, grayscale=grey)
            names = pred.structures if pred else []
            masks = pred.predict(img).masks if pred else np.zeros((0, *img.shape[:2]), np.uint8)
            points = sp.predict(img) if sp else {}
            write_prediction(tmp / f.stem, img, masks, names, spurs=points)
            rows += area_rows(f.name, masks, names, pred.spacing if pred else None)
            spur_rows += [{"image": f.name, "landmark": n, **v} for n, v in points.items()]
            if progress:
                progress(i + 1, len(files))
        if pred:
            _write_areas(tmp, rows)
        if sp:
            _write_spurs(tmp, spur_rows)
    return out


SPUR_COLUMNS = ["image", "landmark", "x", "y", "confidence", "visible"]
AREA_COLUMNS = ["image", "structure", "area_px", "area_mm2"]


def _write_spurs(folder: Path, rows: list[dict]) -> None:
    write_csv(folder / "spurs.csv", rows, SPUR_COLUMNS)
    write_json(folder / "spurs.json", rows)


def _write_areas(folder: Path, rows: list[dict]) -> None:
    write_csv(folder / "areas.csv", rows, AREA_COLUMNS)
