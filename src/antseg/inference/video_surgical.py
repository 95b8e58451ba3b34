"""What a surgical model's video gets beyond the per-structure measures: the limbus checked frame by frame
(:mod:`.video_trust`: "not found" instead of an implausible mask), the clinical measures over time
(:mod:`.video_clinical`: limbus ellipse, pupil diameter in mm, centration, miosis alerts), the overlay's notes,
and at the end the pupil-diameter plot and the whole video's verdict.

It applies to models with a ``cornea`` structure trained on surgical data (the shipped default, or a user's
model trained on Cataract-1K); the ``pupil`` measures need a ``pupil`` structure too.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from antseg.anatomy import CORNEA, PUPIL
from antseg.inference.video_clinical import (
    CLINICAL_COLUMNS,
    ClinicalConfig,
    PupilMonitor,
    frame_scale,
    pupil_problem,
    write_pupil_plot,
)
from antseg.inference.video_measures import StructureMeasures
from antseg.inference.video_trust import (
    NOT_FOUND,
    OK,
    Calibration,
    LimbusTracker,
    TrustConfig,
    VerdictConfig,
    video_verdict,
)
from antseg.models.checkpoint import CheckpointMeta

PLOT = "pupil_diameter.png"
#: Structures whose ellipse is fitted on the convex hull of their outline (a notch is a miss, not their edge).
CONVEX = (CORNEA, PUPIL)


def applies_to(meta: CheckpointMeta) -> bool:
    """A surgical model with a limbus (``cornea``) channel."""
    return CORNEA in meta.structures and meta.modality != "asoct"


@dataclass
class SurgicalSettings:
    """Trust and clinical settings, and the calibration of the model's confidence."""

    trust: TrustConfig = field(default_factory=TrustConfig)
    verdict: VerdictConfig = field(default_factory=VerdictConfig)
    clinical: ClinicalConfig = field(default_factory=ClinicalConfig)
    calibration: Calibration = field(default_factory=Calibration)


@dataclass
class FrameAnalysis:
    """The clinical columns of one frame, the ellipses to draw and the overlay's notes."""

    row: dict[str, object]
    ellipses: dict
    notes: list[str]
    alert: bool = False


def _fmt(v: float | None, digits: int = 2) -> str:
    return "" if v is None else f"{v:.{digits}f}"


