"""The per-scan AS-OCT pipeline: one scan in, masks, spurs and measures with a status and reasons out.

:class:`ScanPipeline` is the one place where a scan is segmented, its masks made anatomically consistent, its
spurs found and kept on the angle wall, its biometry measured and every value checked. ``antseg predict``,
``biometry``, ``report``, ``evaluate`` and the benchmark scripts all call it, so the same scan gives the same
masks and numbers everywhere.
"""

from antseg.scan.config import QualityLimits, ScanConfig
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.result import CHECK, NOT_MEASURED, OK, Measure, Repair, ScanResult

__all__ = [
    "CHECK",
    "NOT_MEASURED",
    "OK",
    "Measure",
    "QualityLimits",
    "Repair",
    "ScanConfig",
    "ScanPipeline",
    "ScanResult",
]
