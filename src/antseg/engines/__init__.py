"""Training/prediction engines behind one interface: antseg's own models and external systems."""

from antseg.engines.base import Engine, EngineConfig, EngineOutput, EnginePredictor, MissingExtraError
from antseg.engines.registry import ENGINES, engine_tasks, get_engine, list_engines, register_engine, register_lazy

register_lazy("nnunet", "antseg.engines.nnunet")
register_lazy("medsam", "antseg.engines.medsam")
register_lazy("medsam-oracle", "antseg.engines.medsam")
register_lazy("antseg", "antseg.engines.builtin_spurs", tasks=("landmarks",))
register_lazy("yolo11-pose", "antseg.engines.yolo_pose", tasks=("landmarks",))

__all__ = [
    "ENGINES",
    "Engine",
    "EngineConfig",
    "EngineOutput",
    "EnginePredictor",
    "MissingExtraError",
    "engine_tasks",
    "get_engine",
    "list_engines",
    "register_engine",
    "register_lazy",
]
