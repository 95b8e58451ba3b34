"""MedSAM as a segmentation engine (names ``medsam`` and ``medsam-oracle``, extra ``antseg[medsam]``).

The reference project's recipe: SAM ViT-B initialised from the user's ``medsam_vit_b.pth`` (nothing is ever
downloaded; without weights it trains from SAM's architecture, with a warning that results will be poor),
one box prompt per structure, 1024 x 1024 input, the mask decoder fine-tuned (``tune_encoder``: the image
encoder too) with cached image embeddings (:mod:`antseg.engines.medsam_train`).

Boxes at inference come from a real source by default (``boxes: model``): the masks predicted by another
segmentation method, the box of each structure's largest component, so the row measures a usable pipeline
(its ms/image includes the box model). ``box_model`` names a method trained earlier in the same benchmark
(default: the first one listed before MedSAM) or an antseg run folder. ``boxes: oracle`` uses the boxes of
the ground-truth masks instead (the reference project's MedSAM row): such a row is labelled
"MedSAM (oracle boxes)". ``medsam-oracle`` is MedSAM with oracle boxes by default; listed after ``medsam`` in
one benchmark, with no training option of its own that differs from medsam's, it reuses that training
(hard-linked weights) instead of repeating it.

Options (``EngineConfig.options``): ``weights`` (path), ``arch`` (``vit_b``; ``small``/``tiny`` are reduced
encoders of the same code path for CPUs and tests), ``tune_encoder`` (False), ``boxes`` (model | oracle),
``box_model``, ``batch_size`` (4 images), ``lr`` (1e-4), ``weight_decay`` (0.01), ``box_jitter`` (20 px at
1024), ``amp`` (True: bf16 encoder on CUDA). segment-anything is imported lazily (``check_available`` first).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from antseg import checks
from antseg.config import load_options
from antseg.engines.base import Engine, EngineConfig, EnginePredictor
from antseg.engines.medsam_predict import META, WEIGHTS, MedsamPredictor
from antseg.engines.registry import engine_tasks, register_engine
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_write_text

MEDSAM_ENGINES = ("medsam", "medsam-oracle")


@dataclass
class MedsamOptions:
    """MedSAM's settings (``--option medsam.KEY=VALUE``), checked as they are made.

    Attributes:
        weights: the MedSAM checkpoint (``medsam_vit_b.pth``; nothing is downloaded).
        arch: SAM architecture (``vit_b``; ``tiny`` and ``small`` for tests).
        tune_encoder: also fine-tune the image encoder (default: the mask decoder only).
        batch_size, lr, weight_decay: the optimiser's.
        box_jitter: random shift of the training boxes, in pixels.
        amp: bf16 encoder on CUDA.
        boxes: ``model`` (a segmentation model's masks give the boxes) or ``oracle`` (the ground truth).
        box_model: that segmentation model: a method trained earlier in the benchmark or a run folder.
    """

    weights: str | None = None
    arch: str = "vit_b"
    tune_encoder: bool = False
    batch_size: int = 4
    lr: float = 1e-4
    weight_decay: float = 0.01
    box_jitter: float = 20.0
    amp: bool = True
    boxes: str = "model"
    box_model: str | None = None

    #: The settings that shape the training (a run trained with the same ones can be shared).
    TRAINING: ClassVar[tuple[str, ...]] = (
        "weights", "arch", "tune_encoder", "batch_size", "lr", "weight_decay", "box_jitter", "amp",
    )  # fmt: skip

    def __post_init__(self) -> None:
        self.batch_size = checks.count(self.batch_size, "--option medsam.batch_size")
        self.lr = checks.positive(self.lr, "--option medsam.lr")
        for key in ("weight_decay", "box_jitter"):
            setattr(self, key, checks.number(getattr(self, key), f"--option medsam.{key}", minimum=0.0))
        if self.boxes not in ("model", "oracle"):
            raise AntsegInputError(None, f"medsam boxes must be 'model' or 'oracle', got {self.boxes!r}")

    def training(self) -> dict[str, Any]:
        """The training settings by name (:data:`TRAINING`)."""
        return {k: getattr(self, k) for k in self.TRAINING}


def _options(cfg: EngineConfig, default_boxes: str) -> MedsamOptions:
    """The options of ``cfg`` (an engine's default box source first)."""
    return load_options(MedsamOptions, {"boxes": default_boxes, **cfg.options}, "medsam")


def resolve_box_source(opts: MedsamOptions, runs: dict[str, str], run: Path) -> dict[str, Any]:
    """Where inference boxes come from, as stored in the run's meta (paths relative to the run when possible).

    Raises:
        AntsegInputError: model boxes with no box model: none named and none trained earlier in the benchmark.
    """
    if opts.boxes == "oracle":
        return {"boxes": "oracle", "box_method": None, "box_run": None}
    ref = opts.box_model
    if ref is None:
        earlier = [m for m in runs if m not in MEDSAM_ENGINES and "segmentation" in engine_tasks(m)]
        if not earlier:
            raise AntsegInputError(
                None, "medsam needs boxes at inference: list a segmentation model before it (e.g. --models "
                "unet-lite,medsam), set --option medsam.box_model=RUN_FOLDER, or medsam.boxes=oracle (ground truth)",
            )  # fmt: skip
        ref = earlier[0]
    if ref in runs:
        return {"boxes": "model", "box_method": ref, "box_run": os.path.relpath(Path(runs[ref]).resolve(), run)}
    path = Path(str(ref)).expanduser()
    if not path.exists():
        raise AntsegInputError(path, "medsam box_model: neither a method trained earlier here nor a run folder")
    return {"boxes": "model", "box_method": None, "box_run": str(path.resolve())}


def _split(ds) -> tuple[list, list]:
    train = [c for c in ds.cases if c.split == "train" and c.mask]
    val = [c for c in ds.cases if c.split == "val" and c.mask] or train
    if not train:
        raise AntsegInputError(ds.root, "medsam needs cases with masks in the 'train' split")
    return train, val


def _reuse_training(src: Path, run: Path) -> None:
    """Hard-link (else copy) another MedSAM run's weights and curves into ``run``."""
    for name in (WEIGHTS, "metrics.csv"):
        if (src / name).is_file():
            (run / name).unlink(missing_ok=True)
            try:
                os.link(src / name, run / name)
            except OSError:
                shutil.copyfile(src / name, run / name)


@register_engine("medsam")
class MedsamEngine(Engine):
    """MedSAM (SAM ViT-B, box prompts) fine-tuned on the dataset; boxes at inference from a segmentation model."""

    tasks = ("segmentation",)
    extra = "medsam"
    package = "segment_anything"
    default_boxes = "model"

    def __init__(self) -> None:
        self.check_available()

    def check_options(self, cfg: EngineConfig) -> None:
        """Known keys, numbers of the right type and range, a known ``arch``, ``boxes`` model or oracle."""
        from antseg.engines.medsam_model import arch_spec

        arch_spec(_options(cfg, self.default_boxes).arch)

    def train(
        self, dataset: str | Path, run: str | Path, cfg: EngineConfig, log: Callable[[str], None] = print
    ) -> None:
        """Fine-tune on the train split (val selects the epoch); writes ``medsam.pt``, ``medsam.json``, ``DONE``.

        Raises:
            MissingExtraError: segment-anything is not installed.
            AntsegInputError: unknown options, weights not found or not SAM ViT-B, no box source, no masks.
        """
        import torch

        from antseg.checks import resolve_device
        from antseg.data.canonical import load_dataset
        from antseg.engines.medsam_model import arch_spec, build_sam, load_weights, weights_path
        from antseg.engines.medsam_train import MedsamTrainConfig, MedsamTrainer, make_samples
        from antseg.io.tables import write_csv

        self.check_available()
        t0 = time.monotonic()
        run = Path(run).resolve()
        run.mkdir(parents=True, exist_ok=True)
        (run / "DONE").unlink(missing_ok=True)
        opts = _options(cfg, self.default_boxes)
        if opts.weights:
            opts.weights = str(weights_path(opts.weights))  # fail before the expensive part
        box = resolve_box_source(opts, cfg.runs, run)
        ds = load_dataset(dataset)
        train_opts = opts.training() | {"epochs": cfg.epochs, "budget_s": cfg.budget_s, "seed": cfg.seed}
        meta = {"structures": list(ds.structures), **box, "arch": opts.arch, "weights": opts.weights,
                "amp": opts.amp, "train_options": train_opts}  # fmt: skip
        shared = self._shared_run(cfg, train_opts)
        if shared is not None:
            src = json.loads((shared / META).read_text(encoding="utf-8"))
            _reuse_training(shared, run)
            meta |= {k: src[k] for k in ("arch", "weights", "amp", "train_options")} | {"shared_training": str(shared)}
            log(f"{self.name}: reusing the MedSAM training in {shared}")
        else:
            spec = arch_spec(opts.arch)
            sam = build_sam(spec)
            if opts.weights:
                load_weights(sam, opts.weights)
            else:
                log(f"{self.name}: WARNING no --weights (medsam_vit_b.pth): SAM's architecture from random "
                    "initialisation; results will be poor (MedSAM's value is its pretrained weights)")  # fmt: skip
            train_cases, val_cases = _split(ds)
            size = int(spec["img_size"])
            train = make_samples(ds, train_cases, ds.structures, size)
            val = train if val_cases is train_cases else make_samples(ds, val_cases, ds.structures, size)
            tcfg = MedsamTrainConfig(
                epochs=cfg.epochs or MedsamTrainConfig.epochs, budget_s=cfg.budget_s, seed=cfg.seed,
                batch_size=opts.batch_size, lr=opts.lr, weight_decay=opts.weight_decay, box_jitter=opts.box_jitter,
                tune_encoder=opts.tune_encoder, amp=opts.amp,
            )  # fmt: skip
            state, rows = MedsamTrainer(sam, resolve_device(cfg.device), tcfg, log).fit(train, val)
            torch.save({"arch": spec, "state": state}, run / WEIGHTS)
            write_csv(run / "metrics.csv", rows)
            meta |= {"epochs_done": len(rows), "best_val_dice": max(r["val_dice"] for r in rows),
                     "tune_encoder": opts.tune_encoder}  # fmt: skip
        meta["train_seconds"] = round(time.monotonic() - t0, 1)
        atomic_write_text(run / META, json.dumps(meta, indent=2) + "\n")
        atomic_write_text(run / "DONE", "")
        log(f"{self.name}: done in {meta['train_seconds']} s -> {run}")

    def _shared_run(self, cfg: EngineConfig, train_opts: dict[str, Any]) -> Path | None:
        """The run of ``medsam`` trained earlier in the same benchmark, when this engine may reuse it."""
        return None

    def load(
        self, run: str | Path, device: str = "auto", boxes: str | None = None, box_model: str | Path | None = None
    ) -> EnginePredictor:
        """The fine-tuned MedSAM of ``run`` with its box source (``boxes``/``box_model`` override the run's)."""
        self.check_available()
        return MedsamPredictor(Path(run), device, boxes, box_model)


@register_engine("medsam-oracle")
class MedsamOracleEngine(MedsamEngine):
    """MedSAM with ground-truth boxes (an upper bound, the reference project's setting)."""

    default_boxes = "oracle"

    def _shared_run(self, cfg: EngineConfig, train_opts: dict[str, Any]) -> Path | None:
        """``medsam``'s run when it finished earlier in this benchmark and every training setting given here
        (options, epochs, budget, seed) has the value it was trained with; settings not given here are taken
        from it."""
        src = cfg.runs.get("medsam")
        if src is None or not (Path(src) / "DONE").is_file() or not (Path(src) / WEIGHTS).is_file():
            return None
        try:
            theirs = json.loads((Path(src) / META).read_text(encoding="utf-8"))["train_options"]
        except (OSError, json.JSONDecodeError, KeyError):
            return None
        given = (set(cfg.options) & set(MedsamOptions.TRAINING)) | {"epochs", "budget_s", "seed"}
        return Path(src).resolve() if all(theirs.get(k) == train_opts[k] for k in given) else None
