"""Pseudo-labels on cataract-surgery frames: the surgical model labels the user's frames, and only what the video
pipeline's trust checks accept is kept.

A frame's masks become a pseudo-label when, on the average of the frame and its horizontal mirror:
- the limbus (``cornea``: the limbus-bounded disc) passes the video checks (:class:`~antseg.inference.video_trust.
  LimbusTracker`, each frame on its own: an ellipse of plausible size and shape, mostly inside the frame, with a
  calibrated confidence of at least ``min_confidence``, stricter than the video's);
- the limbus found on the frame and on its mirror agree (Dice of the two masks);
- the pupil, when the model has one, is a plausible ellipse inside the limbus (the video's clinical check) and
  the two views agree on it too.

A sclera painted as cornea is not an ellipse of the limbus' size and shape, and is rejected. The accepted limbus
is cleaned to its fitted ellipse (the disc is whole under instruments, as the model is taught), the pupil to its
largest region with the holes filled, inside the limbus.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from antseg.anatomy import CORNEA, PUPIL, default_colour
from antseg.data.canonical import write_dataset_files, write_mask
from antseg.data.schema import Case, Manifest, Structure
from antseg.inference.backends import canvas_hw, logits_to_masks, open_backend, prepare_frame
from antseg.inference.video_clinical import ClinicalConfig, pupil_problem
from antseg.inference.video_measures import Ellipse, measure_mask
from antseg.inference.video_surgical import CONVEX
from antseg.inference.video_trust import Calibration, LimbusTracker, TrustConfig
from antseg.io.images import read_image, write_png


@dataclass(frozen=True)
class SurgicalPseudoConfig:
    """When a frame's masks become a pseudo-label.

    Attributes:
        min_confidence: the limbus' calibrated confidence (the video reports a limbus from 0.1).
        min_flip_dice: Dice of the limbus found on the frame and on its mirror.
        min_pupil_flip_dice: the same for the pupil.
        clean_limbus: the limbus pseudo-label is its fitted ellipse (else the mask averaged over both views).
        frame_width: frames are kept at most this wide (the network sees 256 px; more adds only disk and time).
    """

    min_confidence: float = 0.5
    min_flip_dice: float = 0.9
    min_pupil_flip_dice: float = 0.8
    clean_limbus: bool = True
    frame_width: int = 640


@dataclass
class FrameLabel:
    """One frame's verdict: accepted or why not, the limbus confidence, and the pseudo-label (N, H, W) masks."""

    accepted: bool
    why: str
    confidence: float
    masks: np.ndarray | None = None


def dice(a: np.ndarray, b: np.ndarray) -> float:
    """Dice of two binary masks (1 when both are empty)."""
    s = int(np.count_nonzero(a)) + int(np.count_nonzero(b))
    return 1.0 if s == 0 else 2.0 * int(np.count_nonzero(a & b)) / s


def _filled(mask: np.ndarray) -> np.ndarray:
    """The largest region of ``mask`` with its holes filled."""
    cs, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    out = np.zeros_like(mask)
    if cs:
        cv2.drawContours(out, [max(cs, key=cv2.contourArea)], -1, 1, cv2.FILLED)
    return out


def ellipse_mask(e: Ellipse, hw: tuple[int, int]) -> np.ndarray:
    """The filled ellipse ``e`` on an (H, W) canvas (the part inside it)."""
    out = np.zeros(hw, np.uint8)
    cv2.ellipse(out, ((e.cx, e.cy), (e.major, e.minor), e.angle), 1, -1)
    return out


