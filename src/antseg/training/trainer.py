"""Segmentation training loop: Dice+Focal (MONAI), AdamW, cosine schedule, AMP on CUDA, best/last
checkpoints, exact resume, per-epoch metrics CSV and curves."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

import antseg
from antseg.checks import resolve_device
from antseg.config import dump_config
from antseg.data.canonical import CanonicalDataset, load_dataset
from antseg.data.split import SplitConfig, assign_splits
from antseg.errors import AntsegInputError
from antseg.io.output_folder import check_output_target, existing_paths
from antseg.io.tables import read_csv, write_csv
from antseg.models import CheckpointMeta, create_model, read_checkpoint, runs, save_checkpoint
from antseg.preprocessing import flip_pairs, gate_sides, side_channels
from antseg.training.augment import augment
from antseg.training.config import TrainConfig
from antseg.training.plots import plot_curves
from antseg.training.samples import SegSamples, load_samples


@dataclass
class TrainResult:
    run: Path
    best_epoch: int
    best_score: float  # best validation score: mean Dice (segmentation), minus mean error in px (landmarks)
    epochs_done: int
    seconds: float
    stopped_by_budget: bool


def seed_everything(seed: int) -> None:
    import random

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False


def select_cases(ds: CanonicalDataset, cfg: TrainConfig, log: Callable[[str], None]):
    """Train and validation cases from the dataset's split (made here, by patient, if it has none)."""
    cases = [c for c in ds.cases if c.mask]
    if not cases:
        raise AntsegInputError(ds.root, "no case has a mask: nothing to train a segmentation model on")
    if not any(c.split for c in cases):
        assign_splits(cases, SplitConfig(ratios=tuple(cfg.split_ratios), seed=cfg.seed))
        log(f"dataset has no split: made one by patient, ratios {tuple(cfg.split_ratios)}")
    train = [c for c in cases if c.split == "train"]
    val = [c for c in cases if c.split == "val"]
    if not train:
        raise AntsegInputError(ds.root, "no training cases (split column has no 'train')")
    if not val:
        log("warning: no validation cases; validating on the training cases")
        val = train
    return train, val


