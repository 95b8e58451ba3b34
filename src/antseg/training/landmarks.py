"""Scleral-spur training: stage 1 (heatmaps on the letterboxed scan, the generic loop) and stage 2
(a small network refining each spur on a full-resolution crop around the first estimate)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from antseg.data.canonical import CanonicalDataset
from antseg.errors import AntsegInputError
from antseg.landmarks.heatmaps import decode, encode
from antseg.models import create_model, read_checkpoint
from antseg.training.config import TrainConfig
from antseg.training.data import Letterbox, SegSamples, gate_sides, normalize, prepare_image
from antseg.training.trainer import Trainer


@dataclass
class SpurConfig:
    """Settings of both stages (stage 1 uses the TrainConfig fields)."""

    sigma: float = 8.0  # stage-1 heatmap sigma, network-input pixels (wide: learns fast; stage 2 is precise)
    presence: float = 0.3  # peak below this: the spur is predicted absent
    crop: int = 128  # stage-2 crop size, full-resolution pixels
    refine_jitter: float = 32.0  # stage-2 training: crop centre offset from the truth (px)
    refine_iterations: int = 2  # inference passes, each re-centring the crop on the last estimate
    refine_steps: int = 1500
    refine_batch: int = 16
    refine_lr: float = 2e-3


def heatmap_loss():
    """Dice + Focal on sigmoid outputs, with each Gaussian heatmap as a soft mask. Plain MSE learns the
    tiny peaks far more slowly: the background dominates it."""
    from monai.losses import DiceFocalLoss

    return DiceFocalLoss(sigmoid=True, batch=True)


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
        return heatmap_loss()

    def task_meta(self) -> dict:
        return {"task": "landmarks", "sigma": self.spur.sigma, "presence": self.spur.presence}

    @torch.no_grad()
    def validate(self, data: SegSamples) -> dict:
        self.model.eval()
        errors, losses, misses = [], [], 0
        for i in range(0, len(data.cases), self.cfg.batch_size):
            x = data.images[i : i + self.cfg.batch_size].to(self.device)
            y = data.masks[i : i + self.cfg.batch_size].to(self.device)
            logits = gate_sides(self.model(x).float(), self.sides, data.inner_w[i : i + self.cfg.batch_size])
            losses.append(float(self.loss_fn(logits, y)) * len(x))
            out = torch.sigmoid(logits)
            for b, c in enumerate(data.cases[i : i + self.cfg.batch_size]):
                lb = Letterbox((c.height, c.width), tuple(self.cfg.input_size))
                for (px, py, peak), n in zip(decode(out[b]), self.channels, strict=True):
                    ref = c.landmarks.get(n)
                    if ref is None:
                        continue
                    if peak < self.spur.presence:
                        misses += 1
                        continue
                    gx, gy = lb.canvas_to_point((px, py))
                    errors.append(math.hypot(gx - ref[0], gy - ref[1]))
        mean = float(np.mean(errors)) if errors else float("inf")
        pen = mean + 50.0 * misses  # a missed spur costs like a 50 px error when picking the best epoch
        return {
            "val_loss": sum(losses) / len(data.cases),
            "val_error_px": mean,
            "val_missed": misses,
            "val_score": -pen,
        }

    def curve_panels(self) -> list[tuple[str, str]]:
        return [("val_error_px", "validation mean spur error (px, stage 1)"), ("val_missed", "missed spurs")]

    def describe(self, row: dict) -> str:
        return (
            f"val loss {row['val_loss']:.4f}  mean error {row['val_error_px']:.2f} px (stage 1)  "
            f"missed {row['val_missed']}"
        )


def _split_landmark_cases(cases, cfg):
    from antseg.data.split import SplitConfig, assign_splits

    if not any(c.split for c in cases):
        assign_splits(cases, SplitConfig(ratios=tuple(cfg.split_ratios), seed=cfg.seed))
    train = [c for c in cases if c.split == "train"]
    val = [c for c in cases if c.split == "val"] or train
    return train, val


# -- stage 2 ----------------------------------------------------------------------------------------------


def crop_at(img: np.ndarray, cx: float, cy: float, size: int, flip: bool) -> tuple[np.ndarray, tuple[int, int]]:
    """A (size, size) crop centred near (cx, cy), zero padded at borders, mirrored when ``flip``.

    Returns the crop (normalised float32) and its top-left corner in the image.
    """
    h, w = img.shape[:2]
    x0, y0 = int(round(cx)) - size // 2, int(round(cy)) - size // 2
    out = np.zeros((size, size), np.float32)
    xs0, ys0 = max(x0, 0), max(y0, 0)
    xs1, ys1 = min(x0 + size, w), min(y0 + size, h)
    if xs1 > xs0 and ys1 > ys0:
        out[ys0 - y0 : ys1 - y0, xs0 - x0 : xs1 - x0] = img[ys0:ys1, xs0:xs1]
    out = normalize(out.astype(np.uint8), "image_zscore")
    return (out[:, ::-1].copy() if flip else out), (x0, y0)


def soft_argmax(logits: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) logits -> (B, 2) expected (x, y) under a softmax over all pixels (integral regression)."""
    b, _, h, w = logits.shape
    p = torch.softmax(logits.reshape(b, -1), dim=1).reshape(b, h, w)
    xs = torch.arange(w, device=logits.device, dtype=p.dtype)
    ys = torch.arange(h, device=logits.device, dtype=p.dtype)
    return torch.stack([(p.sum(1) * xs).sum(1), (p.sum(2) * ys).sum(1)], dim=1)


