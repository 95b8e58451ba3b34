"""Whole-video prediction scored against a surgical phantom video: Dice per frame against the exact cornea
polygons, jitter of the measures between frames, and the centroid's error (lag) against the truth.

Used by the demo and ``benchmarks/bench_video.py``; the phantom video is rendered here together with its
per-frame truth (the same frames :func:`antseg.data.phantom.surgical.write_video` writes).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from antseg.metrics.segmentation import dice_iou


@dataclass
class PhantomVideo:
    """A phantom mp4 and its truth: the cornea polygon ((K, 2) int px) of every frame, frame k at k / fps s."""

    path: Path
    size: tuple[int, int]  # (width, height)
    fps: int
    polygons: list[np.ndarray]

    def mask(self, k: int) -> np.ndarray:
        """The exact cornea mask of frame ``k``, (H, W) uint8 {0, 1} (the importer's rasterisation)."""
        m = np.zeros((self.size[1], self.size[0]), np.uint8)
        cv2.fillPoly(m, [self.polygons[k].reshape(-1, 1, 2)], 1)
        return m

    def centroid(self, k: int) -> tuple[float, float]:
        mo = cv2.moments(self.mask(k), binaryImage=True)
        return mo["m10"] / mo["m00"], mo["m01"] / mo["m00"]


def phantom_video(
    path: str | Path,
    seed: int,
    seconds: float,
    fps: int = 25,
    size: tuple[int, int] = (1024, 768),
    drift: float = 1.0,
    jitter: float = 1.0,
    speed: float = 1.0,
) -> PhantomVideo:
    """Render a surgical phantom video of an eye drawn from ``seed`` and keep its per-frame cornea polygons.

    Args:
        drift, jitter, speed: the eye's motion (``drift=jitter=0``: a static eye, for measuring jitter).
    """
    from antseg.data.phantom.surgical import Scene, sample_view, write_video

    w, h = size
    scene = Scene(sample_view(np.random.default_rng([seed, 1]), w, h), w, h)
    polygons: list[np.ndarray] = []
    write_video(
        path,
        scene,
        seconds,
        fps,
        seed,
        on_frame=lambda k, fr: polygons.append(fr.polygons["Cornea"][0]),  # one limbus polygon per frame
        drift=drift,
        jitter=jitter,
        speed=speed,
    )
    return PhantomVideo(Path(path), (w, h), fps, polygons)


def read_mask_video(path: str | Path):
    """Yield the (H, W) uint8 {0, 1} masks of a ``<structure>.mkv`` written by whole-video prediction."""
    import av

    with av.open(str(path)) as c:
        for frame in c.decode(c.streams.video[0]):
            yield (frame.to_ndarray(format="gray") > 127).astype(np.uint8)


def read_frames_csv(path: str | Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def video_dice(out: str | Path, truth: PhantomVideo, structure: str = "cornea") -> dict[str, float]:
    """Dice of every predicted frame (``out/<structure>.mkv`` and ``frames.csv``) against the exact masks."""
    out = Path(out)
    rows = read_frames_csv(out / "frames.csv")
    dice = []
    for row, pred in zip(rows, read_mask_video(out / f"{structure}.mkv"), strict=True):
        dice.append(dice_iou(pred, truth.mask(int(row["frame"])))[0])
    d = np.array(dice)
    return {"frames": len(d), "dice_mean": float(d.mean()), "dice_min": float(d.min())}


def _col(rows: list[dict], key: str) -> np.ndarray:
    return np.array([float(r[key]) if r.get(key) else np.nan for r in rows])


def jitter_stats(frames_csv: str | Path, structure: str = "cornea") -> dict[str, float]:
    """Frame-to-frame change of the measures (meaningful on a static eye): RMS centroid step (px), mean
    |area change| (% of the area), mean |ellipse axis change| (px) and |centre change| of the ellipse (px)."""
    rows = read_frames_csv(frames_csv)
    s = structure
    cx, cy, area = _col(rows, f"{s}_centroid_x"), _col(rows, f"{s}_centroid_y"), _col(rows, f"{s}_area_px")
    ex, ey = _col(rows, f"{s}_ellipse_cx"), _col(rows, f"{s}_ellipse_cy")
    major, minor = _col(rows, f"{s}_ellipse_major_px"), _col(rows, f"{s}_ellipse_minor_px")
    step = np.hypot(np.diff(cx), np.diff(cy))
    return {
        "centroid_step_rms_px": float(np.sqrt(np.nanmean(step**2))),
        "area_change_pct": float(np.nanmean(np.abs(np.diff(area)) / area[1:]) * 100),
        "ellipse_centre_step_rms_px": float(np.sqrt(np.nanmean(np.diff(ex) ** 2 + np.diff(ey) ** 2))),
        "ellipse_axes_change_px": float(np.nanmean((np.abs(np.diff(major)) + np.abs(np.diff(minor))) / 2)),
    }


def centroid_error(frames_csv: str | Path, truth: PhantomVideo, structure: str = "cornea") -> dict[str, float]:
    """Mean and 95th-percentile distance (px) of the predicted centroid from the exact one: grows when a
    smoother lags real motion."""
    rows = read_frames_csv(frames_csv)
    err = []
    for r in rows:
        if r.get(f"{structure}_centroid_x"):
            tx, ty = truth.centroid(int(r["frame"]))
            err.append(np.hypot(float(r[f"{structure}_centroid_x"]) - tx, float(r[f"{structure}_centroid_y"]) - ty))
    e = np.array(err)
    return {"centroid_error_mean_px": float(e.mean()), "centroid_error_p95_px": float(np.percentile(e, 95))}
