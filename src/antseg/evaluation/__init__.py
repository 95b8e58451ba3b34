"""Evaluation of trained models on canonical datasets."""

from antseg.evaluation.landmarks import evaluate_landmarks
from antseg.evaluation.segmentation import evaluate_segmentation

__all__ = ["evaluate_landmarks", "evaluate_segmentation"]
