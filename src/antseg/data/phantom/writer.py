"""Write phantom datasets: canonical folders (with exact reference biometry) and source-format trees."""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np

import antseg
from antseg import checks
from antseg.anatomy import CORNEA, DIAGNOSIS_GROUPS, INSTRUMENT, MEASURES, PUPIL, SPURS, default_colour
from antseg.config import config_to_dict
from antseg.data.canonical import write_dataset_files, write_mask
from antseg.data.phantom.asoct import PHANTOM_STRUCTURES, NoiseBank, generate_scan
from antseg.data.phantom.choices import DEVICES, STYLES
from antseg.data.phantom.priors import GROUP_PRIORS
from antseg.data.phantom.surgical import INSTRUMENTS, Scene, sample_view, supervisely_json, write_video
from antseg.data.schema import Case, Manifest, Structure
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir
from antseg.io.images import write_png
from antseg.io.tables import write_csv

REFERENCE_BIOMETRY = "biometry.csv"
#: What a surgical phantom labels: the limbus-bounded disc, the pupil, the instruments.
SURGICAL_STRUCTURES: tuple[str, ...] = (CORNEA, PUPIL, INSTRUMENT)


@dataclass
class AsoctPhantomConfig:
    """AS-OCT phantom settings.

    Attributes:
        n: number of scans.
        size: (width, height) in pixels (CASIA SS-1000: 2130x998; CASIA2: about 2135x1568).
        spacing: (x, y) mm per pixel; empty: a 16 mm wide field (the CASIA scan width), square pixels.
        groups: diagnosis groups, assigned in turn.
        eyes_per_patient: 1 (one image per patient, like the reference set) or 2 (right and left eye).
        hidden_spurs: fraction of scans with one angle in shadow, its spur not visible (labelled absent).
        style: ``classic`` (fixed framing, one clean look) or ``realistic`` (framing, anatomy and image
            formation randomised like real CASIA scans; a spur cropped by the image side is labelled absent).
        devices: device geometries (``ss1000``, ``casia2``, ``narrow``), used in turn, one per scan; each sets
            that scan's size and spacing (then ``size`` and ``spacing`` are not used). Empty: every scan at ``size``.
        cornea: include the ``cornea`` structure (the corneoscleral shell) after the reference five.
        narrow_fields: fraction of scans whose field is narrower than their device's, at the same spacing (a
            width drawn between 12 mm, or 70 % of the device's, and the device's): devices with a narrower scan
            show both angles near the image sides, and the models must not need the 2:1 frames to find them.
    """

    n: int = 40
    seed: int = 0
    size: tuple[int, ...] = (2130, 998)
    spacing: tuple[float, ...] = ()
    groups: tuple[str, ...] = DIAGNOSIS_GROUPS
    eyes_per_patient: int = 1
    hidden_spurs: float = 0.0
    style: str = "classic"
    devices: tuple[str, ...] = ()
    cornea: bool = True
    narrow_fields: float = 0.0
    workers: int = 1
    name: str = "asoct-phantom"

    def structures(self) -> tuple[str, ...]:
        """The dataset's structures, in mask order."""
        return PHANTOM_STRUCTURES if self.cornea else tuple(n for n in PHANTOM_STRUCTURES if n != CORNEA)

    def _device(self, i: int) -> tuple[tuple[int, int], tuple[float, float]]:
        if self.devices:
            d = DEVICES[self.devices[i % len(self.devices)]]
            return d.size, d.spacing
        return (int(self.size[0]), int(self.size[1])), (float(self.spacing[0]), float(self.spacing[1]))

    def frame(self, i: int) -> tuple[int, int]:
        """(width, height) of scan ``i``'s device, before any narrowing of its field."""
        return self._device(i)[0]

    def geometry(self, i: int) -> tuple[tuple[int, int], tuple[float, float]]:
        """((width, height), (sx, sy)) of scan ``i``."""
        (w, h), (sx, sy) = self._device(i)
        rng = np.random.default_rng([self.seed, i, 3])  # its own stream: narrow_fields=0 leaves scans unchanged
        if rng.random() < self.narrow_fields:
            lo = min(1.0, max(12.0 / (w * sx), 0.7))
            w = int(round(w * rng.uniform(lo, 1.0)))
        return (w, h), (sx, sy)


