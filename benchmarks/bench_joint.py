"""Shared encoder or separate networks? One network trained for the 5 structures and the 2 spurs at once,
against the two separate networks, with the same total CPU training budget, on the same phantom split.

Both are scored the same way on the test split, at the network resolution (256x512): Dice per structure
(hard masks, threshold 0.5) and the stage-1 spur error in original pixels (before refinement).

Usage:
    python benchmarks/bench_joint.py [--seg-budget 210] [--spur-budget 120] [--n 40] [--out DIR]
"""

from __future__ import annotations

import argparse
import math
import tempfile
from pathlib import Path

import numpy as np
import torch

from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.data.split import SplitConfig, split_dataset
from antseg.landmarks.heatmaps import encode
from antseg.landmarks.softmax import SpatialSoftmaxCE, decode_logits
from antseg.models.checkpoint import load_model
from antseg.preprocessing import Letterbox, gate_sides, side_channels
from antseg.training import TrainConfig, train_segmentation
from antseg.training.samples import SegSamples, load_samples
from antseg.training.spurs import SpurConfig, SpurTrainer
from antseg.training.trainer import Trainer, batch_metrics


class JointTrainer(Trainer):
    """Structures (Dice+Focal on sigmoid channels) and spurs (spatial softmax) from one network."""

    sigma = SpurConfig().sigma

    def channel_names(self) -> list[str]:
        return self.ds.structures + self.ds.landmarks

    def load(self, cases) -> SegSamples:
        s = load_samples(self.ds, cases, self.in_channels, tuple(self.cfg.input_size), self.cfg.normalization)
        hw = tuple(self.cfg.input_size)
        hms = []
        for c in cases:
            lb = Letterbox((c.height, c.width), hw)
            pts = [
                None if c.landmarks.get(n) is None else lb.point_to_canvas(c.landmarks[n]) for n in self.ds.landmarks
            ]
            hms.append(encode(pts, hw, self.sigma))
        return SegSamples(s.images, torch.cat([s.masks, torch.from_numpy(np.stack(hms))], 1), s.inner_w, s.cases)

    def make_loss(self):
        seg, spur, k = super().make_loss(), SpatialSoftmaxCE(null=True), len(self.ds.structures)
        return lambda logits, y: seg(logits[:, :k], y[:, :k]) + spur(logits[:, k:], y[:, k:])

    @torch.no_grad()
    def validate(self, data: SegSamples) -> dict:
        self.model.eval()
        logits = gate_sides(self.model(data.images).float(), self.sides, data.inner_w)
        loss = float(self.loss_fn(logits, data.masks))
        dice, err = score(self.model, self.model, data, self.ds.structures, self.ds.landmarks, self.cfg.input_size)
        d = float(np.mean(dice))
        return {"val_loss": loss, "val_dice": d, "val_error_px": err, "val_score": d - err / 100}

    def curve_panels(self) -> list[tuple[str, str]]:
        return [("val_dice", "validation Dice"), ("val_error_px", "validation spur error (px, stage 1)")]

    def describe(self, row: dict) -> str:
        return f"val Dice {row['val_dice']:.4f}  spur error {row['val_error_px']:.1f} px"


@torch.no_grad()
def score(seg_model, spur_model, data: SegSamples, structures, landmarks, hw) -> tuple[list[float], float]:
    """Mean Dice per structure and mean stage-1 spur error (px, original image). With one joint network
    pass it as both models: its structure channels come first."""
    seg_model.eval()
    spur_model.eval()
    dices, errs = [], []
    k = len(structures)
    for i, c in enumerate(data.cases):
        x, w = data.images[i : i + 1], data.inner_w[i : i + 1]
        out = seg_model(x).float()
        seg, spur = (out[:, :k], out[:, k:]) if seg_model is spur_model else (out, spur_model(x).float())
        seg = gate_sides(seg, side_channels(structures), w)
        spur = gate_sides(spur, side_channels(landmarks), w)
        dices.append(batch_metrics(seg, data.masks[i : i + 1, :k])[0].tolist())
        lb = Letterbox((c.height, c.width), tuple(hw))
        for (px, py, _), n in zip(decode_logits(spur[0], SpurConfig().sigma), landmarks, strict=True):
            gx, gy = lb.canvas_to_point((px, py))
            errs.append(math.hypot(gx - c.landmarks[n][0], gy - c.landmarks[n][1]))
    return np.mean(dices, 0).tolist(), float(np.mean(errs))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seg-budget", type=float, default=210.0)
    ap.add_argument("--spur-budget", type=float, default=120.0)
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--out", type=Path, help="keep the runs here (default: a temporary folder)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = args.out or Path(tmp)
        ds = generate_asoct_dataset(root / "ds", AsoctPhantomConfig(n=args.n))
        split_dataset(ds, SplitConfig())
        base = {"model": "unet-lite", "seed": 0, "lr": 2e-3}
        quiet = lambda s: None  # noqa: E731
        train_segmentation(ds, root / "seg", TrainConfig(**base, epochs=60, time_budget_s=args.seg_budget), log=quiet)
        spur_cfg = TrainConfig(**base, epochs=50, time_budget_s=args.spur_budget)
        SpurTrainer(ds, root / "spur1", spur_cfg, SpurConfig(), quiet).fit()
        total = args.seg_budget + args.spur_budget
        joint = JointTrainer(ds, root / "joint", TrainConfig(**base, epochs=80, time_budget_s=total), log=quiet)
        joint.fit()
        test = [c for c in joint.ds.cases if c.split == "test"]
        data, hw = joint.load(test), joint.cfg.input_size
        structures, landmarks = joint.ds.structures, joint.ds.landmarks
        seg_m, _ = load_model(root / "seg" / "best.pt")
        spur_m, _ = load_model(root / "spur1" / "best.pt")
        joint_m, _ = load_model(root / "joint" / "best.pt")
        sep_dice, sep_err = score(seg_m, spur_m, data, structures, landmarks, hw)
        j_dice, j_err = score(joint_m, joint_m, data, structures, landmarks, hw)
    print(f"{len(test)} test scans, scored at {hw[1]}x{hw[0]}:")
    print("| network(s) | training (s) | Dice mean | worst structure | stage-1 spur error (px) |")
    print("|---|---|---|---|---|")
    sep = f"{args.seg_budget:.0f} + {args.spur_budget:.0f}"
    print(f"| separate | {sep} | {np.mean(sep_dice):.4f} | {min(sep_dice):.4f} | {sep_err:.1f} |")
    print(f"| joint | {total:.0f} | {np.mean(j_dice):.4f} | {min(j_dice):.4f} | {j_err:.1f} |")


if __name__ == "__main__":
    main()