def train_refiner(ds: CanonicalDataset, cases, channels: list[str], spur: SpurConfig, seed: int, device,
                  log=print) -> tuple[torch.nn.Module, list[dict]]:  # fmt: skip
    """Stage 2: one small U-Net for both sides (right-side crops are mirrored to look like left ones),
    trained by integral regression: soft-argmax of its output map against the true position, L1 loss."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    samples = []
    for c in cases:
        img = ds.load_image(c, grayscale=True)
        for n in channels:
            if c.landmarks.get(n) is not None:
                samples.append((img, c.landmarks[n], n.startswith("right_")))
    if not samples:
        raise AntsegInputError(ds.root, "no landmark to train the refiner on")
    model = create_model("unet-lite", in_channels=1, classes=1, channels=(16, 32, 64, 128), num_res_units=1).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=spur.refine_lr, weight_decay=1e-4)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, spur.refine_steps, eta_min=1e-5)
    rows, t0 = [], time.perf_counter()
    s = spur.crop
    for step in range(spur.refine_steps):
        xs, ys = [], []
        for j in rng.integers(0, len(samples), spur.refine_batch):
            img, (gx, gy), flip = samples[j]
            ox, oy = rng.uniform(-spur.refine_jitter, spur.refine_jitter, 2)
            crop, (x0, y0) = crop_at(img, gx + ox, gy + oy, s, flip)
            tx, ty = gx - x0, gy - y0
            if flip:
                tx = s - 1 - tx
            crop = crop * rng.uniform(0.8, 1.2) + rng.normal(0, 0.05, crop.shape).astype(np.float32)
            xs.append(crop[None])
            ys.append((tx, ty))
        x = torch.from_numpy(np.stack(xs)).float().to(device)
        y = torch.tensor(ys, dtype=torch.float32, device=device)
        loss = (soft_argmax(model(x)) - y).abs().sum(1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 100 == 0 or step + 1 == spur.refine_steps:
            rows.append({"step": step + 1, "loss": float(loss.detach()), "seconds": time.perf_counter() - t0})
            log(f"refiner step {step + 1}/{spur.refine_steps}  L1 error {float(loss.detach()):.2f} px")
    return model.eval(), rows


def train_spurs(dataset, run, cfg: TrainConfig, spur: SpurConfig | None = None, log=print, step_cb=None) -> dict:
    """Train both stages; writes ``<run>/stage1/`` (the generic run folder) and ``<run>/spur.pt``.

    Returns:
        {"stage1": TrainResult, "refine_rows": [...], "checkpoint": path}
    """
    import csv

    spur = spur or SpurConfig()
    run = Path(run)
    t = SpurTrainer(dataset, run / "stage1", cfg, spur, log)
    res = t.fit(step_cb=step_cb)
    refiner, rows = train_refiner(t.ds, t.train.cases, t.channels, spur, cfg.seed, t.device, log)
    ck = read_checkpoint(run / "stage1" / "best.pt")
    payload = {k: v for k, v in ck.items() if k not in ("path", "training")}
    payload["meta"] = {**payload["meta"], "crop": spur.crop, "refine_iterations": spur.refine_iterations}
    payload["refiner"] = {
        "model": refiner.antseg_spec,
        "state_dict": {k: v.cpu() for k, v in refiner.state_dict().items()},
    }
    torch.save(payload, run / "spur.pt")
    with open(run / "refine_metrics.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=["step", "loss", "seconds"], lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
    return {"stage1": res, "refine_rows": rows, "checkpoint": run / "spur.pt"}
