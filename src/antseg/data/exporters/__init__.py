"""Exporters: canonical dataset -> the source formats people use (one registered plugin each)."""

from antseg.data.exporters.registry import EXPORTERS, run_exporter

from antseg.data.exporters import labelme, mask_folders, supervisely, yolo_pose  # noqa: E402,F401  isort: skip

__all__ = ["EXPORTERS", "run_exporter"]