def batch_metrics(logits: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-structure mean Dice and IoU over the batch, at the network resolution (hard masks)."""
    p = logits > 0
    t = target > 0.5
    inter = (p & t).sum(dim=(2, 3)).float()
    ps, ts = p.sum(dim=(2, 3)).float(), t.sum(dim=(2, 3)).float()
    empty = (ps + ts) == 0
    dice = torch.where(empty, torch.ones_like(inter), 2 * inter / (ps + ts).clamp(min=1))
    iou = torch.where(empty, torch.ones_like(inter), inter / (ps + ts - inter).clamp(min=1))
    return dice.mean(0), iou.mean(0)


class Trainer:
    """Holds the model, data and optimisation state of one run; ``fit`` trains (or resumes) it."""

    def __init__(self, dataset: str | Path, run: str | Path, cfg: TrainConfig, log: Callable[[str], None] = print):
        self.run, self.cfg, self.log = Path(run), cfg, log
        self.ds = load_dataset(dataset)
        self.structures = self.ds.structures
        self.teacher, self.teacher_names = None, []
        self.channels = self.channel_names()
        self.device = resolve_device(cfg.device)
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        seed_everything(cfg.seed)
        self.in_channels = cfg.in_channels or (1 if self.ds.manifest.modality == "asoct" else 3)
        args = {**cfg.model_args, "in_channels": self.in_channels, "classes": len(self.channels)}
        if cfg.encoder_weights is not None:
            args["encoder_weights"] = cfg.encoder_weights
        if cfg.init:
            from antseg.training.init_weights import init_spec, load_initial_weights

            spec = init_spec(cfg.init, self.channels)  # the checkpoint's architecture, so that every layer fits
            self.model = create_model(spec["name"], **{**spec["kwargs"], **args}).to(self.device)
            load_initial_weights(self.model, cfg.init, self.channels, log=self.log)
        else:
            self.model = create_model(cfg.model, **args).to(self.device)
        train, val = self.select_cases()
        self.train, self.val = self.load(train), self.load(val)
        self.swap = flip_pairs(self.channels)
        self.sides = side_channels(self.channels) if cfg.side_gate else {}
        self.loss_fn = self.make_loss()
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.steps_per_epoch = max(1, int(np.ceil(len(self.train.cases) / cfg.batch_size)))
        self.sched = torch.optim.lr_scheduler.CosineAnnealingLR(
            self.opt, T_max=cfg.epochs * self.steps_per_epoch, eta_min=cfg.min_lr
        )
        self.use_amp = cfg.amp and self.device.type == "cuda"
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.epoch, self.best_score, self.best_epoch = 0, -float("inf"), 0
        self.rows: list[dict] = []

    # -- what a task defines (segmentation here; landmarks override these) ----------------------------
    def channel_names(self) -> list[str]:
        if not self.structures:
            raise AntsegInputError(self.ds.root, "the dataset has no structures to segment")
        if self.cfg.init and self.cfg.keep_init_structures:
            from antseg.training.init_weights import init_outputs

            ck, names = init_outputs(self.cfg.init, self.structures)
            self.teacher_names = [n for n in names if n not in self.structures]
            if self.teacher_names:
                self.teacher = (ck, [names.index(n) for n in self.teacher_names])
                self.log(f"keeping {', '.join(self.teacher_names)} from {ck.path} (the dataset does not label them)")
        return self.structures + self.teacher_names

    def select_cases(self):
        return select_cases(self.ds, self.cfg, self.log)

    def load(self, cases) -> SegSamples:
        samples = load_samples(self.ds, cases, self.in_channels, tuple(self.cfg.input_size), self.cfg.normalization)
        if self.teacher is not None and len(cases):
            samples.masks = torch.cat([samples.masks, self.teacher_masks(samples)], dim=1)
        return samples

    @torch.no_grad()
    def teacher_masks(self, samples: SegSamples) -> torch.Tensor:
        """The initial model's masks of the structures the dataset does not label, on the training inputs."""
        ck, idx = self.teacher
        net = ck.build(self.device)
        sides = side_channels(list(ck.meta.structures)) if ck.meta.side_gate else {}
        out = []
        for i in range(0, len(samples.images), 8):
            x = samples.images[i : i + 8].to(self.device)
            logits = gate_sides(net(x).float(), sides, samples.inner_w[i : i + 8])
            out.append((torch.sigmoid(logits[:, idx]) > float(ck.meta.threshold)).float().cpu())
        return torch.cat(out).to(samples.masks.dtype)

    def make_loss(self):
        from monai.losses import DiceFocalLoss  # imported here: MONAI's import takes seconds

        cfg = self.cfg
        return DiceFocalLoss(sigmoid=True, batch=True, lambda_dice=cfg.lambda_dice, lambda_focal=cfg.lambda_focal)

    def task_meta(self) -> dict:
        """Fields of :class:`CheckpointMeta` that the task sets (the spur trainer adds its head's)."""
        return {"task": "segmentation", "threshold": 0.5}

    # -- state ----------------------------------------------------------------------------------------
    def meta(self) -> CheckpointMeta:
        sp = self.ds.manifest.spacing_mm
        return CheckpointMeta(
            **self.task_meta(),
            structures=list(self.channels),
            landmarks=list(self.ds.landmarks),
            input_size=[int(v) for v in self.cfg.input_size],
            in_channels=self.in_channels,
            side_gate=bool(self.sides),
            normalization=self.cfg.normalization,
            spacing_mm=list(sp) if sp else None,
            modality=self.ds.manifest.modality,
            dataset=self.ds.manifest.name,
            synthetic=str(self.ds.manifest.provenance.get("generator", "")).startswith("phantom"),
            recipe=self.cfg.recipe,
            antseg_version=antseg.__version__,
            epoch=self.epoch,
            val_score=self.rows[-1]["val_score"] if self.rows else None,
        )

    def training_state(self) -> dict:
        return {
            "epoch": self.epoch,
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "optimizer": self.opt.state_dict(),
            "scheduler": self.sched.state_dict(),
            "scaler": self.scaler.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "gen": self.gen.get_state(),
        }

    def restore(self) -> None:
        ck = read_checkpoint(self.run / runs.LAST)
        self.model.load_state_dict(ck.state_dict)
        st = ck.training or {}
        self.opt.load_state_dict(st["optimizer"])
        self.sched.load_state_dict(st["scheduler"])
        self.scaler.load_state_dict(st["scaler"])
        torch.set_rng_state(st["torch_rng"])
        self.gen.set_state(st["gen"])
        self.epoch, self.best_score, self.best_epoch = st["epoch"], st["best_score"], st["best_epoch"]
        self.rows = [{k: _num(v) for k, v in r.items()} for r in read_csv(self.run / runs.METRICS)][: self.epoch]
        self.log(f"resumed from epoch {self.epoch} (best score {self.best_score:.4f} at epoch {self.best_epoch})")

    # -- one epoch --------------------------------------------------------------------------------------
    def train_epoch(self, step_cb) -> float:
        self.model.train()
        n = len(self.train.cases)
        order = torch.randperm(n, generator=self.gen)
        losses = []
        aug = self.cfg.augmentation()
        for b in range(self.steps_per_epoch):
            idx = order[b * self.cfg.batch_size : (b + 1) * self.cfg.batch_size]
            x, y = self.train.images[idx].to(self.device), self.train.masks[idx].to(self.device)
            if self.cfg.augment:
                x, y = augment(x, y, self.swap, aug, self.gen)
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.use_amp):
                logits = gate_sides(self.model(x).float(), self.sides, self.train.inner_w[idx])
                loss = self.loss_fn(logits, y)
            self.opt.zero_grad(set_to_none=True)
            self.scaler.scale(loss).backward()
            self.scaler.step(self.opt)
            self.scaler.update()
            self.sched.step()
            losses.append(float(loss.detach()))
            if step_cb:
                step_cb(self.epoch * self.steps_per_epoch + b + 1, self.cfg.epochs * self.steps_per_epoch)
        return float(np.mean(losses))

    @torch.no_grad()
    def validate(self, data: SegSamples) -> dict:
        self.model.eval()
        losses, dices, ious = [], [], []
        for i in range(0, len(data.cases), self.cfg.batch_size):
            x = data.images[i : i + self.cfg.batch_size].to(self.device)
            y = data.masks[i : i + self.cfg.batch_size].to(self.device)
            with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.use_amp):
                logits = self.model(x).float()
            logits = gate_sides(logits, self.sides, data.inner_w[i : i + self.cfg.batch_size])
            losses.append(float(self.loss_fn(logits, y)) * len(x))
            d, j = batch_metrics(logits, y)
            dices.append(d * len(x))
            ious.append(j * len(x))
        n = len(data.cases)
        dice, iou = (torch.stack(dices).sum(0) / n).cpu(), (torch.stack(ious).sum(0) / n).cpu()
        own = len(self.structures)  # the best epoch is chosen on the user's labels, not on the kept teacher's
        row = {"val_loss": sum(losses) / n, "val_dice": float(dice[:own].mean()), "val_iou": float(iou[:own].mean())}
        row["val_score"] = row["val_dice"]
        row.update({f"dice_{s}": float(v) for s, v in zip(self.channels, dice, strict=True)})
        return row

    # -- the loop ---------------------------------------------------------------------------------------
    def fit(self, resume: bool = False, step_cb=None) -> TrainResult:
        check_run_folder(self.run, resume, [self.ds.root])
        if resume:
            self.restore()
        self.run.mkdir(parents=True, exist_ok=True)  # only now: a refused run leaves no folder behind
        dump_config(self.cfg, self.run / runs.CONFIG)
        t0 = time.perf_counter()
        deadline = t0 + self.cfg.time_budget_s if self.cfg.time_budget_s > 0 else None
        stopped = False
        val_s = 0.0  # how long the last validation took
        while self.epoch < self.cfg.epochs and not stopped:
            te = time.perf_counter()
            train_loss = self.train_epoch(step_cb)
            self.epoch += 1
            # The budget is checked between epochs, so a resumed run continues exactly where it stopped; an epoch
            # that would end past the deadline is not started: this epoch's validation and the next epoch's
            # training and validation are taken to last as long as the last ones did.
            now = time.perf_counter()
            next_val = val_s if (self.epoch + 1) % self.cfg.val_every == 0 else 0.0
            ends = now + val_s + (now - te) + next_val
            stopped = deadline is not None and ends > deadline and self.epoch < self.cfg.epochs
            if self.epoch % self.cfg.val_every and self.epoch != self.cfg.epochs and not stopped:
                continue
            row = {"epoch": self.epoch, "lr": self.opt.param_groups[0]["lr"], "train_loss": train_loss}
            tv = time.perf_counter()
            row.update(self.validate(self.val))
            val_s = time.perf_counter() - tv
            row["seconds"] = time.perf_counter() - te
            self.rows.append(row)
            if row["val_score"] >= self.best_score:
                self.best_score, self.best_epoch = row["val_score"], self.epoch
                save_checkpoint(self.run / runs.BEST, self.model, self.meta())
            save_checkpoint(self.run / runs.LAST, self.model, self.meta(), self.training_state())
            self._write_metrics()
            self.log(f"epoch {self.epoch:3d}/{self.cfg.epochs}  loss {train_loss:.4f}  " + self.describe(row))
        if stopped:
            self.log(f"time budget of {self.cfg.time_budget_s:.0f} s reached after epoch {self.epoch}")
        if self.rows:
            plot_curves(self.rows, self.run / "curves.png", self.curve_panels())
        return TrainResult(self.run, self.best_epoch, self.best_score, self.epoch, time.perf_counter() - t0, stopped)

    def curve_panels(self) -> list[tuple[str, str]] | None:
        return None  # the segmentation default: IoU and Dice

    def describe(self, row: dict) -> str:
        return (
            f"val loss {row['val_loss']:.4f}  val Dice {row['val_dice']:.4f}  IoU {row['val_iou']:.4f}  "
            f"({row['seconds']:.1f} s)"
        )

    def _write_metrics(self) -> None:
        write_csv(self.run / runs.METRICS, self.rows)
        if self.epoch % 5 == 0:
            plot_curves(self.rows, self.run / "curves.png", self.curve_panels())


