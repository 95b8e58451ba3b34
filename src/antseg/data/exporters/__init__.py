"""Exporters: canonical dataset -> the source formats people use (one registered plugin each, imported when it is
first asked for)."""

from antseg.data.exporters.registry import EXPORTERS, run_exporter

__all__ = ["EXPORTERS", "run_exporter"]
