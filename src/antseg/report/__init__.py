"""``antseg report``: raw AS-OCT scans -> per-scan overlays and a per-eye clinical report (HTML, CSV, JSON)."""

from antseg.report.run import make_report

__all__ = ["make_report"]
