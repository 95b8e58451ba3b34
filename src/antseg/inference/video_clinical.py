"""Clinical measures of a surgical video over time: the limbus (centre and ellipse), the pupil's diameter in mm,
the pupil's centration within the limbus, and alerts when the pupil constricts (intraoperative miosis).

Scale: a pixel spacing when one is given (``--spacing``), else the limbus itself: its major axis is taken as the
average adult horizontal white-to-white corneal diameter (11.7 mm), which is stated as such in every output.
Diameters are the fitted ellipses' major axes (a tilted eye foreshortens one axis only; the major one keeps its
length). The pupil is checked against the limbus: its centre must lie inside it and its diameter be a plausible
share of the limbus'.

Miosis alerts are causal (what a monitor in theatre would show): the pupil diameter's running median over half a
second is compared with its largest value so far; a drop of 20 % or more that lasts at least half a second is
an alert, with its start, end, reference and smallest diameter.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

import numpy as np

from antseg.inference.video_measures import Ellipse

#: Average adult horizontal white-to-white corneal diameter (mm), the scale when no spacing is given.
WHITE_TO_WHITE_MM = 11.7


@dataclass(frozen=True)
class ClinicalConfig:
    """Settings of the clinical measures.

    Attributes:
        white_to_white_mm: the limbus diameter assumed without a spacing.
        miosis_drop: alert when the pupil is this fraction below its reference.
        miosis_min_s: for at least this long.
        median_s: window of the running median of the pupil diameter.
        pupil_limits: plausible pupil / limbus diameter ratio.
        max_decentration: the pupil centre's largest offset from the limbus centre, in limbus radii.
    """

    white_to_white_mm: float = WHITE_TO_WHITE_MM
    miosis_drop: float = 0.2
    miosis_min_s: float = 0.5
    median_s: float = 0.5
    pupil_limits: tuple[float, float] = (0.15, 0.95)
    max_decentration: float = 0.5


@dataclass
class Scale:
    """mm per pixel of a frame and where it came from (``spacing`` or the limbus' assumed diameter)."""

    mm_per_px: float | None
    source: str


def frame_scale(limbus: Ellipse | None, spacing: tuple[float, float] | None, cfg: ClinicalConfig) -> Scale:
    if spacing is not None:
        return Scale(float(math.sqrt(spacing[0] * spacing[1])), "spacing")
    if limbus is None:
        return Scale(None, "")
    return Scale(cfg.white_to_white_mm / limbus.major, f"limbus = {cfg.white_to_white_mm:g} mm white-to-white")


def pupil_problem(limbus: Ellipse, pupil: Ellipse | None, cfg: ClinicalConfig) -> str:
    """'' when the pupil ellipse is plausible inside the limbus, else why not."""
    if pupil is None:
        return "no pupil region"
    ratio = pupil.major / limbus.major
    if not cfg.pupil_limits[0] <= ratio <= cfg.pupil_limits[1]:
        return f"implausible pupil size ({ratio:.2f} of the limbus)"
    off = math.hypot(pupil.cx - limbus.cx, pupil.cy - limbus.cy) / (limbus.major / 2)
    if off > cfg.max_decentration:
        return f"pupil centre {off:.2f} limbus radii from the limbus centre"
    return ""


@dataclass
class Alert:
    """A miosis episode: from ``start_s`` to ``end_s``, the pupil at least ``drop`` below ``reference_mm``."""

    start_s: float
    end_s: float
    reference_mm: float
    smallest_mm: float

    @property
    def drop(self) -> float:
        return 1 - self.smallest_mm / self.reference_mm

    def to_dict(self) -> dict:
        return {"start_s": round(self.start_s, 3), "end_s": round(self.end_s, 3),
                "reference_mm": round(self.reference_mm, 2), "smallest_mm": round(self.smallest_mm, 2),
                "drop_pct": round(100 * self.drop, 1)}  # fmt: skip


@dataclass
class PupilMonitor:
    """Causal miosis detection on the pupil diameter (see the module docstring)."""

    cfg: ClinicalConfig = field(default_factory=ClinicalConfig)

    def __post_init__(self) -> None:
        self.window: deque[tuple[float, float]] = deque()
        self.level: float | None = None  # the running median now
        self.reference: float | None = None
        self.below_since: float | None = None
        self.current: Alert | None = None
        self.alerts: list[Alert] = []

    def __call__(self, t: float, diameter_mm: float | None) -> tuple[float | None, bool]:
        """(drop below the reference as a fraction, in an alert now) at ``t``; None without a diameter."""
        if diameter_mm is None:
            return None, self.current is not None
        self.window.append((t, diameter_mm))
        while t - self.window[0][0] > self.cfg.median_s:
            self.window.popleft()
        level = self.level = float(np.median([d for _, d in self.window]))
        self.reference = level if self.reference is None else max(self.reference, level)
        drop = 1 - level / self.reference
        if drop >= self.cfg.miosis_drop:
            self.below_since = t if self.below_since is None else self.below_since
            if self.current is None and t - self.below_since >= self.cfg.miosis_min_s:
                self.current = Alert(self.below_since, t, self.reference, level)
                self.alerts.append(self.current)
            if self.current is not None:
                self.current.end_s, self.current.smallest_mm = t, min(self.current.smallest_mm, level)
        else:
            self.below_since, self.current = None, None
        return drop, self.current is not None


CLINICAL_COLUMNS = (
    "status",
    "reason",
    "limbus_confidence",
    "limbus_cx",
    "limbus_cy",
    "limbus_major_px",
    "limbus_minor_px",
    "limbus_angle_deg",
    "mm_per_px",
    "scale_source",
    "pupil_found",
    "pupil_cx",
    "pupil_cy",
    "pupil_diameter_px",
    "pupil_diameter_mm",
    "pupil_minor_mm",
    "centration_dx_mm",
    "centration_dy_mm",
    "centration_mm",
    "pupil_drop_pct",
    "miosis",
)


def write_pupil_plot(
    path, times, diameters, found, alerts: list[Alert], scale_note: str, title: str, levels=None
) -> None:
    """A PNG of the pupil diameter over time (gaps where it was not found), its running median (``levels``, what
    the alerts follow) and the alerts shaded."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    t = np.asarray(times, float)
    d = np.array([np.nan if v is None else v for v in diameters], float)
    fig, (ax, ax2) = plt.subplots(2, 1, figsize=(10, 5), sharex=True, gridspec_kw={"height_ratios": [4, 1]})
    ax.plot(t, d, lw=1.0, color="tab:red", alpha=0.6, label="pupil diameter")
    if levels is not None:
        lv = np.array([np.nan if v is None else v for v in levels], float)
        ax.plot(t, lv, lw=1.8, color="darkred", label="running median (alerts follow it)")
    for a in alerts:
        ax.axvspan(a.start_s, a.end_s, color="orange", alpha=0.3, lw=0)
    if alerts:
        ax.plot([], [], color="orange", alpha=0.5, lw=6, label="miosis alert")
    ax.set_ylabel("pupil diameter (mm)")
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    ax.text(0.99, 0.97, scale_note, transform=ax.transAxes, ha="right", va="top", fontsize=8, color="0.3")
    ax2.fill_between(t, 0, np.asarray(found, float), step="mid", color="tab:cyan", alpha=0.6, lw=0)
    ax2.set_yticks([0, 1], ["not found", "found"], fontsize=8)
    ax2.set_xlabel("time (s)")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
