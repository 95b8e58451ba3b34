"""Evaluation of trained models on a dataset split: segmentation, spurs, and whole runs."""

from antseg.evaluation.run import evaluate_run
from antseg.evaluation.segmentation import evaluate_segmentation
from antseg.evaluation.spurs import evaluate_spurs

__all__ = ["evaluate_run", "evaluate_segmentation", "evaluate_spurs"]
