"""Per-eye summaries: radial scans of one eye grouped, every measure as mean ± sd with flags."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from antseg.anatomy import MEASURES, SIDES
from antseg.biometry.dataset import AngleThresholds
from antseg.report.analyse import ScanResult
from antseg.report.ranges import flag


@dataclass
class EyeSummary:
    """One eye: its scans, each measure's mean/sd/n, narrow-angle counts and the scans' warnings.

    Attributes:
        stats: measure column -> {"mean", "sd", "n", "flag"} (mean NaN when no scan could measure it).
        narrow: side -> (scans whose angle on that side is narrow, scans where it was measured).
    """

    key: str
    patient: str
    eye: str
    scans: list[ScanResult]
    stats: dict[str, dict] = field(default_factory=dict)
    narrow: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def n_warnings(self) -> int:
        return sum(len(s.warnings) for s in self.scans)


def is_narrow(values: dict[str, float], side: str, th: AngleThresholds) -> bool | None:
    """True/False when AOD500 or TISA500 of ``side`` was measured, None otherwise."""
    aod, tisa = values.get(f"aod500_mm_{side}", math.nan), values.get(f"tisa500_mm2_{side}", math.nan)
    if math.isnan(aod) and math.isnan(tisa):
        return None
    return bool(aod < th.aod500_mm or tisa < th.tisa500_mm2)


def summarise_eyes(scans: list[ScanResult], th: AngleThresholds | None = None) -> list[EyeSummary]:
    """Group scans by (patient, eye), in order of first appearance, and summarise each group."""
    th = th or AngleThresholds()
    groups: dict[str, list[ScanResult]] = {}
    for s in scans:
        groups.setdefault(s.eye_key, []).append(s)
    out = []
    for key, members in groups.items():
        eye = EyeSummary(key, members[0].patient, members[0].eye, members)
        for m in MEASURES:
            vals = np.array([s.values.get(m, math.nan) for s in members], float)
            vals = vals[np.isfinite(vals)]
            mean = float(vals.mean()) if len(vals) else math.nan
            eye.stats[m] = {
                "mean": mean, "sd": float(vals.std(ddof=1)) if len(vals) > 1 else math.nan, "n": int(len(vals)),
                "flag": flag(m, mean) if len(vals) else "",
            }  # fmt: skip
        for side in SIDES:
            calls = [is_narrow(s.values, side, th) for s in members]
            calls = [c for c in calls if c is not None]
            eye.narrow[side] = (sum(calls), len(calls))
        out.append(eye)
    return out