def check_run_folder(run: Path, resume: bool, inputs: Iterable[str | Path] = ()) -> None:
    """The run folder fits the request: a new run needs none (or an empty folder), ``resume`` needs one; never a
    file, a symbolic link or a folder that is or holds an input (the dataset)."""
    check_output_target(run, inputs)
    has_run = (run / runs.LAST).is_file() or (run / runs.SPUR).is_file()
    if resume and not has_run:
        raise AntsegInputError(run, f"nothing to resume: no {runs.LAST} here (train without --resume first)")
    if not resume and has_run:
        raise AntsegInputError(run, "run folder already holds a training run (use --resume or another --out)")
    if not resume and run.is_dir() and any(run.iterdir()):
        raise AntsegInputError(run, "is not empty and holds no antseg training run: give a new folder as --out")


def _num(v: str):
    try:
        f = float(v)
        return int(f) if f.is_integer() and "." not in v and "e" not in v else f
    except ValueError:
        return v


def train_segmentation(
    dataset: str | Path,
    run: str | Path,
    cfg: TrainConfig,
    resume: bool = False,
    log: Callable[[str], None] = print,
    step_cb=None,
) -> TrainResult:
    """Train a segmentation model on a canonical dataset; see :class:`TrainConfig`."""
    check_run_folder(Path(run), resume, existing_paths(dataset))  # before the data load: a refusal costs nothing
    return Trainer(dataset, run, cfg, log).fit(resume=resume, step_cb=step_cb)


__all__ = ["TrainConfig", "TrainResult", "Trainer", "train_segmentation"]
