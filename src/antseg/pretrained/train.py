"""Rebuild antseg's shipped default models: realistic phantoms only, fixed seeds and fixed step counts.

    python -m antseg.pretrained.train --out runs/pretrained             # phantom, both models, packed weights
    python -m antseg.pretrained.train --out runs/pretrained --install   # and copy them into the package

Steps: a realistic phantom (several devices' geometries, some hidden spurs), the segmentation model
(``unet-lite``: anterior chamber, lens, nucleus, irises, cornea), the two-stage spur model, then both packed
as fp16 checkpoints (``segmentation.pt``, ``spurs.pt``) marked synthetic. Every count is fixed (no time
budget), so the same command on the same torch build and thread count gives the same weights.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from antseg.models import read_checkpoint, runs, save_checkpoint
from antseg.models.checkpoint import build_model

#: What the shipped checkpoints say about their training data.
DATASET_NAME = "antseg realistic phantom (synthetic only)"
CASIA_SPACING = [0.0075, 0.0075]  # mm per pixel of CASIA2 / SS-1000 scans, the scale the phantom mimics


@dataclass
class PretrainConfig:
    """Settings of the shipped models' training (the defaults made the shipped files)."""

    n: int = 400  # phantom scans (90 % train, 10 % validation)
    seed: int = 0
    devices: tuple[str, ...] = ("ss1000", "ss1000", "casia2", "narrow")
    hidden_spurs: float = 0.1
    seg_epochs: int = 7
    spur_epochs: int = 4
    refine_steps: int = 800
    spur_channels: tuple[int, ...] = (16, 32, 64, 128, 128)  # stage 1 of the spur model (0.93 M parameters)
    lr: float = 2e-3
    threads: int = 1  # CPU threads (the weights depend on it; 1 is fastest on a busy 2-core machine)
    workers: int = 2  # phantom generation processes (the phantom does not depend on it)


def pack(src: Path, dst: Path, meta_changes: dict) -> Path:
    """Copy a checkpoint as fp16 weights (half the size; loaded back into fp32 models), with meta changes."""
    ck = read_checkpoint(src)
    model = build_model(ck.model, ck.state_dict).half()
    refiner = ck.build_refiner().half() if ck.refiner is not None else None
    return save_checkpoint(dst, model, replace(ck.meta, **meta_changes), refiner=refiner)


def train_default(out: str | Path, cfg: PretrainConfig, log=print) -> dict:
    """Make the phantom, train both models and pack them into ``out``; returns timings and scores."""
    from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
    from antseg.training import TrainConfig, train_segmentation
    from antseg.training.spurs import SpurConfig, train_spurs

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t: dict[str, float] = {}
    t0 = time.perf_counter()
    data = out / "phantom"
    if not (data / "dataset.json").is_file():
        pcfg = AsoctPhantomConfig(
            n=cfg.n, seed=cfg.seed, style="realistic", devices=tuple(cfg.devices), hidden_spurs=cfg.hidden_spurs,
            workers=cfg.workers, name="realistic-phantom",
        )  # fmt: skip
        generate_asoct_dataset(data, pcfg)
    t["phantom_s"] = time.perf_counter() - t0
    log(f"phantom: {cfg.n} realistic scans in {t['phantom_s']:.0f} s")
    common = dict(seed=cfg.seed, threads=cfg.threads, lr=cfg.lr, split_ratios=(0.9, 0.1, 0.0), input_size=(256, 512))
    t0 = time.perf_counter()
    seg_cfg = TrainConfig(model="unet-lite", epochs=cfg.seg_epochs, **common)
    seg = train_segmentation(data, out / "seg", seg_cfg, log=log)
    t["segmentation_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    scfg = TrainConfig(
        model="unet-lite", model_args={"channels": tuple(cfg.spur_channels)}, epochs=cfg.spur_epochs, **common
    )
    spur = train_spurs(data, out / "spur", scfg, SpurConfig(refine_steps=cfg.refine_steps), log=log)
    t["spurs_s"] = time.perf_counter() - t0
    meta = {"dataset": DATASET_NAME, "synthetic": True, "spacing_mm": CASIA_SPACING, "recipe": "pretrained-default"}
    pack(out / "seg" / runs.BEST, out / "segmentation.pt", meta)
    pack(out / "spur" / runs.SPUR, out / "spurs.pt", meta)
    summary = {
        "config": asdict(cfg),
        "seconds": t,
        "segmentation_val_dice": seg.best_score,
        "segmentation_best_epoch": seg.best_epoch,
        "spur_stage1_val_score": spur["stage1"].best_score,
        "torch": torch.__version__,
        "files": {f: (out / f).stat().st_size for f in ("segmentation.pt", "spurs.pt")},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    log(f"done in {sum(t.values()):.0f} s: {json.dumps(summary['seconds'])}")
    return summary


def install(out: str | Path) -> list[Path]:
    """Copy the packed checkpoints of ``out`` into the installed package (what ``default`` loads)."""
    from antseg.pretrained import FILES

    pkg = Path(__file__).resolve().parent
    done = []
    for name in FILES.values():
        shutil.copyfile(Path(out) / name, pkg / name)
        done.append(pkg / name)
    return done


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="Work folder: phantom, run folders, packed checkpoints.")
    ap.add_argument("--install", action="store_true", help="Copy the packed checkpoints into the package.")
    d = PretrainConfig()
    for name in ("n", "seed", "seg_epochs", "spur_epochs", "refine_steps", "threads", "workers"):
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(d, name))
    args = ap.parse_args(argv)
    cfg = PretrainConfig(**{k: getattr(args, k) for k in ("n", "seed", "seg_epochs", "spur_epochs", "refine_steps",
                                                         "threads", "workers")})  # fmt: skip
    torch.set_num_threads(cfg.threads)
    train_default(args.out, cfg)
    if args.install:
        for p in install(args.out):
            print(f"installed {p}")


if __name__ == "__main__":
    main()
