"""Segmentation models: one module per architecture, one registry, self-contained checkpoints."""

from antseg.models.checkpoint import Checkpoint, CheckpointMeta, load_model, read_checkpoint, save_checkpoint
from antseg.models.registry import DEFAULT_MODEL, MODELS, create_model, list_models, model_defaults, register_model

from antseg.models import lite_unet, smp_models, transresunet  # noqa: E402,F401  isort: skip

__all__ = [
    "DEFAULT_MODEL",
    "MODELS",
    "Checkpoint",
    "CheckpointMeta",
    "create_model",
    "list_models",
    "load_model",
    "model_defaults",
    "read_checkpoint",
    "register_model",
    "save_checkpoint",
]