@dataclass
class SurgicalPhantomConfig:
    """Cataract-surgery phantom settings: ``videos`` x ``frames_per_video`` annotated frames.

    Attributes:
        size: (width, height) of the 4:3 videos.
        wide: fraction of the videos rendered 16:9 at the same height (as full-HD footage frames the eye).
        no_eye: fraction of the videos that show no eye (the microscope over the drapes): empty masks.
        structures: the canonical structures, in mask order, among ``cornea`` (the limbus-bounded disc),
            ``pupil`` and ``instrument`` (every instrument together; often empty). The Supervisely copy always
            holds every class.
        video_seconds: > 0: also write an mp4 of that length per video.
        workers: processes rendering videos side by side (the frames do not depend on it).
    """

    videos: int = 6
    frames_per_video: int = 5
    seed: int = 0
    size: tuple[int, ...] = (1024, 768)
    frame_interval_s: float = 5.0
    video_seconds: float = 0.0
    fps: int = 25
    wide: float = 0.0
    no_eye: float = 0.0
    structures: tuple[str, ...] = (CORNEA, PUPIL)
    workers: int = 1
    name: str = "surgical-phantom"
    extra: dict = field(default_factory=dict)


def _check(cfg: AsoctPhantomConfig) -> None:
    if cfg.n < 1:
        raise AntsegInputError(None, "--n must be at least 1")
    cfg.workers = checks.integer(cfg.workers, "--workers", minimum=0)
    if len(cfg.size) != 2 or min(cfg.size) < 64:
        raise AntsegInputError(None, f"size must be WIDTHxHEIGHT of at least 64 px, got {cfg.size}")
    if not cfg.spacing:
        cfg.spacing = (16.0 / cfg.size[0], 16.0 / cfg.size[0])
    if len(cfg.spacing) != 2 or min(cfg.spacing) <= 0:
        raise AntsegInputError(None, f"spacing must be two positive mm/px values, got {cfg.spacing}")
    bad = [g for g in cfg.groups if g not in GROUP_PRIORS]
    if bad:
        raise AntsegInputError(None, f"unknown group(s) {', '.join(bad)}; valid: {', '.join(GROUP_PRIORS)}")
    if cfg.eyes_per_patient not in (1, 2):
        raise AntsegInputError(None, "eyes_per_patient must be 1 or 2")
    if not 0.0 <= cfg.hidden_spurs <= 1.0:
        raise AntsegInputError(None, f"hidden_spurs must be a fraction in [0, 1], got {cfg.hidden_spurs}")
    if not 0.0 <= cfg.narrow_fields <= 1.0:
        raise AntsegInputError(None, f"narrow_fields must be a fraction in [0, 1], got {cfg.narrow_fields}")
    if cfg.style not in STYLES:
        raise AntsegInputError(None, f"unknown style {cfg.style!r}; valid: {', '.join(STYLES)}")
    bad = [d for d in cfg.devices if d not in DEVICES]
    if bad:
        raise AntsegInputError(None, f"unknown device(s) {', '.join(bad)}; valid: {', '.join(DEVICES)}")


_BANKS: dict[tuple[int, int, int], NoiseBank] = {}


