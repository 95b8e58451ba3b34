"""Segmentation models: one module per architecture, one registry, self-contained checkpoints.

The names below load on first use, so ``import antseg.models`` (and listing the models) does not import torch.
"""

from antseg.lazy_imports import lazy_attributes

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

_CHECKPOINT = ("Checkpoint", "CheckpointMeta", "load_model", "read_checkpoint", "save_checkpoint")
__getattr__, __dir__ = lazy_attributes(
    __name__,
    {n: "antseg.models.checkpoint" if n in _CHECKPOINT else "antseg.models.registry" for n in __all__},
)
