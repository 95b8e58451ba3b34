"""Scleral-spur training: stage 1 (heatmaps on the letterboxed scan, the generic loop) and stage 2
(a small network refining each spur on a full-resolution crop around the first estimate)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import torch

from antseg import checks
from antseg.anatomy import side_of
from antseg.data.canonical import CanonicalDataset
from antseg.errors import AntsegInputError
from antseg.io.output_folder import existing_paths
from antseg.io.tables import write_csv
from antseg.landmarks.heatmaps import encode
from antseg.landmarks.softmax import SpatialSoftmaxCE, decode_logits, soft_argmax
from antseg.models import create_model, read_checkpoint, runs, save_checkpoint
from antseg.models.checkpoint import TASK_LANDMARKS
from antseg.preprocessing import Letterbox, gate_sides, normalize, prepare_image
from antseg.training.config import TrainConfig
from antseg.training.samples import SegSamples
from antseg.training.trainer import Trainer, check_run_folder


@dataclass
class SpurConfig:
    """Settings of both stages (stage 1 uses the TrainConfig fields)."""

    sigma: float = 2.0  # stage-1 target Gaussian, network-input pixels
    presence: float = 0.5  # presence probability below this: the spur is predicted absent
    crop: int = 128  # stage-2 crop size, full-resolution pixels
    refine_sigma: float = 2.0  # stage-2 target Gaussian, full-resolution pixels
    refine_l1: float = 0.1  # weight of the soft-argmax L1 term (px) beside the cross-entropy
    refine_jitter: float = 32.0  # stage-2 training: crop centre offset from the truth (px)
    refine_scale: tuple[float, float] = (0.85, 1.15)  # stage-2 training: crop zoom range
    refine_rotate_deg: float = 5.0  # stage-2 training: crop rotation range (+-)
    refine_iterations: int = 2  # inference passes, each re-centring the crop on the last estimate
    refine_steps: int = 1500
    refine_batch: int = 16
    refine_lr: float = 2e-3
    #: Keep stage 1 of the model fine-tuned from (``TrainConfig.init``) as it is and fine-tune the refiner alone: with
    #: one or two labelled scans, stage 1 learns where their spurs lie rather than what a spur looks like
    #: (:mod:`antseg.adaptation.labelled`).
    freeze_stage1: bool = False

    def __post_init__(self) -> None:
        """Check every value here (CLI flags, ``--option antseg.KEY=VALUE``, the API) before any training."""
        for name in ("sigma", "refine_sigma", "refine_lr"):
            setattr(self, name, checks.positive(getattr(self, name), name))
        for name in ("refine_l1", "refine_jitter", "refine_rotate_deg"):
            setattr(self, name, checks.number(getattr(self, name), name, minimum=0.0))
        self.presence = checks.fraction(self.presence, "presence")
        self.crop = checks.integer(self.crop, "crop", minimum=16, maximum=checks.MAX_SIDE)
        for name in ("refine_iterations", "refine_steps", "refine_batch"):
            setattr(self, name, checks.count(getattr(self, name), name))
        scale = [checks.positive(v, "refine_scale") for v in self.refine_scale]
        if len(scale) != 2 or scale[0] > scale[1]:
            raise AntsegInputError(None, f"refine_scale must be (low, high) zoom factors, got {self.refine_scale!r}")
        self.refine_scale = (scale[0], scale[1])
        self.freeze_stage1 = checks.flag(self.freeze_stage1, "freeze_stage1")

    def stage1_meta(self) -> dict:
        """What a stage-1 checkpoint records about its head and decoding."""
        return {"task": "landmarks", "head": "softmax", "sigma": self.sigma, "presence": self.presence}

    def refiner_meta(self) -> dict:
        """What ``spur.pt`` adds for stage 2."""
        return {"crop": self.crop, "refine_sigma": self.refine_sigma, "refine_iterations": self.refine_iterations}


def make_refiner() -> torch.nn.Module:
    """The stage-2 network: a small residual U-Net, one input and one output channel."""
    return create_model("unet-lite", in_channels=1, classes=1, channels=(16, 32, 64, 128), num_res_units=1)


class SpurTrainer(Trainer):
    """Stage 1: one heatmap per landmark on the letterboxed scan, with flip swap and side gate."""

    def __init__(self, dataset, run, cfg: TrainConfig, spur: SpurConfig, log=print) -> None:
        self.spur = spur
        super().__init__(dataset, run, cfg, log)

    def channel_names(self) -> list[str]:
        if not self.ds.landmarks:
            raise AntsegInputError(self.ds.root, "the dataset has no landmarks to train a spur model on")
        return self.ds.landmarks

    def select_cases(self):
        # Scans without a visible spur stay in: they teach the model to say "absent".
        return _split_landmark_cases(list(self.ds.cases), self.cfg)

    def load(self, cases) -> SegSamples:
        imgs, hms, widths = [], [], []
        hw = tuple(self.cfg.input_size)
        for c in cases:
            x, lb = prepare_image(
                self.ds.load_image(c, grayscale=self.in_channels == 1), self.in_channels, hw, self.cfg.normalization
            )
            pts = [None if c.landmarks.get(n) is None else lb.point_to_canvas(c.landmarks[n]) for n in self.channels]
            imgs.append(x)
            hms.append(encode(pts, hw, self.spur.sigma))
            widths.append(lb.inner_hw[1])
        return SegSamples(
            torch.from_numpy(np.stack(imgs)), torch.from_numpy(np.stack(hms)), torch.tensor(widths), cases
        )

    def make_loss(self):
        return SpatialSoftmaxCE(null=True)

    def task_meta(self) -> dict:
        return self.spur.stage1_meta()

    @torch.no_grad()
    def validate(self, data: SegSamples) -> dict:
        self.model.eval()
        errors, losses, misses, false_pos = [], [], 0, 0
        for i in range(0, len(data.cases), self.cfg.batch_size):
            x = data.images[i : i + self.cfg.batch_size].to(self.device)
            y = data.masks[i : i + self.cfg.batch_size].to(self.device)
            logits = gate_sides(self.model(x).float(), self.sides, data.inner_w[i : i + self.cfg.batch_size])
            losses.append(float(self.loss_fn(logits, y)) * len(x))
            for b, c in enumerate(data.cases[i : i + self.cfg.batch_size]):
                lb = Letterbox((c.height, c.width), tuple(self.cfg.input_size))
                for (px, py, peak), n in zip(decode_logits(logits[b], self.spur.sigma), self.channels, strict=True):
                    ref = c.landmarks.get(n)
                    if ref is None:
                        false_pos += peak >= self.spur.presence
                        continue
                    if peak < self.spur.presence:
                        misses += 1
                        continue
                    gx, gy = lb.canvas_to_point((px, py))
                    errors.append(math.hypot(gx - ref[0], gy - ref[1]))
        mean = float(np.mean(errors)) if errors else float("inf")
        pen = mean + 50.0 * (misses + false_pos)  # each wrong presence call costs like a 50 px error
        return {
            "val_loss": sum(losses) / len(data.cases),
            "val_error_px": mean,
            "val_missed": misses,
            "val_false_positive": false_pos,
            "val_score": -pen,
        }

    def curve_panels(self) -> list[tuple[str, str]]:
        return [
            ("val_error_px", "validation mean spur error (px, stage 1)"),
            ("val_missed", "missed spurs"),
            ("val_false_positive", "spurs found where none is visible"),
        ]

    def describe(self, row: dict) -> str:
        return (
            f"val loss {row['val_loss']:.4f}  mean error {row['val_error_px']:.2f} px (stage 1)  "
            f"missed {row['val_missed']}  false positives {row['val_false_positive']}"
        )


def _split_landmark_cases(cases, cfg):
    from antseg.data.split import SplitConfig, assign_splits

    if not any(c.split for c in cases):
        assign_splits(cases, SplitConfig(ratios=tuple(cfg.split_ratios), seed=cfg.seed))
    train = [c for c in cases if c.split == "train"]
    val = [c for c in cases if c.split == "val"] or train
    return train, val


# -- stage 2 ----------------------------------------------------------------------------------------------


def augmented_crop(
    img: np.ndarray,
    centre: tuple[float, float],
    point: tuple[float, float],
    size: int,
    flip: bool,
    spur: SpurConfig,
    rng,
) -> tuple[np.ndarray, tuple[float, float]]:
    """A training crop for the refiner: zoomed (and rotated) about ``centre``, gamma and blur varied,
    normalised, mirrored when ``flip``. Returns the crop and ``point`` in its coordinates.

    Only the crop is resampled (inverse-mapped warp), so this costs about as much as a plain crop.
    """
    th = np.deg2rad(rng.uniform(-spur.refine_rotate_deg, spur.refine_rotate_deg))
    k = rng.uniform(*spur.refine_scale)
    c, s_ = np.cos(th) * k, np.sin(th) * k
    h = (size - 1) / 2
    to_img = np.array([[c, -s_, centre[0] - c * h + s_ * h], [s_, c, centre[1] - s_ * h - c * h]])
    out = cv2.warpAffine(img, to_img, (size, size), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    if rng.random() < 0.5:
        lut = (255.0 * (np.arange(256) / 255.0) ** rng.uniform(0.7, 1.4)).astype(np.uint8)
        out = cv2.LUT(out, lut)
    if rng.random() < 0.3:
        out = cv2.GaussianBlur(out, (0, 0), rng.uniform(0.5, 1.2))
    tx, ty = cv2.invertAffineTransform(to_img) @ np.array([point[0], point[1], 1.0])
    out = normalize(out, "image_zscore")
    if flip:
        out, tx = out[:, ::-1].copy(), size - 1 - tx
    return out, (float(tx), float(ty))


def train_refiner(ds: CanonicalDataset, cases, channels: list[str], spur: SpurConfig, seed: int, device,
                  log=print, init: torch.nn.Module | None = None,
                  deadline: float | None = None) -> tuple[torch.nn.Module, list[dict]]:  # fmt: skip
    """Stage 2: one small U-Net for both sides (right-side crops are mirrored to look like left ones),
    trained by cross-entropy of its spatial softmax against a Gaussian at the true position, plus a small
    soft-argmax L1 term (integral regression) that pulls the whole distribution onto the point.

    Args:
        init: a refiner to start from (fine-tuning: the initial spur model's); None: random weights.
        deadline: ``time.perf_counter()`` value after which no more steps are taken (a time budget).
    """
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    samples = []
    for c in cases:
        img = ds.load_image(c, grayscale=True)
        for n in channels:
            if c.landmarks.get(n) is not None:
                samples.append((img, c.landmarks[n], side_of(n) == "right"))
    if not samples:
        raise AntsegInputError(ds.root, "no landmark to train the refiner on")
    model = make_refiner().to(device)
    if init is not None:
        model.load_state_dict(init.state_dict())
    opt = torch.optim.AdamW(model.parameters(), lr=spur.refine_lr, weight_decay=1e-4)
    if spur.refine_steps >= 10:
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=spur.refine_lr, total_steps=spur.refine_steps, pct_start=0.1
        )
    else:  # too few steps for a warm-up phase (OneCycleLR divides by its length): a constant rate
        sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda _step: 1.0)
    ce = SpatialSoftmaxCE(null=False)
    rows, t0 = [], time.perf_counter()
    last: tuple[torch.Tensor, torch.Tensor] | None = None  # the latest step's loss and L1
    s = spur.crop
    for step in range(spur.refine_steps):
        if deadline is not None and time.perf_counter() > deadline and step > 0:
            log(f"refiner: time budget spent after {step} of {spur.refine_steps} steps")
            if not rows or rows[-1]["step"] != step:  # the metrics say where it stopped
                rows.append(_refine_row(step, *last, t0))
            break
        xs, ys = [], []
        for j in rng.integers(0, len(samples), spur.refine_batch):
            img, (gx, gy), flip = samples[j]
            ox, oy = rng.uniform(-spur.refine_jitter, spur.refine_jitter, 2)
            crop, (tx, ty) = augmented_crop(img, (gx + ox, gy + oy), (gx, gy), s, flip, spur, rng)
            crop = crop * rng.uniform(0.8, 1.2) + rng.normal(0, 0.05, crop.shape).astype(np.float32)
            xs.append(crop[None])
            ys.append((tx, ty))
        x = torch.from_numpy(np.stack(xs)).float().to(device)
        y = torch.tensor(ys, dtype=torch.float32, device=device)
        logits = model(x)
        target = torch.from_numpy(np.stack([encode([p], (s, s), spur.refine_sigma) for p in ys])).to(device)
        l1 = (soft_argmax(logits) - y).abs().sum(1).mean()
        loss = ce(logits, target) + spur.refine_l1 * l1
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        last = (loss, l1)
        if (step + 1) % 100 == 0 or step + 1 == spur.refine_steps:
            rows.append(_refine_row(step + 1, loss, l1, t0))
            r = rows[-1]
            log(f"refiner step {step + 1}/{spur.refine_steps}  loss {r['loss']:.3f}  L1 {r['l1_px']:.2f} px")
    return model.eval(), rows


def _refine_row(step: int, loss: torch.Tensor, l1: torch.Tensor, t0: float) -> dict:
    return {
        "step": step,
        "loss": float(loss.detach()),
        "l1_px": float(l1.detach()),
        "seconds": time.perf_counter() - t0,
    }


#: With a time budget, the share stage 1 gets (checked between its epochs); the refiner has the rest.
STAGE1_SHARE = 0.6


def _init_model(init: str, channels: list[str]):
    """The spur checkpoint ``init`` names, for ``channels`` (None without ``init``): fine-tuning starts from its
    refiner, and a frozen stage 1 is its stage 1."""
    if not init:
        return None
    from antseg.training.init_weights import init_outputs

    return init_outputs(init, channels)[0]


def _frozen_stage1(ck, init: str, channels: list[str]):
    """Stage 1 of the spur model ``init`` (its checkpoint ``ck``), for fine-tuning the refiner alone."""
    if ck is None:
        raise AntsegInputError(None, "freeze_stage1 keeps the stage 1 of the model fine-tuned from: give init")
    if ck.meta.task != TASK_LANDMARKS or list(ck.meta.landmarks) != list(channels):
        raise AntsegInputError(None, f"freeze_stage1: {init} is not a spur model of {', '.join(channels)}")
    return ck


def train_spurs(dataset, run, cfg: TrainConfig, spur: SpurConfig | None = None, log=print, step_cb=None) -> dict:
    """Train both stages; writes ``<run>/stage1/`` (the generic run folder) and ``<run>/spur.pt``. With
    ``cfg.init`` both stages start from that spur model; ``cfg.time_budget_s`` bounds the whole training (stage 1
    gets :data:`STAGE1_SHARE` of it, checked between epochs; the refiner stops at the end of the budget).

    With ``spur.freeze_stage1`` stage 1 is that of ``cfg.init``, unchanged, and the refiner has the whole budget.

    Returns:
        {"stage1": TrainResult (None when stage 1 was frozen), "refine_rows": [...], "checkpoint": path}
    """
    spur = spur or SpurConfig()
    run = Path(run)
    check_run_folder(run, resume=False, inputs=existing_paths(dataset))
    start = time.perf_counter()
    budget = float(cfg.time_budget_s or 0)
    stage1_cfg = replace(cfg, time_budget_s=budget * STAGE1_SHARE) if budget > 0 else cfg
    t = SpurTrainer(dataset, run / runs.STAGE1, stage1_cfg, spur, log)
    init = _init_model(cfg.init, t.channels)
    if spur.freeze_stage1:
        stage1 = _frozen_stage1(init, cfg.init, t.channels)
        own = t.meta()  # what the model was fine-tuned on; the network's own fields stay the frozen stage 1's
        mine = {k: getattr(own, k) for k in ("dataset", "synthetic", "spacing_mm", "recipe", "antseg_version")}
        stage1.meta = replace(stage1.meta, **mine, epoch=0, val_score=None)
        res = None
    else:
        res = t.fit(step_cb=step_cb)
        stage1 = read_checkpoint(run / runs.STAGE1 / runs.BEST)
    refiner, rows = train_refiner(
        t.ds, t.train.cases, t.channels, spur, cfg.seed, t.device, log,
        init=init.build_refiner() if init is not None and init.refiner is not None else None,
        deadline=start + budget if budget > 0 else None,
    )  # fmt: skip
    meta = replace(stage1.meta, **spur.refiner_meta())
    path = save_checkpoint(run / runs.SPUR, stage1.build(), meta, refiner=refiner)
    write_csv(run / "refine_metrics.csv", rows, ["step", "loss", "l1_px", "seconds"])
    return {"stage1": res, "refine_rows": rows, "checkpoint": path}
