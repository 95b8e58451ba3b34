"""antseg's own two-stage scleral-spur model as a landmark engine (name ``antseg`` in the benchmark's spur list).

``train`` runs :func:`antseg.training.spurs.train_spurs` (stage 1 on the letterboxed scan, bounded by the
benchmark budget; then ``refine_steps`` of the full-resolution refiner) and writes ``<run>/spur.pt``;
``load`` wraps :class:`antseg.inference.spurs.SpurPredictor`.

Options (``EngineConfig.options``): ``recipe``, ``config`` (a YAML file of TrainConfig fields), any TrainConfig
field for stage 1 (``input_size``, ``lr``, ``batch_size``, ...) and any SpurConfig field (``refine_steps``,
``crop``, ``presence``, ...).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from pathlib import Path

import numpy as np

from antseg.engines.base import Engine, EngineConfig, EngineOutput, EnginePredictor
from antseg.engines.registry import register_engine
from antseg.errors import AntsegInputError

DONE = "DONE"


class AntsegSpurPredictor(EnginePredictor):
    """A trained two-stage spur model behind the engine interface: landmarks in original pixels."""

    in_channels = 1

    def __init__(self, run: str | Path, device: str) -> None:
        from antseg.inference.spurs import SpurPredictor  # the engine layer may use both training and inference

        self.predictor = SpurPredictor(run, device)
        self.structures = []
        self.landmarks = list(self.predictor.names)
        self.n_parameters = sum(
            p.numel() for m in (self.predictor.stage1, self.predictor.refiner) for p in m.parameters()
        )

    def predict(self, image: np.ndarray) -> EngineOutput:
        """One (H, W) grey or (H, W, 3) image -> name -> (x, y) px, None when predicted absent, and presence."""
        res = self.predictor.predict(image)
        marks = {n: (r["x"], r["y"]) if r["visible"] else None for n, r in res.items()}
        return EngineOutput(landmarks=marks, confidence={n: float(r["confidence"]) for n, r in res.items()})


@register_engine("antseg")
class AntsegSpurEngine(Engine):
    """Stage 1 (spatial-softmax heatmaps, antseg's training loop) plus the stage-2 crop refiner."""

    tasks = ("landmarks",)

    def configs(self, cfg: EngineConfig):
        """(stage-1 TrainConfig, SpurConfig) from the options: SpurConfig fields go to the spur settings, the rest
        (and ``config``/``recipe``) to stage 1."""
        from antseg.config import load_config
        from antseg.training import resolve_train_config
        from antseg.training.spurs import SpurConfig

        opts = dict(cfg.options)
        spur_keys = {f.name for f in fields(SpurConfig)}
        spur_opts = {k: opts.pop(k) for k in list(opts) if k in spur_keys}
        try:
            spur = load_config(SpurConfig, None, **spur_opts)  # typed: "1e-3" from the CLI becomes a float
            tcfg = resolve_train_config(
                opts.pop("config", None), opts.pop("recipe", None), epochs=cfg.epochs, seed=cfg.seed,
                device=cfg.device, time_budget_s=cfg.budget_s or None, **opts,
            )  # fmt: skip
        except TypeError as exc:
            raise AntsegInputError(None, f"--option {self.name}: bad option ({exc})") from None
        except AntsegInputError as exc:
            raise AntsegInputError(exc.path, f"--option {self.name}: {exc.problem}") from None
        return tcfg, spur

    def check_options(self, cfg: EngineConfig) -> None:
        self.configs(cfg)

    def train(
        self, dataset: str | Path, run: str | Path, cfg: EngineConfig, log: Callable[[str], None] = print
    ) -> None:
        """Train both stages on the dataset's train split (val selects the stage-1 epoch); writes ``spur.pt``."""
        from antseg.training.spurs import train_spurs

        tcfg, spur = self.configs(cfg)
        train_spurs(dataset, run, tcfg, spur, log=log)
        (Path(run) / DONE).write_text("trained\n")

    def load(self, run: str | Path, device: str = "auto") -> EnginePredictor:
        return AntsegSpurPredictor(run, device)
