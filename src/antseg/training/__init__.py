"""Training: configs and recipes, in-memory letterboxed samples, anatomy-aware augmentation, the loop."""

from antseg.training.config import RECIPES, TrainConfig, apply_recipe, resolve_train_config
from antseg.training.trainer import Trainer, TrainResult, train_segmentation

__all__ = [
    "RECIPES",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "apply_recipe",
    "resolve_train_config",
    "train_segmentation",
]
