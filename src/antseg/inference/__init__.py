"""Inference: predictors, video frames, and prediction outputs."""

from antseg.inference.predictor import Prediction, Predictor
from antseg.inference.video import read_frame_at

__all__ = ["Prediction", "Predictor", "read_frame_at"]
