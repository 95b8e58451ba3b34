"""Per-eye summaries: the radial scans of one eye grouped, checked against each other, and summarised robustly.

Every radial scan of an eye passes through the corneal apex, so they share one chamber depth and width. A scan
whose ACD or ACW lies far from the eye's median (more than :data:`CONSISTENCY_MM` or three robust standard
deviations) has gone wrong: it is flagged and left out of the eye's summary. Each measure is then summarised from
the values whose status is ``ok``; only when no scan measured it without doubt are the values to ``check`` used,
and the summary says so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from antseg.anatomy import MEASURES, SIDES
from antseg.biometry.dataset import AngleThresholds
from antseg.biometry.ranges import flag
from antseg.scan.result import CHECK, NOT_MEASURED, OK, ScanResult

#: Measures every radial scan of one eye shares, and how far (mm) a scan may lie from the eye's median.
CONSISTENCY_MM = {"acd_mm": 0.15, "acw_mm": 0.4}
#: The consistency check needs at least this many scans measuring the measure.
MIN_SCANS_FOR_CONSISTENCY = 3


@dataclass
class ReportScan:
    """One scan in the report: its file, its eye and what the pipeline found (the image already dropped).

    Attributes:
        left_out: why the scan is left out of its eye's summary ("" when it is used).
    """

    path: Path
    patient: str
    eye: str
    result: ScanResult
    left_out: str = ""

    @property
    def eye_key(self) -> str:
        return f"{self.patient} {self.eye}".strip()

    @property
    def values(self) -> dict[str, float]:
        return self.result.values

    @property
    def warnings(self) -> list[str]:
        return self.result.warnings + ([self.left_out] if self.left_out else [])


@dataclass
class EyeSummary:
    """One eye: its scans, each measure's summary, narrow-angle counts.

    Attributes:
        stats: measure -> {"median", "mean", "sd", "n" (values used), "status" (``ok``: from values without
            doubt; ``check``: only doubted values were available; ``not measured``), "flag" (typical range)}.
        narrow: side -> (scans whose angle on that side is narrow, scans where it was measured), over the scans
            used: from the scans whose AOD500 and TISA500 of that side are ``ok``, else (none) from doubted ones.
        narrow_status: side -> ``ok`` (counted from values without doubt), ``check`` (only doubted values were
            available) or ``not measured``, as for ``stats``.
    """

    key: str
    patient: str
    eye: str
    scans: list[ReportScan]
    stats: dict[str, dict] = field(default_factory=dict)
    narrow: dict[str, tuple[int, int]] = field(default_factory=dict)
    narrow_status: dict[str, str] = field(default_factory=dict)

    @property
    def used(self) -> list[ReportScan]:
        return [s for s in self.scans if not s.left_out]

    @property
    def n_warnings(self) -> int:
        return sum(len(s.warnings) for s in self.scans)


def is_narrow(values: dict[str, float], side: str, th: AngleThresholds) -> bool | None:
    """True/False when AOD500 or TISA500 of ``side`` was measured, None otherwise."""
    aod, tisa = values.get(f"aod500_mm_{side}", math.nan), values.get(f"tisa500_mm2_{side}", math.nan)
    if math.isnan(aod) and math.isnan(tisa):
        return None
    return bool(aod < th.aod500_mm or tisa < th.tisa500_mm2)


def narrow_count(scans: list[ReportScan], side: str, th: AngleThresholds) -> tuple[tuple[int, int], str]:
    """((narrow, measured), status) of one side over ``scans``: from the AOD500 and TISA500 values without doubt
    (status ``ok``); when no scan has one, from the doubted values (``check``), as the measure summaries do: a
    narrow angle called from spurs the checks doubt must say so."""
    keys = (f"aod500_mm_{side}", f"tisa500_mm2_{side}")
    by_status: dict[str, list[bool]] = {OK: [], CHECK: []}
    for s in scans:
        for status in (OK, CHECK):
            vals = {k: m.value for k in keys if (m := s.result.measures.get(k)) is not None and m.status == status}
            call = is_narrow(vals, side, th)
            if call is not None:
                by_status[status].append(call)
                break
    calls, status = (by_status[OK], OK) if by_status[OK] else (by_status[CHECK], CHECK)
    if not calls:
        return (0, 0), NOT_MEASURED
    return (sum(calls), len(calls)), status


def mark_inconsistent(scans: list[ReportScan]) -> None:
    """Flag the scans of one eye whose ACD or ACW lies far from the eye's median (see the module docstring)."""
    for m, tol in CONSISTENCY_MM.items():
        got = [(s, s.result.measures[m].value) for s in scans if m in s.result.measures and not s.left_out]
        got = [(s, v) for s, v in got if math.isfinite(v)]
        if len(got) < MIN_SCANS_FOR_CONSISTENCY:
            continue
        vals = np.array([v for _, v in got])
        med = float(np.median(vals))
        spread = 3 * 1.4826 * float(np.median(np.abs(vals - med)))
        for s, v in got:
            if abs(v - med) > max(tol, spread):
                s.left_out = (f"{m.split('_')[0].upper()} {v:.2f} mm lies {abs(v - med):.2f} mm from this eye's median "
                              f"{med:.2f} mm: left out of the eye's summary")  # fmt: skip


def summarise(scans: list[ReportScan], measure: str) -> dict:
    """One measure over an eye's scans used: from ``ok`` values, else from values to ``check``."""
    used = [s.result.measures[measure] for s in scans if not s.left_out and measure in s.result.measures]
    ok = [m.value for m in used if m.status == OK]
    doubted = [m.value for m in used if m.status == CHECK]
    vals, status = (ok, OK) if ok else (doubted, CHECK) if doubted else ([], NOT_MEASURED)
    arr = np.array(vals, float)
    mean = float(arr.mean()) if len(arr) else math.nan
    return {
        "median": float(np.median(arr)) if len(arr) else math.nan, "mean": mean,
        "sd": float(arr.std(ddof=1)) if len(arr) > 1 else math.nan, "n": int(len(arr)), "status": status,
        "flag": flag(measure, mean) if len(arr) else "",
    }  # fmt: skip


def summarise_eyes(scans: list[ReportScan], th: AngleThresholds | None = None) -> list[EyeSummary]:
    """Group scans by (patient, eye), in order of first appearance; check each eye's scans against each other and
    summarise each measure."""
    th = th or AngleThresholds()
    groups: dict[str, list[ReportScan]] = {}
    for s in scans:
        groups.setdefault(s.eye_key, []).append(s)
    out = []
    for key, members in groups.items():
        mark_inconsistent(members)
        eye = EyeSummary(key, members[0].patient, members[0].eye, members)
        eye.stats = {m: summarise(members, m) for m in MEASURES}
        for side in SIDES:
            eye.narrow[side], eye.narrow_status[side] = narrow_count(eye.used, side, th)
        out.append(eye)
    return out
