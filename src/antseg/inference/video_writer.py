"""What whole-video prediction writes, frame by frame, from a background thread.

- ``overlay.mp4``: the frames with translucent masks, outlines and the fitted ellipse (H.264, or MPEG-4 when
  this FFmpeg lacks libx264), each frame at its source presentation time, in the source's time base and
  nominal rate; no audio. Odd frame sizes are padded by one pixel (H.264 4:2:0 needs even sides).
- masks, as chosen: ``video``: ``<structure>.mkv`` (lossless 8-bit grey, 0/255, one frame per processed frame:
  H.264 at qp 0, or FFV1 for odd sizes or without libx264); ``png``: ``masks/<structure>/<frame index:06d>.png``
  (0/255); ``none``. They have the frame's size, or at most 4x the network's resolution when the frame is larger
  (``VideoOptions.mask_detail``; e.g. 1024x576 for full-HD frames and a 256-px-wide network).
- ``frames.csv``: one row per processed frame, written as it comes.

The queue in front of the writer thread is bounded: memory stays flat whatever the video's length.
"""

from __future__ import annotations

import csv
import queue
import threading
import time
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np

from antseg.anatomy import default_colour
from antseg.inference.backends import shrink
from antseg.inference.video_measures import Ellipse

MASK_MODES = ("video", "png", "none")
ELLIPSE_COLOUR = (255, 230, 0)
NOTE, NOTE_WARN = (255, 255, 255), (255, 150, 0)


def draw_overlay(
    image: np.ndarray,
    masks: np.ndarray,
    names: list[str],
    ellipses: dict[str, Ellipse | None],
    alpha: float = 0.4,
    notes: list[str] | None = None,
) -> np.ndarray:
    """RGB frame with translucent fills, outlines, fitted ellipses and ``notes`` in its top left corner (a line
    starting "limbus not found", "pupil not found" or "MIOSIS" in orange).

    Masks smaller than the frame (``VideoOptions.mask_detail``) are drawn from their outlines scaled to the
    frame, so nothing is upsampled: 8-bit arithmetic in each structure's box only.
    """
    out = image.copy()
    ih, iw = image.shape[:2]
    thick = max(1, round(max(ih, iw) / 700))
    fx, fy = iw / masks.shape[2], ih / masks.shape[1]
    for k, name in enumerate(names):
        m = masks[k]
        x, y, w, h = cv2.boundingRect(m)
        if w == 0 or h == 0:
            continue
        col = tuple(int(c) for c in default_colour(name, k))
        rings, _ = cv2.findContours(m[y : y + h, x : x + w], cv2.RETR_CCOMP, cv2.CHAIN_APPROX_SIMPLE, offset=(x, y))
        if (fx, fy) != (1.0, 1.0):  # outline points at pixel centres, in frame pixels
            rings = [np.round((r + 0.5) * (fx, fy) - 0.5).astype(np.int32) for r in rings]
        x0, y0, x1, y1 = max(0, int(x * fx) - 1), max(0, int(y * fy) - 1), int((x + w) * fx) + 1, int((y + h) * fy) + 1
        box = np.zeros((min(y1, ih) - y0, min(x1, iw) - x0), np.uint8)
        cv2.fillPoly(box, [r - (x0, y0) for r in rings], 1)  # even-odd: holes stay open
        if (fx, fy) == (1.0, 1.0):
            box &= m[y0 : y0 + box.shape[0], x0 : x0 + box.shape[1]]
        roi = out[y0 : y0 + box.shape[0], x0 : x0 + box.shape[1]]
        blend = cv2.addWeighted(roi, 1 - alpha, np.full_like(roi, col), alpha, 0)
        cv2.copyTo(blend, box, roi)
        cv2.drawContours(out, rings, -1, col, thick, cv2.LINE_AA)
    for e in ellipses.values():
        if e is not None:
            box = ((e.cx, e.cy), (e.major, e.minor), e.angle)
            cv2.ellipse(out, box, ELLIPSE_COLOUR, thick + 1, cv2.LINE_AA)
            cv2.drawMarker(out, (round(e.cx), round(e.cy)), ELLIPSE_COLOUR, cv2.MARKER_CROSS, 6 * thick, thick)
    scale = max(ih, 240) / 900
    for i, note in enumerate(notes or []):
        warn = note.startswith(("limbus not found", "MIOSIS", "pupil not found"))
        org = (round(12 * scale), round((34 + 34 * i) * scale))
        cv2.putText(out, note, org, cv2.FONT_HERSHEY_SIMPLEX, 0.9 * scale, (0, 0, 0), 3 * thick, cv2.LINE_AA)
        cv2.putText(out, note, org, cv2.FONT_HERSHEY_SIMPLEX, 0.9 * scale, NOTE_WARN if warn else NOTE, thick,
                    cv2.LINE_AA)  # fmt: skip
    return out


