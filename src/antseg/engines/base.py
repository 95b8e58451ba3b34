"""The engine interface: one way to train and run any segmentation or landmark system on a canonical dataset.

An *engine* wraps a whole system (antseg's own models, nnU-Net v2, MedSAM, YOLO11-pose) behind three calls:
``train`` (canonical dataset split -> run folder), ``load`` (run folder -> a ready predictor) and the
predictor's ``predict`` (one image -> canonical masks and/or landmarks at the image's own size). The
benchmark drives every engine the same way and scores every output with :mod:`antseg.metrics`.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from antseg.errors import AntsegInputError


class MissingExtraError(AntsegInputError):
    """An optional engine's package is not installed; the message names the pip extra."""

    def __init__(self, engine: str, extra: str, package: str) -> None:
        super().__init__(None, f"engine {engine!r} needs the package {package!r}: pip install 'antseg[{extra}]'")


@dataclass
class EngineConfig:
    """Settings every engine understands; engine-specific ones go in ``options``.

    Attributes:
        budget_s: wall-clock training budget in seconds (0: the engine's own schedule).
        epochs: training epochs (None: the engine's default).
        seed: random seed.
        device: ``auto``, ``cpu`` or ``cuda[:k]``.
        options: engine-specific settings (e.g. nnU-Net's ``configuration``, ``fold``).
        runs: run folders of the methods already trained in the same benchmark, name -> folder, in order
            (an engine that builds on another method reads them, e.g. MedSAM's box model).
        trust_weights: the user vouches for the weights files given in ``options``: an engine whose files are
            Python pickles may then load them without its safe mode (they can run code). Default: safe only.
    """

    budget_s: float = 0.0
    epochs: int | None = None
    seed: int = 0
    device: str = "auto"
    options: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, str] = field(default_factory=dict)
    trust_weights: bool = False


@dataclass
class EngineOutput:
    """What a predictor returns for one image.

    Attributes:
        masks: (N, H, W) uint8 {0, 1} in ``structures`` order at the image's size, or None (landmarks only).
        landmarks: name -> (x, y) original pixels, or None when absent; None when the engine finds no landmarks.
        confidence: name -> presence probability of each landmark (optional).
    """

    masks: np.ndarray | None = None
    landmarks: dict[str, tuple[float, float] | None] | None = None
    confidence: dict[str, float] = field(default_factory=dict)


class EnginePredictor(ABC):
    """A trained engine, loaded and ready. ``structures`` / ``landmarks`` name its outputs.

    ``label`` is the row name in result tables (None: the method's name). An ``oracle`` predictor reads part of
    the ground truth (MedSAM with ground-truth boxes): the benchmark calls :meth:`set_reference` with each case's
    reference before :meth:`predict`, and such a row is labelled as an oracle.
    """

    structures: list[str]
    landmarks: list[str]
    in_channels: int = 1  # 1: give grey (H, W) images; 3: RGB (H, W, 3)
    n_parameters: int | None = None  # trainable parameters of the network(s), when known
    label: str | None = None
    oracle: bool = False

    @abstractmethod
    def predict(self, image: np.ndarray) -> EngineOutput:
        """One image, (H, W) grey or (H, W, 3) RGB uint8 -> outputs at (H, W)."""

    def set_reference(
        self, structures: list[str], masks: np.ndarray | None, landmarks: dict[str, tuple[float, float] | None]
    ) -> None:
        """The next image's ground truth, for oracle predictors only.

        Args:
            structures: names of the ``masks`` channels.
            masks: (N, H, W) uint8 {0, 1} reference masks, or None when the case has none.
            landmarks: name -> (x, y) original pixels, or None when absent.
        """
        raise NotImplementedError(f"{type(self).__name__} is not an oracle predictor")


class Engine(ABC):
    """A trainable system. Subclasses set ``name``, ``tasks`` and, for optional ones, ``extra`` + ``package``."""

    name: ClassVar[str]
    tasks: ClassVar[tuple[str, ...]] = ("segmentation",)  # "segmentation" and/or "landmarks"
    extra: ClassVar[str | None] = None  # pip extra that provides the engine (None: core)
    package: ClassVar[str | None] = None  # importable module that the extra installs

    def check_available(self) -> None:
        """Raise :class:`MissingExtraError` when the optional package is not importable."""
        if self.package and importlib.util.find_spec(self.package) is None:
            raise MissingExtraError(self.name, self.extra or self.name, self.package)

    @abstractmethod
    def train(
        self, dataset: str | Path, run: str | Path, cfg: EngineConfig, log: Callable[[str], None] = print
    ) -> None:
        """Train on the dataset's ``train`` (and ``val``) split; everything goes under ``run``."""

    @abstractmethod
    def load(self, run: str | Path, device: str = "auto") -> EnginePredictor:
        """The trained system in ``run``, ready to predict."""

    def check_options(self, cfg: EngineConfig) -> None:
        """Refuse (with an :class:`AntsegInputError`) the ``cfg.options`` this engine would refuse when its turn
        comes, before any work starts: unknown keys and values of the wrong type or range. The default accepts
        every option (an engine that reads none)."""
        return None

    def check_weights(self, path: str | Path, cfg: EngineConfig) -> None:
        """Refuse (with an :class:`AntsegInputError`) an initial weights file this engine would not load, before any
        work starts. Every engine loads weights without running code from them unless ``cfg.trust_weights``;
        the default check is that the file exists."""
        if not Path(str(path)).expanduser().is_file():
            raise AntsegInputError(path, f"weights for {self.name} not found (nothing is downloaded: fetch the file)")

    def is_trained(self, run: str | Path) -> bool:
        """True when ``run`` holds a finished training (the benchmark then skips training)."""
        return (Path(run) / "DONE").is_file()
