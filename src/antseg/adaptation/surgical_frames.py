"""The unlabelled source of a surgical adaptation: frames sampled evenly from videos, folders of frames and frame
files, written once into the run folder (at most ``width`` pixels wide) so that every round, and a resumed run,
reads the same frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from antseg.errors import AntsegInputError
from antseg.inference.inputs import check_unique_names
from antseg.inference.video import VIDEO_SUFFIXES
from antseg.inference.video_reader import VideoReader
from antseg.io.images import IMAGE_SUFFIXES, read_image, write_png

SUFFIXES = IMAGE_SUFFIXES + VIDEO_SUFFIXES


@dataclass(frozen=True)
class Source:
    """A frame file (``frames`` = 1) or a video of ``frames`` frames."""

    path: Path
    video: bool
    frames: int = 1


def _video_frames(path: Path) -> int:
    """Frames of a video: from its header, else counted by decoding it."""
    with VideoReader(path) as r:
        n = r.info.frames or r.info.estimated_frames(0.0, None, 1) or 0
        if n <= 0:
            n = sum(1 for _ in r)
    if n <= 0:
        raise AntsegInputError(path, "has no video frames (a zero-length video)")
    return n


def find_sources(paths: list[Path]) -> list[Source]:
    """Videos and frame files among ``paths`` (folders: their frames and videos, sorted; not recursive).

    Raises:
        AntsegInputError: a path that does not exist, a folder with neither frames nor videos, an unreadable video.
    """
    files: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.is_file() and f.suffix.lower() in SUFFIXES)
            if not found:
                raise AntsegInputError(p, "folder holds no frames (images) or videos")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise AntsegInputError(p, "does not exist")
    check_unique_names(files)
    return [Source(f, True, _video_frames(f)) if f.suffix.lower() in VIDEO_SUFFIXES else Source(f, False)
            for f in files]  # fmt: skip


def _fit(image: np.ndarray, width: int) -> np.ndarray:
    rgb = np.repeat(image[..., None], 3, axis=2) if image.ndim == 2 else image[..., :3]
    h, w = rgb.shape[:2]
    if w <= width:
        return np.ascontiguousarray(rgb)
    return cv2.resize(rgb, (width, max(1, round(h * width / w))), interpolation=cv2.INTER_AREA)


def sample_frames(sources: list[Source], n: int, out: Path, width: int) -> list[dict]:
    """Write at most ``n`` frames, spread evenly over all the sources' frames, into ``out`` as PNG.

    Returns:
        per frame written: {"file": name in ``out``, "source": path, "time_s": seconds into a video or None}.
    """
    out.mkdir(parents=True, exist_ok=True)
    total = sum(s.frames for s in sources)
    picks = list(range(total)) if total <= n else sorted({int(i * total / n) for i in range(n)})
    rows, start = [], 0
    for s in sources:
        wanted = {p - start for p in picks if start <= p < start + s.frames}
        start += s.frames
        if not wanted:
            continue
        if not s.video:
            name = f"{len(rows):04d}_{s.path.stem}.png"
            write_png(out / name, _fit(read_image(s.path), width))
            rows.append({"file": name, "source": str(s.path), "time_s": None})
            continue
        with VideoReader(s.path) as r:
            for f in r:
                if f.index in wanted:
                    name = f"{len(rows):04d}_{s.path.stem}_{f.time_s:09.3f}s.png"
                    write_png(out / name, _fit(f.image, width))
                    rows.append({"file": name, "source": str(s.path), "time_s": round(f.time_s, 3)})
                if f.index >= max(wanted):
                    break
            if r.stopped is not None and not any(row["source"] == str(s.path) for row in rows):
                raise AntsegInputError(s.path, r.stopped.describe())
    return rows