def _asoct_case(i: int, cfg: AsoctPhantomConfig, root: Path) -> tuple[Case, dict[str, float]]:
    (w, h), spacing = cfg.geometry(i)
    full_w, full_h = cfg.frame(i)  # a narrowed field draws its noise from its device's bank
    key = (full_h, full_w, cfg.seed)
    if key not in _BANKS:
        _BANKS[key] = NoiseBank(full_h, full_w, cfg.seed)
    patient_idx = i // cfg.eyes_per_patient
    group = cfg.groups[patient_idx % len(cfg.groups)]
    eye = "RL"[i % 2] if cfg.eyes_per_patient == 2 else "RL"[patient_idx % 2]
    scan = generate_scan(group, cfg.seed, i, (w, h), spacing, _BANKS[key], cfg.hidden_spurs, cfg.style)
    case_id = f"P{patient_idx:04d}_20260101_{120000 + i:06d}_{eye}_CASIA2_001_000"
    write_png(root / "images" / f"{case_id}.png", scan.image)
    mask_rel = write_mask(root, case_id, scan.masks[: len(cfg.structures())])
    case = Case(
        case_id=case_id,
        patient_id=f"P{patient_idx:04d}",
        image=f"images/{case_id}.png",
        mask=mask_rel,
        width=w,
        height=h,
        eye=eye,
        group=group,
        spacing=spacing,
        landmarks=dict(scan.spurs),
    )
    return case, scan.biometry


def _cell(v: float) -> str:
    return "" if math.isnan(v) else f"{v:.6f}"


def generate_asoct_dataset(out: str | Path, cfg: AsoctPhantomConfig, overwrite: bool = False, progress=None) -> Path:
    """Write a canonical AS-OCT phantom dataset with exact masks, spurs and reference biometry.

    Returns:
        the dataset folder.
    """
    _check(cfg)
    out = Path(out)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "images").mkdir()
        job = partial(_asoct_case, cfg=cfg, root=tmp)
        workers = max(1, min(cfg.workers or os.cpu_count() or 1, cfg.n))
        results = []
        if workers == 1:
            for i in range(cfg.n):
                results.append(job(i))
                if progress:
                    progress(i + 1, cfg.n)
        else:
            with ProcessPoolExecutor(workers) as ex:
                for i, r in enumerate(ex.map(job, range(cfg.n), chunksize=4)):
                    results.append(r)
                    if progress:
                        progress(i + 1, cfg.n)
        cases = [c for c, _ in results]
        spacings = {c.spacing for c in cases}
        manifest = Manifest(
            name=cfg.name,
            modality="asoct",
            structures=[Structure(n, i + 1, default_colour(n, i)) for i, n in enumerate(cfg.structures())],
            landmarks=list(SPURS),
            spacing_mm=spacings.pop() if len(spacings) == 1 else None,  # one value only when all cases share it
            groups=sorted({c.group for c in cases}),
            reference_biometry=REFERENCE_BIOMETRY,
            provenance=_provenance("phantom asoct", config_to_dict(cfg)),
        )
        write_dataset_files(tmp, manifest, cases)
        # Empty where the image cannot show a value (a spur outside it), as every antseg biometry table does.
        rows = [{"case_id": c.case_id, **{m: _cell(bio[m]) for m in MEASURES}} for c, bio in results]
        write_csv(tmp / REFERENCE_BIOMETRY, rows, ["case_id", *MEASURES])
    return out


def _provenance(what: str, config: dict) -> dict:
    return {
        "generator": what,
        "config": config,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "antseg_version": antseg.__version__,
    }


def _surgical_video(v: int, cfg: SurgicalPhantomConfig, root: Path) -> list[Case]:
    """Render video ``v``: its annotated frames (canonical + Supervisely copy) and, if asked, its mp4."""
    vid = f"case{5000 + v}"
    rng = np.random.default_rng([cfg.seed, v])
    w, h = int(cfg.size[0]), int(cfg.size[1])
    if rng.random() < cfg.wide:
        w = int(round(h * 16 / 9 / 2)) * 2
    view = sample_view(rng, w, h, eye=rng.random() >= cfg.no_eye)
    scene = Scene(view, w, h)
    sup = root / "supervisely" / vid
    (sup / "img").mkdir(parents=True)
    (sup / "ann").mkdir()
    cases = []
    for f in range(cfg.frames_per_video):
        fr = scene.frame(f * cfg.frame_interval_s, np.random.default_rng([cfg.seed, v, f]), tools="random")
        case_id = f"{vid}_{f + 1:02d}"
        write_png(root / "images" / f"{case_id}.png", fr.image)
        (sup / "img" / f"{case_id}.png").write_bytes((root / "images" / f"{case_id}.png").read_bytes())
        (sup / "ann" / f"{case_id}.png.json").write_text(json.dumps(supervisely_json(fr, w, h)))
        mask_rel = write_mask(root, case_id, surgical_masks(fr.masks, cfg.structures, h, w))
        cases.append(
            Case(
                case_id=case_id,
                patient_id=vid,
                image=f"images/{case_id}.png",
                mask=mask_rel,
                width=w,
                height=h,
                extra={"video": vid, "time_s": f"{f * cfg.frame_interval_s:g}"},
            )
        )
    if cfg.video_seconds > 0:
        write_video(root / "videos" / f"{vid}.mp4", scene, cfg.video_seconds, cfg.fps, cfg.seed + v)
    return cases


