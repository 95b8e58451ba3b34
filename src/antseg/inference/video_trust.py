"""Trust on surgical video: is the limbus really there, and does the whole video look like what the model knows?

Per frame, the limbus (the ``cornea`` structure: the limbus-bounded disc) is reported only when it is plausible:
- a region that is an ellipse (the IoU of the region with its fitted ellipse, inside the frame),
- of a plausible size and shape (its diameter against the frame's shorter side; minor / major axis),
- mostly inside the frame (the share of the fitted ellipse the frame shows),
- not hopeless: a calibrated confidence of at least 0.1 (the probability, on phantoms, that such a frame's limbus
  is right: :class:`Calibration`; the confidence is reported with every frame, and a low median confidence over the
  video is a warning),
- and no jump from the last frames (its centre and size against the accepted frames of the last half second; a
  new position seen in several consecutive frames replaces the old one).
Otherwise the frame is "not found", with the reason. Over the whole video, :func:`video_verdict` warns when it
looks out of domain (the limbus found in too few frames, low confidence, or a grey video).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import cv2
import numpy as np

from antseg.inference.video_measures import Ellipse, StructureMeasures

OK = "ok"
NOT_FOUND = "not_found"


@dataclass(frozen=True)
class TrustConfig:
    """Plausibility limits of a limbus (fractions of the frame's shorter side, of the diameter, of a second)."""

    min_diameter: float = 0.12
    max_diameter: float = 1.4
    min_aspect: float = 0.55
    min_fit: float = 0.6
    min_visible: float = 0.6
    min_confidence: float = 0.1
    max_jump: float = 0.25  # centre move, in limbus diameters
    max_size_change: float = 0.2  # relative change of the diameter
    window_s: float = 0.5
    reacquire_frames: int = 5


@dataclass(frozen=True)
class Calibration:
    """``P(limbus right) = sigmoid(a * logit(mean probability) + b * fit + c)``, fitted on phantom frames (the fit:
    :func:`limbus_fit`).

    ``source`` says where the numbers come from; an uncalibrated model (no card) uses the mean probability times
    the fit as its confidence.
    """

    a: float = 0.0
    b: float = 0.0
    c: float = 0.0
    source: str = ""

    @property
    def calibrated(self) -> bool:
        return bool(self.source)

    def __call__(self, p_mean: float, fit: float) -> float:
        if not self.calibrated:
            return float(p_mean * fit)
        p = min(max(p_mean, 1e-4), 1 - 1e-4)
        z = self.a * math.log(p / (1 - p)) + self.b * fit + self.c
        return float(1 / (1 + math.exp(-max(min(z, 50.0), -50.0))))

    @classmethod
    def from_card(cls, card: dict) -> Calibration:
        cal = card.get("calibration") or {}
        if not all(k in cal for k in ("a", "b", "c")):
            return cls()
        return cls(float(cal["a"]), float(cal["b"]), float(cal["c"]), str(cal.get("source", "phantom")))


@dataclass(frozen=True)
class EllipseShape:
    """How ellipse-like a mask is: its IoU with the ellipse fitted to its largest region, in the ellipse's box
    inside the frame (parts of the mask in the box count against it, stray blobs elsewhere do not), and the
    ellipse's share inside the frame."""

    fit_iou: float
    visible: float


def ellipse_shape(mask: np.ndarray, e: Ellipse | None, scale: float = 1.0) -> EllipseShape:
    """Compare ``mask`` ((H, W) uint8 {0, 1}) with the ellipse ``e`` fitted to its largest region (``e`` in frame
    pixels; ``scale``: the mask's pixels per frame pixel)."""
    if e is None or e.major <= 0 or e.minor <= 0:
        return EllipseShape(0.0, 0.0)
    if scale != 1.0:
        e = Ellipse((e.cx + 0.5) * scale - 0.5, (e.cy + 0.5) * scale - 0.5, e.major * scale, e.minor * scale, e.angle)
    h, w = mask.shape
    half = 0.5 * e.major + 2
    x0, x1 = max(0, int(e.cx - half)), min(w, int(e.cx + half) + 2)
    y0, y1 = max(0, int(e.cy - half)), min(h, int(e.cy + half) + 2)
    if x1 <= x0 or y1 <= y0:
        return EllipseShape(0.0, 0.0)
    ell = np.zeros((y1 - y0, x1 - x0), np.uint8)
    box = ((e.cx - x0, e.cy - y0), (e.major, e.minor), e.angle)
    cv2.ellipse(ell, box, 1, -1)
    region = mask[y0:y1, x0:x1]
    inter = int(cv2.countNonZero(ell & region))
    union = int(cv2.countNonZero(ell | region))
    shown = int(cv2.countNonZero(ell))
    full = math.pi * e.major * e.minor / 4
    return EllipseShape(inter / max(union, 1), min(1.0, shown / max(full, 1.0)))


def limbus_fit(m: StructureMeasures, shape: EllipseShape) -> float:
    """How well the limbus is an ellipse: the share of its outline on its ellipse (a convex fit,
    :func:`~antseg.inference.video_measures.fit_convex`), else the mask's IoU with its ellipse."""
    return float(m.fit_share) if m.fit_share is not None else shape.fit_iou


@dataclass(frozen=True)
class LimbusVerdict:
    """One frame's limbus: ``found``, the calibrated ``confidence``, the reason when not found, and its ``fit``
    (:func:`limbus_fit`)."""

    found: bool
    confidence: float
    reason: str = ""
    fit: float = 0.0


class LimbusTracker:
    """Per-frame plausibility of the limbus, with memory of the last accepted frames (see the module docstring)."""

    def __init__(self, cfg: TrustConfig | None = None, calibration: Calibration | None = None) -> None:
        self.cfg = cfg or TrustConfig()
        self.calibration = calibration or Calibration()
        self.accepted: deque[tuple[float, float, float, float]] = deque()  # (t, cx, cy, diameter)
        self.candidates: list[tuple[float, float, float, float]] = []

    def __call__(self, t: float, m: StructureMeasures, mask: np.ndarray, scale: float = 1.0) -> LimbusVerdict:
        """The verdict on the limbus ``m`` (frame pixels) of the frame at ``t`` s, whose mask is ``mask`` (at
        ``scale`` mask pixels per frame pixel)."""
        cfg = self.cfg
        if not m.present or m.ellipse is None:
            return LimbusVerdict(False, 0.0, "no limbus-like region")
        e = m.ellipse
        shape = ellipse_shape(mask, e, scale)
        fit = limbus_fit(m, shape)
        conf = self.calibration(m.confidence, fit)
        side = min(mask.shape) / scale
        d = e.major / side
        reason = ""
        if d < cfg.min_diameter or d > cfg.max_diameter:
            reason = f"implausible size (diameter {d:.2f} of the frame's shorter side)"
        elif e.minor / e.major < cfg.min_aspect:
            reason = f"not round enough (axes ratio {e.minor / e.major:.2f})"
        elif shape.visible < cfg.min_visible:
            reason = f"mostly outside the frame ({shape.visible:.0%} visible)"
        elif fit < cfg.min_fit:
            reason = f"not an ellipse (fit {fit:.2f})"
        elif conf < cfg.min_confidence:
            reason = f"low confidence ({conf:.2f})"
        if reason:
            return LimbusVerdict(False, conf, reason, fit)
        jump = self._jump(t, e)
        if jump:
            return LimbusVerdict(False, conf, jump, fit)
        return LimbusVerdict(True, conf, "", fit)

    def _jump(self, t: float, e: Ellipse) -> str:
        """'' when ``e`` continues the recent track (and is added to it), else the reason it is refused."""
        cfg = self.cfg
        while self.accepted and t - self.accepted[0][0] > cfg.window_s:
            self.accepted.popleft()
        now = (t, e.cx, e.cy, e.major)
        if not self.accepted:
            self._accept(now)
            return ""
        ref = np.median(np.array([a[1:] for a in self.accepted]), axis=0)
        move, size = _change(ref, now[1:])
        if move <= cfg.max_jump and size <= cfg.max_size_change:
            self._accept(now)
            return ""
        # A new position: accept it once it has held for several consecutive frames.
        if self.candidates:
            mv, sz = _change(np.array(self.candidates[-1][1:]), now[1:])
            if mv > cfg.max_jump or sz > cfg.max_size_change:
                self.candidates = []
        self.candidates.append(now)
        if len(self.candidates) >= cfg.reacquire_frames:
            self.accepted.clear()
            for c in self.candidates:
                self.accepted.append(c)
            self.candidates = []
            return ""
        return f"jumped {move:.2f} diameters / {size:.0%} in size from the last frames"

    def _accept(self, now: tuple[float, float, float, float]) -> None:
        self.accepted.append(now)
        self.candidates = []


def _change(ref, now) -> tuple[float, float]:
    """(centre move in diameters, relative size change) from ``ref`` to ``now`` ((cx, cy, diameter) each)."""
    diameter = max(float(ref[2]), 1.0)
    return float(math.hypot(now[0] - ref[0], now[1] - ref[1]) / diameter), float(abs(now[2] - ref[2]) / diameter)


@dataclass(frozen=True)
class VerdictConfig:
    """When a whole video is flagged out of domain."""

    min_found: float = 0.5  # share of frames with a limbus
    min_median_confidence: float = 0.5  # of the frames where one was found
    min_colour: float = 0.02  # mean channel difference of the network input (0: a grey video)


def video_verdict(found: list[bool], confidence: list[float], colour: list[float], cfg: VerdictConfig) -> list[str]:
    """Warnings about a whole video (empty: it looks like what the model knows)."""
    n = len(found)
    if n == 0:
        return []
    warnings = []
    share = sum(found) / n
    if float(np.mean(colour)) < cfg.min_colour:
        warnings.append("the video is grey, not a colour surgical-microscope video: the model does not apply")
    if share < cfg.min_found:
        warnings.append(
            f"the limbus was found in only {share:.0%} of the frames: this video may be out of the model's domain "
            "(not a cataract-surgery microscope view, or one unlike its training data); check the overlay"
        )
    confs = [c for c, f in zip(confidence, found, strict=True) if f]
    if confs and float(np.median(confs)) < cfg.min_median_confidence:
        warnings.append(f"the limbus' median confidence is low ({float(np.median(confs)):.2f}): check the overlay")
    return warnings
