"""Scleral-spur model speed on this machine: ms per 2130x998 scan for stage 1 (heatmaps on the letterboxed
scan) and stage 2 (refinement passes on full-resolution crops), and what a shared encoder would save: one
forward pass of the segmentation network with the two spur channels added, against two separate passes.

Usage:
    python benchmarks/bench_spurs.py [--weights RUN_OR_SPUR_PT] [--n 10] [--threads 2]

Without ``--weights`` the default architectures are timed with random weights (speed does not depend on
the weights; the presence threshold is set to 0 so that stage 2 always runs).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

import torch
from bench_models import latency_ms  # this folder is on sys.path when run as a script

from antseg.anatomy import SPURS
from antseg.data.canonical import load_dataset
from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.inference.spurs import SpurPredictor
from antseg.models import create_model
from antseg.models.checkpoint import CheckpointMeta, save_checkpoint
from antseg.training.config import TrainConfig
from antseg.training.spurs import SpurConfig, make_refiner


def untrained_spur_checkpoint(path: Path) -> Path:
    """A spur.pt with the default architectures and random weights."""
    cfg, spur = TrainConfig(), SpurConfig()
    stage1 = create_model(cfg.model, in_channels=1, classes=2)
    refiner = make_refiner()
    meta = CheckpointMeta(
        **{**spur.stage1_meta(), **spur.refiner_meta(), "presence": 0.0},
        landmarks=list(SPURS),
        input_size=list(cfg.input_size),
        in_channels=1,
        side_gate=True,
        normalization=cfg.normalization,
    )
    save_checkpoint(path, stage1, meta, refiner=refiner)
    return path


def forward_ms(classes: int, hw: tuple[int, int]) -> float:
    """Median ms of one forward pass of the default network with ``classes`` outputs at ``hw``."""
    return latency_ms(TrainConfig().model, runs=9, classes=classes, hw=hw)[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", type=Path, help="a spur run folder or spur.pt (default: random weights)")
    ap.add_argument("--n", type=int, default=10, help="phantom scans to time (2130x998)")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        weights = args.weights or untrained_spur_checkpoint(Path(tmp) / "spur.pt")
        ds = load_dataset(generate_asoct_dataset(Path(tmp) / "ds", AsoctPhantomConfig(n=args.n)))
        pred = SpurPredictor(weights, device="cpu")
        images = [ds.load_image(c, grayscale=True) for c in ds.cases]
        pred.predict(images[0])  # warm-up
        s1, s2 = [], []
        for img in images:
            pred.predict(img)
            s1.append(pred.timings["stage1_ms"])
            s2.append(pred.timings["stage2_ms"])
    hw = pred.meta.input_hw
    seg, spur, joint = forward_ms(5, hw), forward_ms(2, hw), forward_ms(7, hw)
    passes = int(pred.meta.refine_iterations or 2)
    print(f"| stage | CPU ms per 2130x998 scan ({args.threads} threads, median of {len(images)}) |")
    print("|---|---|")
    print(f"| stage 1: letterbox {hw[1]}x{hw[0]}, heatmaps, decoding | {statistics.median(s1):.1f} |")
    crops = f"{pred.starts + 1} starts x {passes} passes x 2 spurs, {pred.meta.crop} px crops"
    print(f"| stage 2: {crops} | {statistics.median(s2):.1f} |")
    print(f"| both stages | {statistics.median(s1) + statistics.median(s2):.1f} |")
    print(f"\nShared encoder, network forward only at {hw[1]}x{hw[0]} (median of 9):")
    print(f"  segmentation (5 outputs) {seg:.1f} ms + spur stage 1 (2 outputs) {spur:.1f} ms = {seg + spur:.1f} ms")
    print(f"  one joint network (7 outputs) {joint:.1f} ms: saves {seg + spur - joint:.1f} ms per scan")


if __name__ == "__main__":
    main()
