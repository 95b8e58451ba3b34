"""Typical adult values of the AS-OCT measures, used to flag a value for a reader's attention.

They are approximate ranges from published AS-OCT studies of adult eyes (CASIA / Visante era), rounded; they
are screening aids that vary with age, ethnicity, lighting (pupil) and device, not diagnostic thresholds.
The narrow-angle flag uses :class:`antseg.biometry.dataset.AngleThresholds` (AOD500 < 0.15 mm or
TISA500 < 0.05 mm2 by default).
"""

from __future__ import annotations

from antseg.anatomy import SIDES

#: measure (without side) -> (low, high, unit, label).
TYPICAL: dict[str, tuple[float, float, str, str]] = {
    "acd_mm": (2.5, 3.6, "mm", "Anterior chamber depth (ACD)"),
    "acw_mm": (11.0, 12.8, "mm", "Anterior chamber width (ACW, spur to spur)"),
    "lv_mm": (-0.3, 0.6, "mm", "Lens vault (LV)"),
    "pupil_diameter_mm": (2.0, 7.0, "mm", "Pupil diameter"),
    "ac_area_mm2": (14.0, 28.0, "mm2", "Anterior chamber area"),
    "aod500_mm": (0.15, 0.8, "mm", "Angle opening distance at 500 um (AOD500)"),
    "aod750_mm": (0.25, 1.0, "mm", "Angle opening distance at 750 um (AOD750)"),
    "tisa500_mm2": (0.05, 0.3, "mm2", "Trabecular-iris space area at 500 um (TISA500)"),
    "tisa750_mm2": (0.1, 0.5, "mm2", "Trabecular-iris space area at 750 um (TISA750)"),
    "ara500_mm2": (0.08, 0.5, "mm2", "Angle recess area at 500 um (ARA500)"),
    "ara750_mm2": (0.15, 0.8, "mm2", "Angle recess area at 750 um (ARA750)"),
    "iris_area_mm2": (1.0, 2.3, "mm2", "Iris area"),
    "it750_mm": (0.3, 0.6, "mm", "Iris thickness at 750 um (IT750)"),
    "iris_curvature_mm": (-0.1, 0.4, "mm", "Iris curvature"),
}


#: measure (without side) -> (low, high): values outside are implausible for a human eye on any device; a
#: measured value beyond them is an error of the segmentation, the spurs or the pixel spacing, not anatomy.
#: Far wider than :data:`TYPICAL` (which only draws a reader's attention).
PLAUSIBLE: dict[str, tuple[float, float]] = {
    "acd_mm": (0.8, 5.0),
    "acw_mm": (9.0, 15.0),
    "lv_mm": (-1.5, 2.0),
    "pupil_diameter_mm": (0.8, 10.0),
    "ac_area_mm2": (3.0, 45.0),
    "aod500_mm": (0.0, 1.6),
    "aod750_mm": (0.0, 2.0),
    "tisa500_mm2": (0.0, 0.7),
    "tisa750_mm2": (0.0, 1.1),
    "ara500_mm2": (0.0, 1.2),
    "ara750_mm2": (0.0, 1.6),
    "iris_area_mm2": (0.3, 4.0),
    "it750_mm": (0.1, 1.0),
    "iris_curvature_mm": (-0.6, 1.0),
}


def plausible(column: str, value: float) -> bool:
    """False when ``value`` lies outside the :data:`PLAUSIBLE` range of its measure."""
    low, high = PLAUSIBLE.get(base_measure(column)[0], (float("-inf"), float("inf")))
    return low <= value <= high


def base_measure(column: str) -> tuple[str, str]:
    """``aod500_mm_left`` -> (``aod500_mm``, ``left``); global measures have side ``""``."""
    for side in SIDES:
        if column.endswith("_" + side):
            return column[: -len(side) - 1], side
    return column, ""


def flag(column: str, value: float) -> str:
    """``low`` / ``high`` when ``value`` is outside the typical range of its measure, else ``""``."""
    low, high, _, _ = TYPICAL.get(base_measure(column)[0], (float("-inf"), float("inf"), "", ""))
    if value < low:
        return "low"
    if value > high:
        return "high"
    return ""


def label(column: str) -> str:
    """A reader's name for a measure column, with its side."""
    base, side = base_measure(column)
    text = TYPICAL.get(base, (0, 0, "", base))[3]
    return f"{text}, {side}" if side else text


def typical_text(column: str) -> str:
    low, high, unit, _ = TYPICAL.get(base_measure(column)[0], (None, None, "", ""))
    return "" if low is None else f"{low:g} to {high:g} {unit}"
