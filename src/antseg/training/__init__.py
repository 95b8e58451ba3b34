"""Training: configs and recipes, in-memory letterboxed samples, anatomy-aware augmentation, the loop.

The names below load on first use: the configs and recipes without torch, the trainer with it.
"""

from antseg.lazy_imports import lazy_attributes

__all__ = [
    "RECIPES",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "apply_recipe",
    "resolve_train_config",
    "train_segmentation",
]

_TRAINER = ("Trainer", "TrainResult", "train_segmentation")
__getattr__, __dir__ = lazy_attributes(
    __name__, {n: "antseg.training.trainer" if n in _TRAINER else "antseg.training.config" for n in __all__}
)
