"""Whole-video prediction: decode (background thread) -> batched inference -> measures -> write (background
thread), streaming, so memory stays flat whatever the video's length.

``predict_video(weights, video, out)`` writes into ``out`` (atomically: a temporary folder renamed at the end):
``overlay.mp4``, the masks (``--masks video|png|none``), ``frames.csv`` (one row per processed frame: index,
pts, time, and per structure presence, confidence, area, centroid, equivalent diameter, fitted ellipse) and
``summary.json``. ``weights`` is a run folder, a checkpoint, an exported ``.onnx`` file (ONNX Runtime), or
``default``: the shipped surgical model (its ONNX twin when ONNX Runtime is installed).

A surgical model (with a ``cornea`` channel) also gets the limbus checked frame by frame, the clinical columns,
``pupil.png`` and a verdict on the whole video (:mod:`antseg.inference.video_surgical`).

Bad input (not a video, no video stream, no frames, ``--start`` past the end) is a one-line error and writes
nothing. A video that breaks part-way keeps the frames done: the outputs are finished and kept, and the error
says where decoding stopped.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.errors import AntsegInputError
from antseg.inference.backends import (
    Backend,
    canvas_hw,
    logits_to_masks,
    open_backend,
    prepare_frame,
    video_threads,
)
from antseg.inference.temporal import MeasureSmoother, SmoothConfig
from antseg.inference.video_clinical import ClinicalConfig
from antseg.inference.video_measures import frame_columns, frame_row, measure_mask
from antseg.inference.video_reader import DecodedFrame, StopInfo, VideoReader
from antseg.inference.video_surgical import CONVEX, SurgicalAnalysis, SurgicalSettings, applies_to
from antseg.inference.video_trust import Calibration
from antseg.inference.video_writer import MASK_MODES, VideoOutputs
from antseg.io.atomic import atomic_dir
from antseg.io.output_folder import existing_paths
from antseg.models.checkpoint import require_modality
from antseg.models.shipped import (
    SURGICAL_FILE,
    SURGICAL_ONNX,
    is_default,
    is_shipped,
    surgical_card,
    surgical_checkpoint,
)


@dataclass
class VideoOptions:
    """Whole-video settings.

    Attributes:
        start, end: seconds from the video's start; frames with ``start <= t < end`` are processed.
        every: process every N-th frame of that range.
        smooth: smooth the measures (centroid, area, ellipse) over time (:mod:`antseg.inference.temporal`).
        masks: ``video`` (lossless ``<structure>.mkv``), ``png`` (one PNG per frame) or ``none``.
        overlay: write ``overlay.mp4``.
        batch: frames per network call (0: 1 on a CPU, where larger batches measured slower, 8 on a GPU).
        threads: CPU threads for the network (0: all cores but one, :func:`~antseg.inference.backends.video_threads`).
        spacing: (x, y) mm per pixel for the mm columns; None: the model's spacing, if it has one. A surgical
            model without one takes its scale from the limbus (``white_to_white_mm``).
        overlay_scale: the overlay video's size as a fraction of the frame's (1: full size; 0.5 halves each side,
            a quarter of the writing time).
        white_to_white_mm: the limbus diameter assumed as the scale of the pupil's mm when there is no spacing.
        mask_detail: masks (and the measures taken on them) at most this many times the network's resolution
            when the frame is larger (0: at the frame's size). The logits hold no finer detail; smaller masks are
            cheaper to measure, draw and write (full-HD and a 256-px-wide network: 1024x576).
    """

    start: float = 0.0
    end: float | None = None
    every: int = 1
    smooth: bool = False
    masks: str = "video"
    overlay: bool = True
    batch: int = 0
    threads: int = 0
    spacing: tuple[float, float] | None = None
    overlay_scale: float = 1.0
    white_to_white_mm: float = 11.7
    mask_detail: float = 4.0
    smooth_config: SmoothConfig = field(default_factory=SmoothConfig)

    def checked(self) -> VideoOptions:
        self.start = checks.timestamp(self.start, "--start")
        if self.end is not None:
            self.end = checks.timestamp(self.end, "--end")
            if self.end <= self.start:
                raise AntsegInputError(None, f"--end {self.end:g} s must be after --start {self.start:g} s")
        self.every = checks.integer(self.every, "--every", minimum=1)
        self.batch = checks.integer(self.batch, "batch", minimum=0)
        self.threads = checks.integer(self.threads, "threads", minimum=0)
        checks.choice(self.masks, "--masks", MASK_MODES)
        self.spacing = checks.spacing(self.spacing)
        self.overlay_scale = checks.number(self.overlay_scale, "--overlay-scale", minimum=0.05, maximum=1.0)
        self.white_to_white_mm = checks.positive(self.white_to_white_mm, "--white-to-white")
        self.mask_detail = checks.number(self.mask_detail, "mask_detail", minimum=0.0)
        return self


@dataclass
class VideoResult:
    """What a run did: frames written, wall time and frames/s, time per stage (ms per frame), and where a
    broken video stopped (None when it was read to the end of the range)."""

    out: Path
    frames: int
    seconds: float
    fps: float
    stage_ms: dict[str, float]
    backend: str
    stopped: StopInfo | None = None
    surgical: dict | None = None  # the surgical block of summary.json (limbus found, pupil, alerts, warnings)
    cpu_ms: float = 0.0  # CPU time of the whole process per frame, every thread (the cost on a shared machine)

    @property
    def warnings(self) -> list[str]:
        return list((self.surgical or {}).get("warnings", []))


class _Canvas:
    """The network input of a batch, sized for the frames' shape (made again if a frame's shape changes)."""

    def __init__(self, backend: Backend, batch: int) -> None:
        self.backend, self.batch, self.src_hw, self.array = backend, batch, None, np.zeros(0, np.float32)

    def __call__(self, frames: list[DecodedFrame]) -> np.ndarray:
        src = frames[0].image.shape[:2]
        if any(f.image.shape[:2] != src for f in frames):
            raise AntsegInputError(None, "the video's frames change size within one batch: use batch 1")
        if src != self.src_hw:
            meta = self.backend.meta
            h, w = canvas_hw(src, meta, self.backend.size_multiple)
            self.array = np.zeros((self.batch, int(meta.in_channels), h, w), np.float32)
            self.src_hw = src
        return self.array


def _process_batch(
    backend: Backend,
    frames: list[DecodedFrame],
    canvas: np.ndarray,
    outputs: VideoOutputs,
    smoothers: dict[str, MeasureSmoother] | None,
    spacing,
    timing: dict[str, float],
    surgical: SurgicalAnalysis | None = None,
    detail: float = 0.0,
) -> None:
    meta = backend.meta
    names = list(meta.structures)
    t0 = time.perf_counter()
    boxes = [prepare_frame(f.image, meta, canvas[i]) for i, f in enumerate(frames)]
    t1 = time.perf_counter()
    logits = backend(canvas[: len(frames)])
    t2 = time.perf_counter()
    timing["preprocess"] += t1 - t0
    timing["inference"] += t2 - t1
    for i, (f, lg, lb) in enumerate(zip(frames, logits, boxes, strict=True)):
        t3 = time.perf_counter()
        fm = logits_to_masks(lg, lb, meta, detail)
        measures = {
            s: measure_mask(fm.masks[k], fm.confidence[k], fm.scale, convex=surgical is not None and s in CONVEX)
            for k, s in enumerate(names)
        }

        def smooth(ms, t=f.time_s):
            return ms if smoothers is None else {s: smoothers[s](t, m) for s, m in ms.items()}

        notes: list[str] = []
        extra: dict = {}
        if surgical is not None:
            ih, iw = lb.inner_hw
            colour = float(np.abs(np.diff(canvas[i, :, :ih:4, :iw:4], axis=0)).mean())
            analysis, measures = surgical(f.time_s, measures, fm.masks, colour, smooth, fm.scale)
            ellipses, notes, extra = analysis.ellipses, analysis.notes, analysis.row
        else:
            measures = smooth(measures)
            ellipses = {s: m.ellipse for s, m in measures.items() if m.present}
        row = {**frame_row(f.index, f.pts, f.time_s, measures, spacing), **extra}
        timing["postprocess"] += time.perf_counter() - t3
        outputs.put(f.index, f.pts, f.image, fm.masks, row, ellipses, notes)  # waits while the writer is behind


def resolve_video_weights(weights: str | Path) -> str | Path:
    """``default``: the shipped surgical model (ONNX Runtime's twin when it is installed); else ``weights``."""
    return surgical_checkpoint(prefer_onnx=True) if is_default(weights) else weights


def _shipped_surgical(backend: Backend) -> bool:
    return Path(backend.source).name in (SURGICAL_FILE, SURGICAL_ONNX) and is_shipped(backend.source)


def surgical_settings(backend: Backend, opt: VideoOptions) -> SurgicalSettings:
    """The trust and clinical settings of a run; the shipped model's confidence is calibrated by its card."""
    cal = Calibration.from_card(surgical_card()) if _shipped_surgical(backend) else Calibration()
    return SurgicalSettings(clinical=ClinicalConfig(white_to_white_mm=opt.white_to_white_mm), calibration=cal)


def predict_video(
    weights: str | Path,
    video: str | Path,
    out: str | Path,
    options: VideoOptions | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    backend: Backend | None = None,
    log: Callable[[str], None] | None = None,
) -> VideoResult:
    """Segment every frame of ``video`` in [start, end) (every N-th) into the folder ``out``.

    Args:
        weights: run folder, checkpoint, ``.onnx`` file, or ``default`` (the shipped surgical model; ignored when
            ``backend`` is given).
        backend: an already loaded backend (benchmarks reuse one).
        progress: called with (frames done, frames expected or 0 when unknown).
        log: receives the whole video's warnings (a surgical model's out-of-domain verdict).

    Raises:
        AntsegInputError: bad input (nothing written), or a video that broke part-way (outputs kept; the
            message says where it stopped).
    """
    opt = (options or VideoOptions()).checked()
    out = Path(out)
    weights = resolve_video_weights(weights) if backend is None else weights
    backend = backend or open_backend(weights, device, opt.threads or video_threads())
    require_modality(backend.meta, getattr(backend, "source", weights), "surgical", "video segmentation")
    names = list(backend.meta.structures)
    spacing = opt.spacing or backend.meta.spacing
    reader = VideoReader(video, opt.start, opt.end, opt.every)
    info = reader.info
    path = info.path
    if info.duration_s is not None and opt.start >= info.duration_s:
        reader.close()
        raise AntsegInputError(path, f"--start {opt.start:g} s is past the end of the video ({info.duration_s:.3f} s)")
    expected = info.estimated_frames(opt.start, opt.end, opt.every) or 0
    timing = {"preprocess": 0.0, "inference": 0.0, "postprocess": 0.0}
    smoothers = {s: MeasureSmoother(opt.smooth_config) for s in names} if opt.smooth else None
    batch_size = opt.batch or (8 if str(getattr(backend, "device", "cpu")).startswith("cuda") else 1)
    canvas = _Canvas(backend, batch_size)
    surgical = SurgicalAnalysis(names, spacing, surgical_settings(backend, opt)) if applies_to(backend.meta) else None
    columns = frame_columns(names) + (surgical.columns() if surgical else [])
    t_start, cpu_start = time.perf_counter(), time.process_time()
    done = 0
    torch_threads = _torch_threads()
    with (
        reader,
        _restore_torch_threads(torch_threads),
        atomic_dir(out, overwrite=overwrite, inputs=existing_paths(video, weights)) as tmp,
    ):
        outputs = VideoOutputs(
            tmp, names, info.time_base, info.rate, opt.masks, columns, opt.overlay, overlay_scale=opt.overlay_scale
        )
        try:
            batch: list[DecodedFrame] = []
            for frame in reader:
                batch.append(frame)
                if len(batch) == batch_size:
                    _process_batch(
                        backend, batch, canvas(batch), outputs, smoothers, spacing, timing, surgical, opt.mask_detail
                    )
                    done += len(batch)
                    batch = []
                    if progress:
                        progress(done, max(expected, done))
            if batch:
                _process_batch(
                    backend, batch, canvas(batch), outputs, smoothers, spacing, timing, surgical, opt.mask_detail
                )
                done += len(batch)
        finally:
            outputs.close()
        if progress:
            progress(done, done)
        if done == 0:
            raise _nothing_read(path, reader, opt)
        wall = time.perf_counter() - t_start
        stage_ms = {"decode": reader.decode_s, **timing, "write": outputs.write_s}
        result = VideoResult(
            out,
            done,
            wall,
            done / wall,
            {k: 1000 * v / done for k, v in stage_ms.items()},
            backend.name,
            reader.stopped,
            surgical.finish(tmp, f"{info.path.name}: pupil diameter") if surgical else None,
            1000 * (time.process_time() - cpu_start) / done,
        )
        _write_summary(tmp / "summary.json", result, backend, info, opt)
    for warning in result.warnings:
        if log:
            log(f"warning: {warning}")
    if reader.stopped is not None:
        raise AntsegInputError(path, f"{reader.stopped.describe()}; the {done} frames before it are in {out}")
    return result


def _torch_threads() -> int:
    import torch

    return torch.get_num_threads()


@contextlib.contextmanager
def _restore_torch_threads(n: int) -> Iterator[None]:
    try:
        yield
    finally:
        import torch

        if torch.get_num_threads() != n:
            torch.set_num_threads(n)


def _nothing_read(path: Path, reader: VideoReader, opt: VideoOptions) -> AntsegInputError:
    if reader.stopped is not None:
        return AntsegInputError(path, reader.stopped.describe())
    if reader.decoded == 0:
        return AntsegInputError(path, "has no video frames (a zero-length video)")
    span = f"[{opt.start:g}, {opt.end:g}) s" if opt.end is not None else f"from {opt.start:g} s"
    return AntsegInputError(path, f"no frame in {span}: --start is past the end of the video")


def _write_summary(path: Path, r: VideoResult, backend: Backend, info, opt: VideoOptions) -> None:
    doc = {
        "video": str(info.path),
        "model": str(backend.source),
        "backend": backend.name,
        "structures": list(backend.meta.structures),
        "frames": r.frames,
        "complete": r.stopped is None,
        "stopped": None if r.stopped is None else {**asdict(r.stopped), "message": r.stopped.describe()},
        "seconds": round(r.seconds, 3),
        "frames_per_s": round(r.fps, 2),
        "stage_ms_per_frame": {k: round(v, 2) for k, v in r.stage_ms.items()},
        "cpu_ms_per_frame": round(r.cpu_ms, 2),
        "source": {
            "codec": info.codec,
            "width": info.width,
            "height": info.height,
            "time_base": str(info.time_base),
            "rate": None if info.rate is None else str(info.rate),
            "duration_s": info.duration_s,
            "frames": info.frames,
        },
        "options": {
            "start": opt.start,
            "end": opt.end,
            "every": opt.every,
            "smooth": opt.smooth,
            "smooth_config": asdict(opt.smooth_config) if opt.smooth else None,
            "masks": opt.masks,
            "batch": opt.batch,
            "spacing_mm": opt.spacing,
            "overlay_scale": opt.overlay_scale,
            "mask_detail": opt.mask_detail,
            "white_to_white_mm": opt.white_to_white_mm,
        },
    }
    if r.surgical is not None:
        doc["surgical"] = r.surgical
    if _shipped_surgical(backend):
        card = surgical_card()
        doc["model_card"] = {"synthetic": True, "figures": card.get("phantom_test"), "card": "surgical.card.json"}
    path.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")


def predict_video_input(
    weights: str | Path | None,
    inputs: list[Path],
    out: Path,
    timestamp: float | None,
    options: VideoOptions | None,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    resume: bool = False,
    log: Callable[[str], None] | None = None,
) -> Path:
    """``antseg predict`` on one whole video: the checks of the command line, then :func:`predict_video`."""
    if timestamp is not None:
        raise AntsegInputError(None, "--start/--end/--every/--smooth/--masks are for a whole video, not --timestamp")
    if len(inputs) != 1:
        raise AntsegInputError(None, "give one video at a time (or images and folders without --start/--end/...)")
    if resume:
        raise AntsegInputError(None, "--resume is for images; a video is written whole (use --start to skip ahead)")
    if weights is None:
        raise AntsegInputError(None, "a video needs segmentation weights")
    return predict_video(weights, inputs[0], out, options, device, overwrite, progress, log=log).out