class SurgicalAnalysis:
    """Frame-by-frame limbus checks and clinical measures of one video; :meth:`finish` writes the plot."""

    def __init__(self, structures: list[str], spacing, settings: SurgicalSettings | None = None) -> None:
        self.names = list(structures)
        self.settings = settings or SurgicalSettings()
        self.spacing = spacing
        self.tracker = LimbusTracker(self.settings.trust, self.settings.calibration)
        self.monitor = PupilMonitor(self.settings.clinical)
        self.has_pupil = PUPIL in self.names
        self.times: list[float] = []
        self.found: list[bool] = []
        self.confidence: list[float] = []
        self.colour: list[float] = []
        self.pupil_mm: list[float | None] = []
        self.pupil_level: list[float | None] = []
        self.reasons: dict[str, int] = {}
        self.scale_note = ""

    @staticmethod
    def columns() -> list[str]:
        return list(CLINICAL_COLUMNS)

    def __call__(
        self,
        t: float,
        measures: dict[str, StructureMeasures],
        masks: np.ndarray,
        colour: float,
        smooth: Callable[[dict[str, StructureMeasures]], dict[str, StructureMeasures]] | None = None,
        scale: float = 1.0,
    ) -> tuple[FrameAnalysis, dict[str, StructureMeasures]]:
        """Check the limbus of one frame, clear what is not trusted (in ``measures`` and ``masks``), then
        ``smooth`` the measures (when given) and take the clinical ones from them. Measures are in frame pixels,
        ``masks`` at ``scale`` mask pixels per frame pixel.

        Returns:
            the frame's analysis and its (cleared, smoothed) measures.
        """
        measures = dict(measures)
        ci = self.names.index(CORNEA)
        v = self.tracker(t, measures[CORNEA], masks[ci], scale)
        row: dict[str, object] = {"limbus_confidence": f"{v.confidence:.4f}"}
        self.times.append(t)
        self.colour.append(colour)
        self.confidence.append(v.confidence)
        self.found.append(v.found)
        if not v.found:
            self._clear(measures, masks, CORNEA)
            if self.has_pupil:
                self._clear(measures, masks, PUPIL)
            key = v.reason.split(" (")[0]
            self.reasons[key] = self.reasons.get(key, 0) + 1
            drop, alert = self.monitor(t, None)
            self.pupil_mm.append(None)
            self.pupil_level.append(None)
            row.update(status=NOT_FOUND, reason=v.reason, pupil_found=0, miosis=int(alert))
            if smooth is not None:
                measures = smooth(measures)
            return FrameAnalysis(row, {}, [f"limbus not found: {v.reason}"], alert), measures
        if smooth is not None:
            measures = smooth(measures)
        limbus = measures[CORNEA].ellipse
        assert limbus is not None
        scale = frame_scale(limbus, self.spacing, self.settings.clinical)
        self.scale_note = scale.source
        row.update(
            status=OK, reason="", limbus_cx=_fmt(limbus.cx), limbus_cy=_fmt(limbus.cy),
            limbus_major_px=_fmt(limbus.major), limbus_minor_px=_fmt(limbus.minor),
            limbus_angle_deg=_fmt(limbus.angle, 1), mm_per_px=_fmt(scale.mm_per_px, 6), scale_source=scale.source,
        )  # fmt: skip
        ellipses = {CORNEA: limbus}
        notes = []
        diameter = None
        if self.has_pupil:
            pm = measures[PUPIL]
            problem = pupil_problem(limbus, pm.ellipse if pm.present else None, self.settings.clinical)
            if problem:
                self._clear(measures, masks, PUPIL)
                row.update(pupil_found=0, reason=f"pupil: {problem}")
                notes.append(f"pupil not found: {problem}")
            else:
                p = pm.ellipse
                assert p is not None
                mm = scale.mm_per_px
                diameter = None if mm is None else p.major * mm
                dx, dy = (p.cx - limbus.cx), (p.cy - limbus.cy)
                row.update(
                    pupil_found=1, pupil_cx=_fmt(p.cx), pupil_cy=_fmt(p.cy), pupil_diameter_px=_fmt(p.major),
                    pupil_diameter_mm=_fmt(diameter, 3), pupil_minor_mm=_fmt(None if mm is None else p.minor * mm, 3),
                    centration_dx_mm=_fmt(None if mm is None else dx * mm, 3),
                    centration_dy_mm=_fmt(None if mm is None else dy * mm, 3),
                    centration_mm=_fmt(None if mm is None else math.hypot(dx, dy) * mm, 3),
                )  # fmt: skip
                ellipses[PUPIL] = p
                if diameter is not None:
                    notes.append(f"pupil {diameter:.1f} mm")
        drop, alert = self.monitor(t, diameter)
        self.pupil_mm.append(diameter)
        self.pupil_level.append(None if diameter is None else self.monitor.level)
        row.update(pupil_drop_pct=_fmt(None if drop is None else 100 * drop, 1), miosis=int(alert))
        if alert:
            notes.append("MIOSIS: pupil constricting")
        return FrameAnalysis(row, ellipses, notes, alert), measures

    def _clear(self, measures: dict[str, StructureMeasures], masks: np.ndarray, name: str) -> None:
        k = self.names.index(name)
        masks[k] = 0
        m = measures[name]
        measures[name] = replace(m, present=False, area_px=0.0, centroid=None, ellipse=None)

    def finish(self, folder: Path, title: str) -> dict:
        """Write the pupil plot (when the model has a pupil) and return the summary's ``surgical`` block."""
        s = self.settings
        warnings = video_verdict(self.found, self.confidence, self.colour, s.verdict)
        diam = [d for d in self.pupil_mm if d is not None]
        if self.has_pupil and self.times:
            write_pupil_plot(
                folder / PLOT, self.times, self.pupil_mm, self.found, self.monitor.alerts,
                self.scale_note or "no scale", title, self.pupil_level,
            )  # fmt: skip
        n = len(self.found)
        return {
            "frames": n,
            "limbus_found": int(sum(self.found)),
            "limbus_found_share": round(sum(self.found) / n, 4) if n else None,
            "not_found_reasons": self.reasons,
            "confidence": {
                "median": round(float(np.median(self.confidence)), 4) if n else None,
                "calibrated": s.calibration.calibrated,
                "calibration": s.calibration.source or "none: mean probability x ellipse fit",
            },
            "scale": self.scale_note,
            "pupil_diameter_mm": None
            if not diam
            else {k: round(float(f(diam)), 3) for k, f in (("min", np.min), ("median", np.median), ("max", np.max))},
            "miosis_alerts": [a.to_dict() for a in self.monitor.alerts],
            "warnings": warnings,
            "plot": PLOT if self.has_pupil and self.times else None,
        }
