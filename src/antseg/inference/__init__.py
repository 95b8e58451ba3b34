"""Inference: predictors, video frames, and prediction outputs."""

from antseg.inference.predict import predict_paths
from antseg.inference.predictor import Prediction, Predictor
from antseg.inference.video import read_frame_at

__all__ = ["Prediction", "Predictor", "predict_paths", "read_frame_at"]
