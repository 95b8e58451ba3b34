"""``antseg predict``: images, folders, and a video at a timestamp."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.inference.outputs import area_rows, write_prediction
from antseg.inference.predictor import Predictor
from antseg.inference.video import VIDEO_SUFFIXES, read_frame_at
from antseg.io.atomic import atomic_dir
from antseg.io.images import IMAGE_SUFFIXES, read_image


def collect_inputs(inputs: list[Path]) -> list[Path]:
    """Image files from files and folders (folders: their images, sorted; not recursive)."""
    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise AntsegInputError(p, "folder holds no images")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise AntsegInputError(p, "does not exist")
    return files


def predict_paths(
    weights: str | Path,
    inputs: list[Path],
    out: Path,
    timestamp: float | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Segment images/folders, or one video frame at ``timestamp`` seconds, into ``out``.

    Images: ``out/<stem>/<structure>.png`` + ``overlay.png`` each, and ``out/areas.csv``.
    Video: ``out/original.png``, ``out/<structure>.png``, ``out/overlay.png`` (the reference layout).
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
    pred = Predictor(weights, device)
    rows: list[dict] = []
    with atomic_dir(out, overwrite=overwrite) as tmp:
        for i, f in enumerate(files):
            img = read_image(f, grayscale=int(pred.meta["in_channels"]) == 1)
            masks = pred.predict(img).masks
            write_prediction(tmp / f.stem, img, masks, pred.structures)
            rows += area_rows(f.name, masks, pred.structures, pred.spacing)
            if progress:
                progress(i + 1, len(files))
        _write_areas(tmp, rows)
    return out


def _write_areas(folder: Path, rows: list[dict]) -> None:
    with open(folder / "areas.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["image", "structure", "area_px", "area_mm2"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
