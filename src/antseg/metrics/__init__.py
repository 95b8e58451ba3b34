"""Metrics: pure, spacing-aware functions plus thin accumulating classes."""

from antseg.metrics.segmentation import SegmentationMetric, dice_iou, segmentation_metrics, summarize, surface_distances

__all__ = ["SegmentationMetric", "dice_iou", "segmentation_metrics", "summarize", "surface_distances"]
