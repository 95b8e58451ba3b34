"""Training/prediction engines behind one interface: antseg's own models and external systems."""

from antseg.engines.base import Engine, EngineConfig, EngineOutput, EnginePredictor, MissingExtraError
from antseg.engines.registry import ENGINES, get_engine, list_engines, register_engine, register_lazy

register_lazy("nnunet", "antseg.engines.nnunet")

__all__ = [
    "ENGINES",
    "Engine",
    "EngineConfig",
    "EngineOutput",
    "EnginePredictor",
    "MissingExtraError",
    "get_engine",
    "list_engines",
    "register_engine",
    "register_lazy",
]