class _Encoder:
    """One output video stream fed with upright frames and their source pts."""

    def __init__(
        self,
        path: Path,
        codec: str,
        pix_fmt: str,
        size: tuple[int, int],
        time_base: Fraction,
        rate: Fraction | None,
        options: dict[str, str],
    ) -> None:
        import av

        self.av = av
        self.container = av.open(str(path), "w")
        self.stream = self.container.add_stream(codec, rate=rate or Fraction(25), options=options)
        self.stream.width, self.stream.height = size
        self.stream.pix_fmt = pix_fmt
        self.stream.time_base = time_base
        self.stream.codec_context.time_base = time_base
        self.time_base = time_base
        self.last_pts: int | None = None

    def write(self, frame) -> None:
        if self.last_pts is not None and frame.pts <= self.last_pts:  # duplicate pts: keep the order, move it on
            frame.pts = self.last_pts + 1
        self.last_pts = frame.pts
        frame.time_base = self.time_base
        for packet in self.stream.encode(frame):
            self.container.mux(packet)

    def close(self) -> None:
        try:
            for packet in self.stream.encode():
                self.container.mux(packet)
        finally:
            self.container.close()


def _yuv420(rgb: np.ndarray, av):
    """RGB -> an av yuv420p frame (OpenCV's I420, BT.601), padded to even sides."""
    h, w = rgb.shape[:2]
    if h % 2 or w % 2:
        rgb = cv2.copyMakeBorder(rgb, 0, h % 2, 0, w % 2, cv2.BORDER_REPLICATE)
    return av.VideoFrame.from_ndarray(cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420), format="yuv420p")


def _scaled(image: np.ndarray, masks: np.ndarray, ellipses: dict, scale: float):
    """The frame and its ellipses at ``scale`` of the frame's size (the masks are drawn at any size)."""
    h, w = image.shape[:2]
    if scale >= 1:
        return image, masks, ellipses
    sw, sh = max(2, round(w * scale)), max(2, round(h * scale))
    small = shrink(image, (sw, sh))
    small_masks = masks
    fx, fy = sw / w, sh / h
    small_ell = {
        k: None if e is None else Ellipse(e.cx * fx, e.cy * fy, e.major * fx, e.minor * fy, e.angle)
        for k, e in ellipses.items()
    }
    return small, small_masks, small_ell


_STOP = object()


