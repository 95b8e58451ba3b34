"""antseg's default model against nnU-Net v2 (antseg's ``nnunet`` engine) on this machine (CPU): in-process
inference speed on the same full-size AS-OCT phantom scans, and test Dice on downscaled phantoms after the same
training budget.

Speed: nnU-Net plans and preprocesses full-size phantoms (2d configuration) and the engine is run with
``epochs=0``, so the checkpoint holds the initial, untrained network: latency does not depend on the weights.
Each image is timed through ``predictor.predict`` (preprocessing, sliding window, resampling, decoding), after
a one-patch warm-up, without and with test-time mirroring (4 network passes per tile in 2D).

Dice: nnU-Net trains on downscaled phantoms (70/15/15 patient split) for ``--budget`` seconds of wall clock
(planning included; the poly learning rate is fitted to the budget), then predicts the test split.

The antseg side (the default model, ``unet-lite``, trained by the ``unet-lite`` engine with the same budget) is
timed and scored on the same images through the same engine interface.

Usage: python benchmarks/bench_nnunet.py [--budget 240] [--size 256x120] [--n 24] [--speed-size 2130x998]
       [--speed-images 3] [--iterations 50] [--threads 2] [--skip-speed] [--skip-dice]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from antseg.data import load_dataset
from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.data.split import SplitConfig, split_dataset
from antseg.engines import EngineConfig, get_engine
from antseg.metrics import dice_iou
from antseg.models import DEFAULT_MODEL


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def _time_ms(pred, images: list[np.ndarray]) -> list[float]:
    out = []
    for img in images:
        t = time.perf_counter()
        pred.predict(img)
        out.append(1000 * (time.perf_counter() - t))
    return out


def speed(tmp: Path, size: tuple[int, int], n_images: int) -> dict:
    """ms/image at ``size`` (W, H), median over ``n_images``, with and without mirroring; untrained weights."""
    ds = generate_asoct_dataset(tmp / "full", AsoctPhantomConfig(n=max(n_images, 2), size=size, seed=1))
    split_dataset(ds, SplitConfig(ratios=(1.0, 0.0, 0.0)))
    eng, run = get_engine("nnunet"), tmp / "run-full"
    eng.train(ds, run, EngineConfig(epochs=0, device="cpu", options={"iterations": 1}), log=lambda s: None)
    meta = json.loads((run / "nnunet.json").read_text())
    pred = eng.load(run, "cpu")
    data = load_dataset(ds)
    images = [data.load_image(c, grayscale=True) for c in data.cases[:n_images]]
    res = {"size": f"{size[0]}x{size[1]}", "params_m": pred.n_parameters / 1e6, "patch": list(pred.config.patch_size)}
    res["plan_s"] = meta["plan_seconds"]
    ours, ours_run = get_engine(DEFAULT_MODEL), tmp / "run-full-antseg"
    ours.train(ds, ours_run, EngineConfig(epochs=1, device="cpu"), log=lambda s: None)
    ours_pred = ours.load(ours_run, "cpu")
    ours_pred.predict(images[0])  # warm-up
    ms = _time_ms(ours_pred, images)
    res[DEFAULT_MODEL] = {"median_ms": statistics.median(ms), "all_ms": ms, "params_m": ours_pred.n_parameters / 1e6}
    pred.use_mirroring = False
    pred.predict(images[0][:64, :64])  # warm-up: padded to one patch (first allocations, cached Gaussian)
    for mirroring in (False, True):
        pred.use_mirroring = mirroring
        ms = _time_ms(pred, images)
        res["mirror" if mirroring else "no_mirror"] = {"median_ms": statistics.median(ms), "all_ms": ms}
    return res


def _score(pred, data) -> tuple[dict[str, float], list[float]]:
    """Per-structure mean test Dice and ms per image of ``pred`` on the test split of ``data``."""
    scores: dict[str, list[float]] = {s: [] for s in data.structures}
    ms = []
    for c in data.subset("test"):
        img = data.load_image(c, grayscale=True)
        t = time.perf_counter()
        out = pred.predict(img)
        ms.append(1000 * (time.perf_counter() - t))
        ref = data.load_masks(c)
        for k, s in enumerate(data.structures):
            scores[s].append(dice_iou(out.masks[pred.structures.index(s)], ref[k])[0])
    return {s: float(np.mean(v)) for s, v in scores.items()}, ms


def dice(tmp: Path, size: tuple[int, int], n: int, budget: float, iterations: int) -> dict:
    """Per-structure test Dice after ``budget`` seconds of training on ``n`` phantoms at ``size``: nnU-Net, and
    antseg's default model with the same budget on the same split."""
    ds = generate_asoct_dataset(tmp / "small", AsoctPhantomConfig(n=n, size=size, seed=0))
    split_dataset(ds, SplitConfig())
    eng, run = get_engine("nnunet"), tmp / "run-small"
    cfg = EngineConfig(budget_s=budget, device="cpu", options={"iterations": iterations})
    eng.train(ds, run, cfg, log=print)
    meta = json.loads((run / "nnunet.json").read_text())
    pred = eng.load(run, "cpu")
    data = load_dataset(ds)
    per, ms = _score(pred, data)
    ours, ours_run = get_engine(DEFAULT_MODEL), tmp / "run-small-antseg"
    t0 = time.perf_counter()
    ours.train(ds, ours_run, EngineConfig(budget_s=budget, device="cpu"), log=lambda s: None)
    ours_s = time.perf_counter() - t0
    ours_per, ours_ms = _score(ours.load(ours_run, "cpu"), data)
    return {
        DEFAULT_MODEL: {
            "train_s": ours_s,
            "dice": ours_per,
            "dice_mean": float(np.mean(list(ours_per.values()))),
            "ms_per_image": statistics.median(ours_ms),
        },
        "size": f"{size[0]}x{size[1]}",
        "n_train_val_test": [len(data.subset(p)) for p in ("train", "val", "test")],
        "params_m": pred.n_parameters / 1e6,
        "patch": list(pred.config.patch_size),
        "epochs": meta["epochs_done"],
        "iterations_per_epoch": meta["iterations"],
        "plan_s": meta["plan_seconds"],
        "train_s": meta["train_seconds"],
        "dice": per,
        "dice_mean": float(np.mean(list(per.values()))),
        "ms_per_image_mirror": statistics.median(ms),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--budget", type=float, default=240.0, help="training wall-clock seconds for the Dice part")
    ap.add_argument("--size", type=_size, default=(256, 120), help="WxH of the downscaled Dice phantoms")
    ap.add_argument("--n", type=int, default=24, help="phantom scans for the Dice part (70/15/15 split)")
    ap.add_argument("--speed-size", type=_size, default=(2130, 998), help="WxH of the timed scans")
    ap.add_argument("--speed-images", type=int, default=3, help="timed images per setting")
    ap.add_argument("--iterations", type=int, default=50, help="training iterations per nnU-Net epoch")
    ap.add_argument("--threads", type=int, default=2, help="torch CPU threads")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-dice", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = {"threads": args.threads, "torch": torch.__version__}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_speed:
            results["speed"] = speed(Path(tmp), args.speed_size, args.speed_images)
            print(json.dumps(results["speed"], indent=1))
        if not args.skip_dice:
            results["dice"] = dice(Path(tmp), args.size, args.n, args.budget, args.iterations)
            print(json.dumps(results["dice"], indent=1))
    print(json.dumps(results))


if __name__ == "__main__":  # nnU-Net plans/preprocesses in spawn pools, which re-import this module
    main()
