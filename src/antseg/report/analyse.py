"""Per-scan analysis for the report: segment, find the spurs, measure, check quality, draw the overlay."""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from antseg.anatomy import ANTERIOR_CHAMBER, SIDES, spur_name
from antseg.biometry.measure import measure
from antseg.biometry.overlay import draw_biometry
from antseg.inference.outputs import overlay
from antseg.inference.predictor import Predictor
from antseg.inference.spur_wall import MAX_OFF_WALL_MM, constrain_spurs
from antseg.inference.spurs import SpurPredictor
from antseg.io.scan_meta import ScanMeta

#: CASIA export names: ``722_20230329_123031_R_CASIA2_001_000.jpg`` -> patient 722, eye R.
CASIA_NAME = re.compile(r"^(?P<patient>[^_]+)_\d{8}_\d{6}_(?P<eye>[LR])_")
#: A spur found with less presence probability than this is reported with a warning.
LOW_SPUR_CONFIDENCE = 0.8
#: The chamber's centre further than this fraction of the width from the scan's centre: anatomy off-centre.
OFF_CENTRE_FRACTION = 0.12
#: A spur further than this (mm) from the predicted chamber is off the angle wall it sits on: a warning. Correct
#: spurs can lie about 0.5 mm away (the predicted chamber stops short of narrow angle tips): with the default
#: models and the wall constraint off it flagged 1 of 16 spurs on the real development eye (65 px off) and
#: 1 of 64 and 1 of 157 on two realistic phantom sets (both correct within 3 px); with the constraint on, which
#: moves far spurs onto the wall and warns about that instead, only those two phantom spurs.
SPUR_OFF_CHAMBER_MM = 0.5


@dataclass
class ScanResult:
    """Everything the report shows about one scan.

    Attributes:
        values: measure -> value in mm / mm2 (NaN where it cannot be measured); ``reasons`` says why.
        spurs: landmark -> {"x", "y" (original px or None), "confidence", "visible"}.
        warnings: quality warnings, each a short sentence.
        overlay: (H, W, 3) uint8 RGB with structures, spurs, ACD and AOD500 drawn.
        seconds: {"segment", "spurs", "measure", "overlay"} wall time of each step.
        masks: structure -> (H, W) mask (the caller may drop them once written).
    """

    image: Path
    patient: str
    eye: str
    values: dict[str, float]
    reasons: dict[str, str]
    spurs: dict[str, dict]
    warnings: list[str]
    overlay: np.ndarray
    seconds: dict[str, float] = field(default_factory=dict)
    masks: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def eye_key(self) -> str:
        return f"{self.patient} {self.eye}".strip()


def patient_and_eye(
    path: Path, meta: dict[str, dict[str, str]] | None = None, scan: ScanMeta | None = None
) -> tuple[str, str]:
    """Patient id and eye (``R``/``L``/``""``) of a scan: from ``meta`` (keyed by file name or stem), else from
    the DICOM's own attributes (``scan``: :func:`antseg.io.scan_meta.scan_metadata`), else from a CASIA file
    name, else the file's stem is the patient."""
    row = (meta or {}).get(path.name) or (meta or {}).get(path.stem)
    if row and row.get("patient_id"):
        return row["patient_id"], (row.get("eye") or "").upper()
    if scan is not None and scan.source == "dicom":
        return scan.patient or path.stem, scan.laterality
    m = CASIA_NAME.match(path.name)
    if m:
        return m["patient"], m["eye"]
    return path.stem, ""


