"""Settings of the per-scan pipeline and of its quality checks (typed, loadable from YAML)."""

from __future__ import annotations

from dataclasses import dataclass, field

from antseg.inference.spur_wall import MAX_FROM_ANGLE_MM

#: How far (same unit) the value measured on the mirrored scan may lie from the scan's own before a measure is
#: marked for checking, per measure without its side. The device repeats ACD within about 0.06 mm and AOD500
#: within about 0.05 mm (within-subject SD): a model that disagrees with itself by more is not to be trusted.
MIRROR_TOLERANCE: dict[str, float] = {
    "acd_mm": 0.10, "acw_mm": 0.20, "lv_mm": 0.10, "pupil_diameter_mm": 0.25, "ac_area_mm2": 0.6,
    "aod500_mm": 0.08, "aod750_mm": 0.10, "tisa500_mm2": 0.03, "tisa750_mm2": 0.05, "ara500_mm2": 0.05,
    "ara750_mm2": 0.08, "iris_area_mm2": 0.25, "it750_mm": 0.08, "iris_curvature_mm": 0.08,
}  # fmt: skip


@dataclass
class QualityLimits:
    """When a value gets the status ``check`` (see :mod:`antseg.scan.quality`).

    Attributes:
        mirror: per measure (without side), the largest disagreement with the mirrored scan.
        spur_mirror_mm: a spur further than this from the one found on the mirrored scan is doubted.
        spur_confidence: a spur found with less presence probability is doubted.
        spur_from_angle_mm: a spur further than this from where the chamber ends on its side is doubted: it is not
            at the angle (:data:`antseg.inference.spur_wall.MAX_FROM_ANGLE_MM`).
        acd_spread_mm: ACD lines (bisector and parallels) further apart than this: the chamber's floor or roof is
            broken near the measurement line.
        repair_mm2: a consistency repair at least this large near a measurement doubts it (smaller ones are
            pixel noise).
        min_lens_front_columns: fewer lens-front columns in the pupil than this: the lens vault is not measured.
    """

    mirror: dict[str, float] = field(default_factory=lambda: dict(MIRROR_TOLERANCE))
    spur_mirror_mm: float = 0.15
    spur_confidence: float = 0.8
    spur_from_angle_mm: float = MAX_FROM_ANGLE_MM
    acd_spread_mm: float = 0.15
    repair_mm2: float = 0.01
    min_lens_front_columns: int = 3

    def __post_init__(self) -> None:
        self.mirror = {**MIRROR_TOLERANCE, **self.mirror}  # a YAML file may set a few and keep the rest


@dataclass
class ScanConfig:
    """How each scan is processed.

    Attributes:
        spacing: (x, y) mm per pixel; None: the segmentation checkpoint's.
        spur_wall_mm: a spur further than this from the angle wall is moved onto it (None: 0.3 mm; 0: off).
        mirror: also run both models on the mirrored scan: the masks average the two views and every measure
            gets its mirror disagreement as an uncertainty (about twice the model time).
        repair: make the masks anatomically consistent (:mod:`antseg.scan.repair`).
        bridge_reflection: fill the device's vertical reflection line in the masks from both sides
            (:mod:`antseg.scan.reflection`).
        limits: the quality checks' thresholds.
    """

    spacing: tuple[float, float] | None = None
    spur_wall_mm: float | None = None
    mirror: bool = True
    repair: bool = True
    bridge_reflection: bool = True
    limits: QualityLimits = field(default_factory=QualityLimits)