class FrameLabeller:
    """The surgical model on one frame and its mirror, judged by the video's trust checks (module docstring)."""

    def __init__(self, weights: str | Path, device: str = "cpu", calibration: Calibration | None = None,
                 cfg: SurgicalPseudoConfig | None = None, threads: int = 0) -> None:  # fmt: skip
        self.backend = open_backend(weights, device, threads)
        self.meta = self.backend.meta
        self.names = list(self.meta.structures)
        self.calibration = calibration or Calibration()
        self.cfg = cfg or SurgicalPseudoConfig()
        self.clinical = ClinicalConfig()

    def views(self, image: np.ndarray):
        """(letterbox, logits of the frame, logits of its mirror flipped back), (N, H, W) canvas logits each."""
        h, w = canvas_hw(image.shape[:2], self.meta, self.backend.size_multiple)
        canvas = np.zeros((2, int(self.meta.in_channels), h, w), np.float32)
        lb = prepare_frame(image, self.meta, canvas[0])
        prepare_frame(np.ascontiguousarray(image[:, ::-1]), self.meta, canvas[1])
        lg = self.backend(canvas)
        ih, iw = lb.inner_hw
        back = np.array(lg[1], np.float32)
        back[:, :ih, :iw] = lg[1][:, :ih, :iw][:, :, ::-1]
        return lb, np.asarray(lg[0], np.float32), back

    def __call__(self, image: np.ndarray) -> FrameLabel:
        """Label one (H, W, 3) RGB frame."""
        cfg = self.cfg
        lb, one, mirror = self.views(image)
        both = logits_to_masks((one + mirror) / 2, lb, self.meta, 0)
        a, b = logits_to_masks(one, lb, self.meta, 0).masks, logits_to_masks(mirror, lb, self.meta, 0).masks
        ci = self.names.index(CORNEA)
        ms = {s: measure_mask(both.masks[k], both.confidence[k], convex=s in CONVEX) for k, s in enumerate(self.names)}
        v = LimbusTracker(TrustConfig(), self.calibration)(0.0, ms[CORNEA], both.masks[ci])
        if not v.found:
            return FrameLabel(False, f"limbus not found: {v.reason}", v.confidence)
        if v.confidence < cfg.min_confidence:
            why = f"limbus confidence too low for a pseudo-label ({v.confidence:.2f} < {cfg.min_confidence:g})"
            return FrameLabel(False, why, v.confidence)
        d = dice(a[ci], b[ci])
        if d < cfg.min_flip_dice:
            return FrameLabel(False, f"the mirrored frame disagrees on the limbus (Dice {d:.2f})", v.confidence)
        limbus = ms[CORNEA].ellipse
        assert limbus is not None
        hw = both.masks.shape[1:]
        out = np.zeros_like(both.masks)
        out[ci] = ellipse_mask(limbus, hw) if cfg.clean_limbus else _filled(both.masks[ci])
        if PUPIL in self.names:
            pi = self.names.index(PUPIL)
            pm = ms[PUPIL]
            problem = pupil_problem(limbus, pm.ellipse if pm.present else None, self.clinical)
            if problem:
                return FrameLabel(False, f"pupil: {problem}", v.confidence)
            d = dice(a[pi], b[pi])
            if d < cfg.min_pupil_flip_dice:
                return FrameLabel(False, f"the mirrored frame disagrees on the pupil (Dice {d:.2f})", v.confidence)
            out[pi] = _filled(both.masks[pi]) & out[ci]
        for k, s in enumerate(self.names):
            if s not in (CORNEA, PUPIL):  # e.g. instruments: the two views' average, unchecked
                out[k] = both.masks[k]
        return FrameLabel(True, "", v.confidence, out)


def pseudo_label_frames(
    labeller: FrameLabeller, frames: list[Path], out: Path, progress: Callable[[int, int], None] | None = None
) -> list[tuple[str, FrameLabel]]:
    """Label ``frames`` and write the accepted ones into ``out`` (a canonical surgical dataset, ``train`` split).
    Returns (frame name, its label without the masks) per frame."""
    (out / "images").mkdir(parents=True, exist_ok=True)
    cases, made = [], []
    for i, f in enumerate(frames):
        image = read_image(f)
        lab = labeller(image)
        if lab.accepted and lab.masks is not None:
            cid = f"u{i:04d}"
            write_png(out / "images" / f"{cid}.png", image)
            h, w = image.shape[:2]
            cases.append(Case(case_id=cid, patient_id=cid, image=f"images/{cid}.png", width=w, height=h,
                              mask=write_mask(out, cid, lab.masks), group="unlabelled", split="train",
                              extra={"source": f.name, "confidence": f"{lab.confidence:.4f}"}))  # fmt: skip
        made.append((f.name, FrameLabel(lab.accepted, lab.why, lab.confidence)))
        if progress:
            progress(i + 1, len(frames))
    if cases:
        manifest = Manifest(
            name="pseudo-labels", modality="surgical",
            structures=[Structure(n, k + 1, default_colour(n, k)) for k, n in enumerate(labeller.names)],
            landmarks=[], groups=["unlabelled"], provenance={"generator": "antseg adapt (surgical)"},
        )  # fmt: skip
        write_dataset_files(out, manifest, cases)
    return made


def surgical_rehearsal(out: Path, n: int, seed: int, structures: list[str]) -> Path:
    """``n`` surgical phantom frames with exact labels, rendered as the shipped model's training data (one frame per
    video, 4:3 and 16:9, a few without an eye), split 80/20 by video."""
    from antseg.data.phantom.writer import SurgicalPhantomConfig, generate_surgical_dataset
    from antseg.data.split import SplitConfig, split_dataset

    # The framing of the shipped model's training phantom (antseg.pretrained.train_surgical.SurgicalPretrainConfig),
    # spelled here because the library does not import the rebuild scripts.
    pcfg = SurgicalPhantomConfig(videos=n, frames_per_video=1, seed=seed, size=(640, 480), wide=0.35, no_eye=0.06,
                                 structures=tuple(structures), workers=1, name="surgical-rehearsal")  # fmt: skip
    generate_surgical_dataset(out, pcfg)
    split_dataset(out, SplitConfig(ratios=(0.8, 0.2, 0.0), seed=seed))
    return out
