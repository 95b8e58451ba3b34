"""Every registered segmentation model on this machine: parameters, inference latency at 512x512, and
phantom test Dice after the same fixed training budget.

Usage: python benchmarks/bench_models.py [--budget 120] [--n 40] [--threads 2] [--models unet,unet-lite]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch

from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.data.split import SplitConfig, split_dataset
from antseg.evaluation import evaluate_segmentation
from antseg.models import create_model, list_models
from antseg.training import TrainConfig, train_segmentation


def latency_ms(name: str, runs: int = 7, classes: int = 5, hw: tuple[int, int] = (512, 512)) -> tuple[float, float]:
    """(parameters in millions, median ms of one forward pass) of model ``name`` on a (1, 1, *hw) input."""
    m = create_model(name, in_channels=1, classes=classes).eval()
    x = torch.randn(1, 1, *hw)
    with torch.no_grad():
        m(x)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            m(x)
            times.append(1000 * (time.perf_counter() - t))
    return sum(p.numel() for p in m.parameters()) / 1e6, statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--budget", type=float, default=120.0, help="training seconds per model")
    ap.add_argument("--n", type=int, default=40, help="phantom scans (70/15/15 split)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--models", default=",".join(list_models()))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        ds = generate_asoct_dataset(Path(tmp) / "ds", AsoctPhantomConfig(n=args.n, workers=2))
        split_dataset(ds, SplitConfig())
        rows = []
        for name in args.models.split(","):
            params, ms = latency_ms(name)
            cfg = TrainConfig(
                model=name, epochs=1000, time_budget_s=args.budget, lr=2e-3 if name == "unet-lite" else 1e-3
            )
            res = train_segmentation(ds, Path(tmp) / name, cfg, log=lambda s: None)
            ev = evaluate_segmentation(Path(tmp) / name, ds, Path(tmp) / f"ev-{name}", split="test", device="cpu")
            dice = {r["structure"]: r["dice_mean"] for r in ev["structures"]}
            rows.append((name, params, ms, res.epochs_done, ev["overall"]["dice"], min(dice.values())))
            print(
                f"{name:14s} {params:6.2f} M  {ms:7.0f} ms/img  {res.epochs_done:4d} epochs  "
                f"test Dice mean {ev['overall']['dice']:.4f}  worst structure {min(dice.values()):.4f}",
                flush=True,
            )
    print(
        f"\n| model | params (M) | CPU ms/image 512x512 ({args.threads} threads, median) "
        f"| epochs in {args.budget:.0f} s "
        "| phantom test Dice (mean) | worst structure |"
    )
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.2f} | {r[2]:.0f} | {r[3]} | {r[4]:.4f} | {r[5]:.4f} |")


if __name__ == "__main__":
    main()