def surgical_masks(masks: dict[str, np.ndarray], structures: tuple[str, ...], h: int, w: int) -> np.ndarray:
    """(N, H, W) canonical masks of a phantom frame's per-class masks (``instrument``: all instruments)."""
    empty = np.zeros((h, w), np.uint8)
    by_name = {CORNEA: masks.get("Cornea", empty), PUPIL: masks.get("Pupil", empty)}
    tools = [m for k, m in masks.items() if k in INSTRUMENTS]
    by_name[INSTRUMENT] = np.bitwise_or.reduce(tools) if tools else empty
    return np.stack([by_name[s] for s in structures])


def generate_surgical_dataset(
    out: str | Path, cfg: SurgicalPhantomConfig, overwrite: bool = False, progress=None
) -> Path:
    """Write a canonical surgical phantom (``cfg.structures``) plus the same frames as Supervisely JSON.

    Layout: the canonical files, ``supervisely/case<id>/{img,ann}/`` (Cataract-1K style: Cornea, Pupil and each
    instrument's polygons) and, if ``video_seconds`` > 0, ``videos/case<id>.mp4``.
    """
    if cfg.videos < 1 or cfg.frames_per_video < 1:
        raise AntsegInputError(None, "videos and frames_per_video must be at least 1")
    bad = [s for s in cfg.structures if s not in SURGICAL_STRUCTURES]
    if bad or not cfg.structures:
        raise AntsegInputError(None, f"surgical phantom structures must be among {', '.join(SURGICAL_STRUCTURES)}")
    for name in ("wide", "no_eye"):
        if not 0.0 <= float(getattr(cfg, name)) <= 1.0:
            raise AntsegInputError(None, f"{name} must be a fraction in [0, 1], got {getattr(cfg, name)}")
    checks.size(cfg.size, "--size", minimum=64)
    cfg.video_seconds = checks.number(cfg.video_seconds, "video_seconds", minimum=0.0, maximum=3600.0)
    cfg.fps = checks.integer(cfg.fps, "fps", minimum=1, maximum=240)
    cfg.frame_interval_s = checks.positive(cfg.frame_interval_s, "frame_interval_s")
    out = Path(out)
    with atomic_dir(out, overwrite=overwrite) as tmp:
        (tmp / "images").mkdir()
        if cfg.video_seconds > 0:
            (tmp / "videos").mkdir()
        job = partial(_surgical_video, cfg=cfg, root=tmp)
        workers = max(1, min(cfg.workers or os.cpu_count() or 1, cfg.videos))
        cases: list[Case] = []
        total = cfg.videos * cfg.frames_per_video
        if workers == 1:
            results = map(job, range(cfg.videos))
            pool = None
        else:
            pool = ProcessPoolExecutor(workers)
            results = pool.map(job, range(cfg.videos))
        try:
            for r in results:
                cases.extend(r)
                if progress:
                    progress(len(cases), total)
        finally:
            if pool is not None:
                pool.shutdown()
        manifest = Manifest(
            name=cfg.name,
            modality="surgical",
            structures=[Structure(n, i + 1, default_colour(n, i)) for i, n in enumerate(cfg.structures)],
            landmarks=[],
            provenance=_provenance("phantom surgical", config_to_dict(cfg)),
        )
        write_dataset_files(tmp, manifest, cases)
    return out
