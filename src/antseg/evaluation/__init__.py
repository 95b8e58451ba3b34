"""Evaluation of trained models on canonical datasets."""

from antseg.evaluation.segmentation import evaluate_segmentation

__all__ = ["evaluate_segmentation"]
