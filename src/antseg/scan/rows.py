"""A scan's result as table rows and drawings: the one layout ``predict``, ``biometry`` and ``report`` write."""

from __future__ import annotations

import math

import numpy as np

from antseg.anatomy import MEASURES
from antseg.biometry.dataset import AngleThresholds, flag_angles
from antseg.biometry.overlay import draw_biometry
from antseg.biometry.units import rounded
from antseg.inference.outputs import overlay
from antseg.scan.result import ScanResult

#: Spur columns per landmark in the tables.
SPUR_FIELDS = ("x", "y", "confidence", "moved_mm", "off_wall_mm", "from_angle_mm", "mirror_mm")


def measure_columns(res: ScanResult) -> dict:
    """Every measure (rounded to its unit's precision; NaN when not measured) and its status."""
    row: dict = {}
    for m in MEASURES:
        meas = res.measures.get(m)
        row[m] = rounded(m, meas.value) if meas is not None else math.nan
    for m in MEASURES:
        meas = res.measures.get(m)
        row[f"{m}_status"] = meas.status if meas is not None else ""
    return row


def spur_values(p: dict) -> dict:
    """A spur's fields as a table shows them: pixels to 0.01, confidence to 0.0001, mm to 0.001 (NaN kept)."""
    out = {}
    for k, v in p.items():
        if isinstance(v, float) and math.isfinite(v):
            digits = 2 if k in ("x", "y", "model_x", "model_y") else 4 if k == "confidence" else 3
            v = round(v, digits)
        out[k] = v
    return out


def spur_columns(res: ScanResult) -> dict:
    """Each spur's position (px, 0.1 px), confidence, how far it was moved onto the wall and its mirror distance."""
    row: dict = {}
    for n, p in res.spurs.items():
        for f in SPUR_FIELDS:
            v = p.get(f)
            if v is None:
                v = math.nan
            row[f"{n}_{f}"] = round(float(v), 1 if f in ("x", "y") else 4) if math.isfinite(float(v)) else math.nan
    return row


#: ``spacing_from`` of a scan measured with the segmentation model's spacing (the scan carried none).
FROM_MODEL = "model"


def spacing_columns(spacing: tuple[float, float] | None, given: bool, file_source: str = "") -> dict:
    """The spacing a scan was measured with and where it came from: ``--spacing``, the file's own attribute
    (``file_source``, e.g. a DICOM's ``Pixel Spacing``) or :data:`FROM_MODEL`."""
    source = "--spacing" if given else file_source or FROM_MODEL
    sx, sy = spacing if spacing is not None else (math.nan, math.nan)
    return {"spacing_x_mm": sx, "spacing_y_mm": sy, "spacing_from": source}


def model_spacing_note(spacing: tuple[float, float]) -> str:
    """What a reader must know when no scan carried a pixel spacing and the model's was used."""
    return (f"the scans carry no pixel spacing: every length and area is measured with the segmentation model's "
            f"{spacing[0]:g} x {spacing[1]:g} mm/px; if your device's differs, give --spacing (a wrong spacing "
            "scales every measure)")  # fmt: skip


def result_row(res: ScanResult, thresholds: AngleThresholds | None = None, **ids) -> dict:
    """One table row: identifiers, every measure with its status, the narrow-angle flags (from measures that are
    not withdrawn), the spurs, why values are missing or doubted, the repairs and the scan's warnings."""
    values = {m: res.measures[m].value for m in MEASURES if m in res.measures}
    row = {**ids, **measure_columns(res), **flag_angles(values, thresholds or AngleThresholds())}
    row.update(spur_columns(res))
    row["in_domain"] = "yes" if res.in_domain else "no"
    row["reasons"] = "; ".join(f"{k}: {v}" for k, v in res.reasons.items())
    row["repairs"] = "; ".join(r.text() for r in res.repairs)
    row["warnings"] = "; ".join(res.warnings)
    return row


def draw(res: ScanResult, biometry: bool = True, alpha: float = 0.3) -> np.ndarray:
    """The scan with its masks and spurs (and, with ``biometry`` and a spacing, the measures and their statuses)."""
    drawn = overlay(res.image, res.masks, res.structures, alpha=alpha, spurs=res.spurs or None)
    if biometry and res.spacing is not None and res.measures:
        drawn = draw_biometry(drawn, res.mask_dict, res.spur_points, res.values, res.spacing, res.statuses)
    return drawn
