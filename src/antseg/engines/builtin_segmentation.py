"""antseg's own segmentation models as benchmark engines: one engine per registered architecture."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from antseg.engines.base import Engine, EngineConfig, EngineOutput, EnginePredictor
from antseg.errors import AntsegInputError
from antseg.models import list_models
from antseg.training import RECIPES, TrainConfig, resolve_train_config, train_segmentation

DONE = "DONE"


class AntsegPredictor(EnginePredictor):
    """A trained antseg segmentation run behind the engine interface."""

    def __init__(self, run: str | Path, device: str) -> None:
        from antseg.inference import Predictor  # the engine layer may use both training and inference

        self.predictor = Predictor(run, device)
        self.structures = list(self.predictor.structures)
        self.landmarks = []
        self.in_channels = int(self.predictor.meta.in_channels)
        self.n_parameters = sum(p.numel() for p in self.predictor.model.parameters())

    def predict(self, image: np.ndarray) -> EngineOutput:
        return EngineOutput(masks=self.predictor.predict(image).masks)


class AntsegModelEngine(Engine):
    """Trains one registered antseg model with antseg's loop; its recipe ``asoct-<model>`` when there is one.

    Options (``EngineConfig.options``): ``recipe`` (a named recipe), ``config`` (a YAML file of TrainConfig
    fields), and any TrainConfig field (e.g. ``input_size``, ``lr``, ``batch_size``).
    """

    model: str = ""

    def train_config(self, cfg: EngineConfig) -> TrainConfig:
        """The training settings: the model's recipe, then the options, then the benchmark's epochs/seed/device."""
        opts = dict(cfg.options)
        recipe = opts.pop("recipe", None) or (f"asoct-{self.model}" if f"asoct-{self.model}" in RECIPES else None)
        try:
            return resolve_train_config(
                opts.pop("config", None), recipe, model=self.model, epochs=cfg.epochs, seed=cfg.seed,
                device=cfg.device, time_budget_s=cfg.budget_s or None, **opts,
            )  # fmt: skip
        except AntsegInputError as exc:
            raise AntsegInputError(exc.path, f"--option {self.name}: {exc.problem}") from None

    def check_options(self, cfg: EngineConfig) -> None:
        self.train_config(cfg)

    def train(
        self, dataset: str | Path, run: str | Path, cfg: EngineConfig, log: Callable[[str], None] = print
    ) -> None:
        train_segmentation(dataset, run, self.train_config(cfg), log=log)
        (Path(run) / DONE).write_text("trained\n")

    def load(self, run: str | Path, device: str = "auto") -> EnginePredictor:
        return AntsegPredictor(run, device)


def model_engine(name: str) -> AntsegModelEngine:
    """The engine of the registered antseg model ``name``."""
    eng = AntsegModelEngine()
    eng.model = eng.name = name
    return eng


def antseg_engine_names() -> list[str]:
    return list_models()