def quality_warnings(
    image: np.ndarray, masks: dict[str, np.ndarray], spurs: dict[str, dict], spacing: tuple[float, float] | None = None
) -> list[str]:
    """Warnings a reader must see before trusting a scan's numbers (``spacing``: (x, y) mm per pixel, for the
    spur-to-chamber distance; None skips that check)."""
    out = []
    if image.ndim == 3:
        sub = image[::4, ::4].astype(np.float32)  # every 16th pixel is plenty for a mean, and 16x faster
        chroma = float(np.abs(sub - sub.mean(axis=2, keepdims=True)).mean())
        if chroma > 12:  # OCT exports are grey; JPEG chroma noise stays far below this
            out.append(f"image is in colour (mean chroma {chroma:.0f}): it may not be an AS-OCT B-scan")
    grey = image if image.ndim == 2 else image[..., 0]
    if float(np.median(grey[::4, ::4])) > 110:
        out.append("image is mostly bright: it may not be an AS-OCT B-scan")
    ac = masks.get(ANTERIOR_CHAMBER)
    h, w = grey.shape[:2]
    if ac is None or ac.sum() < 0.005 * h * w:
        out.append("no anterior chamber found: it may not be an AS-OCT B-scan of the anterior segment")
    else:
        cx = float(np.nonzero(ac.any(axis=0))[0].mean())
        if abs(cx - w / 2) > OFF_CENTRE_FRACTION * w:
            off = abs(cx - w / 2) / w
            out.append(f"anatomy off-centre: the chamber's centre is {off:.0%} of the width from the middle")
    for side in SIDES:
        p = spurs.get(spur_name(side))
        if p is None:
            continue
        if not p["visible"]:
            out.append(f"{side} scleral spur not found (presence {p['confidence']:.2f}): its angle is not measured")
        elif p["confidence"] < LOW_SPUR_CONFIDENCE:
            out.append(f"{side} scleral spur found with low confidence ({p['confidence']:.2f})")
        moved = p.get("moved_mm")
        if moved is not None and moved > 0:
            out.append(f"{side} scleral spur was {moved:.2f} mm off the angle wall: moved onto the wall, check it")
        if p["visible"] and p.get("x") is not None and spacing and ac is not None and ac.any():
            d = _distance_mm(ac, p["x"], p["y"], spacing)
            if d > SPUR_OFF_CHAMBER_MM:
                out.append(f"{side} scleral spur lies {d:.2f} mm from the chamber, off the angle wall: check it")
    return out


def _distance_mm(mask: np.ndarray, x: float, y: float, spacing: tuple[float, float]) -> float:
    """Distance (mm) from (x, y) pixels to the nearest nonzero pixel of ``mask``."""
    ys, xs = np.nonzero(mask)
    return float(np.hypot((xs - x) * spacing[0], (ys - y) * spacing[1]).min())


class ScanAnalyser:
    """The models, loaded once, and the per-scan pipeline.

    Args:
        weights: segmentation run folder or checkpoint.
        spurs: spur run folder or ``spur.pt``.
        spacing: (x, y) mm per pixel; None: the segmentation checkpoint's.
        spur_wall_mm: a spur further than this (mm) from the angle wall is moved onto it (None: 0.3 mm; 0: off;
            :mod:`antseg.inference.spur_wall`); the scan then carries a warning.
    """

    def __init__(self, weights: str | Path, spurs: str | Path, spacing: tuple[float, float] | None = None,
                 device: str = "auto", spur_wall_mm: float | None = None) -> None:  # fmt: skip
        self.seg = Predictor(weights, device)
        self.spur = SpurPredictor(spurs, device)
        self.spacing = spacing or self.seg.spacing
        self.spur_wall_mm = MAX_OFF_WALL_MM if spur_wall_mm is None else spur_wall_mm

    def analyse(
        self, image: np.ndarray, path: Path, patient: str, eye: str, spacing: tuple[float, float] | None = None
    ) -> ScanResult:
        """One scan, (H, W) grey or (H, W, 3) RGB uint8 (colour is only looked at by the quality checks);
        ``spacing``: this scan's (x, y) mm per pixel (None: the analyser's)."""
        sp = spacing or self.spacing
        original = image
        if image.ndim == 3:
            image = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
        t0 = time.perf_counter()
        masks = dict(zip(self.seg.structures, self.seg.predict(image).masks, strict=True))
        t1 = time.perf_counter()
        pts = constrain_spurs(self.spur.predict(image), masks, sp, self.spur_wall_mm)
        t2 = time.perf_counter()
        xy = {n: (p["x"], p["y"]) if p["visible"] else None for n, p in pts.items()}
        values, reasons = measure(masks, xy, sp)
        t3 = time.perf_counter()
        names = list(masks)
        drawn = overlay(image, np.stack([masks[n] for n in names]), names, alpha=0.3, spurs=pts)
        drawn = draw_biometry(drawn, masks, xy, values, sp)
        t4 = time.perf_counter()
        return ScanResult(
            path, patient, eye, values, reasons, pts, quality_warnings(original, masks, pts, sp), drawn,
            {"segment": t1 - t0, "spurs": t2 - t1, "measure": t3 - t2, "overlay": t4 - t3}, masks,
        )  # fmt: skip


def finite(v: float | None) -> bool:
    return v is not None and not (isinstance(v, float) and math.isnan(v))
