"""Benchmark settings (a dataclass: defaults, then a YAML file, then CLI flags)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from antseg import checks
from antseg.errors import AntsegInputError


@dataclass
class BenchmarkConfig:
    """Which methods to compare, and how.

    Attributes:
        models: segmentation methods: antseg models (``unet-lite``, ``transresunet``, ...) and engines
            (``nnunet``, ``medsam``, ``medsam-oracle``); empty (or ``none``) for a spur-only benchmark.
        spurs: scleral-spur (landmark) methods: ``antseg`` (the two-stage spur model), ``yolo11-pose``.
        budget_s: training budget per method in seconds of wall clock (0: each method's own schedule).
        epochs: training epochs per method (None: each method's default).
        seed: random seed for every method.
        device: ``auto``, ``cpu`` or ``cuda``; every method trains and predicts on it.
        split: the split scored (every method trains on ``train`` and ``val``).
        force: re-run methods that finished in an earlier call (otherwise their results are reused).
        options: per-method engine options, e.g. ``{"nnunet": {"configuration": "2d"}}``; a method's
            ``weights`` option is its initial weights file (``medsam_vit_b.pth``, ``yolo11n-pose.pt``).
        threads: CPU threads for torch (0: all cores).
        trust_weights: load weights files that are full Python pickles (Ultralytics ``.pt``) without antseg's
            safe mode. A pickle can run any code when it is loaded: set this only for files from a source you
            trust. Without it such a file loads only if it holds nothing but known model classes and tensors.
    """

    models: tuple[str, ...] = ("unet-lite", "transresunet", "nnunet")
    spurs: tuple[str, ...] = ()
    budget_s: float = 600.0
    epochs: int | None = None
    seed: int = 0
    device: str = "auto"
    split: str = "test"
    force: bool = False
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    threads: int = 0
    trust_weights: bool = False

    def __post_init__(self) -> None:
        """Check every value here, so a bad one is refused before any training starts (CLI, YAML, API)."""
        self.budget_s = checks.number(self.budget_s, "budget_s (--budget)", minimum=0.0)
        self.epochs = None if self.epochs is None else checks.count(self.epochs, "epochs (--epochs)")
        self.seed = checks.integer(self.seed, "seed", minimum=0)
        self.device = checks.device(self.device, "device (--device)")
        self.threads = checks.integer(self.threads, "threads", minimum=0)
        opts = self.options
        if not isinstance(opts, dict) or not all(isinstance(o, dict) for o in opts.values()):
            raise AntsegInputError(None, f"options must map each method to KEY: VALUE settings, got {self.options!r}")