class VideoOutputs:
    """The output folder of one video, written by a background thread (see the module docstring).

    Args:
        folder: where to write (a temporary folder that becomes the output when everything is done).
        structures: mask names, in channel order.
        time_base, rate: the source stream's (kept by the overlay).
        masks: ``video``, ``png`` or ``none``.
        columns: ``frames.csv`` columns.
        overlay_scale: the overlay's size as a fraction of the frame's (drawn on the reduced frame).
    """

    def __init__(
        self,
        folder: Path,
        structures: list[str],
        time_base: Fraction,
        rate: Fraction | None,
        masks: str,
        columns: list[str],
        overlay: bool = True,
        queue_size: int = 8,
        overlay_scale: float = 1.0,
    ) -> None:
        self.folder, self.structures, self.masks_mode = Path(folder), list(structures), masks
        self.time_base, self.rate, self.overlay = time_base, rate, overlay
        self.overlay_scale = float(overlay_scale)
        self._csv_fh = open(self.folder / "frames.csv", "w", encoding="utf-8", newline="")  # noqa: SIM115
        self._csv = csv.DictWriter(self._csv_fh, fieldnames=columns, lineterminator="\n", restval="")
        self._csv.writeheader()
        self._encoders: dict[str, _Encoder] = {}
        self.written = 0
        self.write_s = 0.0
        self.error: BaseException | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._thread = threading.Thread(target=self._run, name="antseg-write", daemon=True)
        self._thread.start()

    def put(
        self,
        index: int,
        pts: int | None,
        image: np.ndarray,
        masks: np.ndarray,
        row: dict,
        ellipses: dict[str, Ellipse | None],
        notes: list[str] | None = None,
    ) -> None:
        """Queue one processed frame (blocks while the writer is behind); raises the writer's error."""
        while True:
            if self.error is not None:
                raise self.error
            try:
                self._queue.put((index, pts, image, masks, row, ellipses, notes), timeout=0.1)
                return
            except queue.Full:
                continue

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is _STOP:
                return
            if self.error is not None:
                continue
            try:
                t0 = time.perf_counter()
                self._write(*item)
                self.write_s += time.perf_counter() - t0
            except BaseException as exc:  # noqa: BLE001  reported to the producer by put() / close()
                self.error = exc

    def _encoder(self, key: str, path: Path, codec: str, pix_fmt: str, size: tuple[int, int], opts: dict):
        if key not in self._encoders:
            self._encoders[key] = _Encoder(path, codec, pix_fmt, size, self.time_base, self.rate, opts)
        return self._encoders[key]

    def _write(self, index, pts, image, masks, row, ellipses, notes) -> None:
        import av

        h, w = masks.shape[1:]  # the masks' size (at most the frame's)
        pts = index if pts is None else pts
        if self.overlay:
            x264 = "libx264" in av.codecs_available
            small, small_masks, small_ell = _scaled(image, masks, ellipses, self.overlay_scale)
            sh, sw = small.shape[:2]
            enc = self._encoder(
                "overlay",
                self.folder / "overlay.mp4",
                "libx264" if x264 else "mpeg4",
                "yuv420p",
                (sw + sw % 2, sh + sh % 2),
                {"preset": "ultrafast", "crf": "23", "threads": "2"} if x264 else {},
            )
            frame = _yuv420(draw_overlay(small, small_masks, self.structures, small_ell, notes=notes), av)
            frame.pts = pts
            enc.write(frame)
        for k, name in enumerate(self.structures):
            m = masks[k] * np.uint8(255)
            if self.masks_mode == "video":
                x264 = "libx264" in av.codecs_available and not (w % 2 or h % 2)
                codec, opts = ("libx264", {"qp": "0", "preset": "ultrafast"}) if x264 else ("ffv1", {})
                enc = self._encoder(name, self.folder / f"{name}.mkv", codec, "gray", (w, h), opts)
                frame = av.VideoFrame.from_ndarray(m, format="gray")
                frame.pts = pts
                enc.write(frame)
            elif self.masks_mode == "png":
                d = self.folder / "masks" / name
                d.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(d / f"{index:06d}.png"), m, [cv2.IMWRITE_PNG_COMPRESSION, 1])
        self._csv.writerow(row)
        self.written += 1

    def close(self) -> None:
        """Finish every file (encoders flushed, so a video that stopped early still plays); raises the writer's
        error, if any."""
        self._queue.put(_STOP)
        self._thread.join()
        errors = [self.error] if self.error is not None else []
        for enc in self._encoders.values():
            try:
                enc.close()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        self._csv_fh.close()
        if errors:
            raise errors[0]
