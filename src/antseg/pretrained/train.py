"""Rebuild antseg's shipped default models: realistic phantoms only, fixed seeds and fixed step counts.

    python -m antseg.pretrained.train --out runs/pretrained             # phantom, both models, packed weights
    python -m antseg.pretrained.train --out runs/pretrained --install   # and copy them into the package

Steps: a realistic phantom (several devices' geometries, some hidden spurs), the segmentation model (an
``ensemble`` of ``unet-lite`` networks for the anterior chamber, lens, nucleus, irises and cornea, each trained
apart with its own seed on its own phantom draw), the two-stage spur model, then both packed as fp16 checkpoints
(``segmentation.pt``, ``spurs.pt``) marked synthetic. Every count is fixed (no time budget), so the same command
on the same torch build and thread count gives the same weights.
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
from antseg.models.shipped import FILES

#: What the shipped checkpoints say about their training data.
DATASET_NAME = "antseg realistic phantom (synthetic only)"
CASIA_SPACING = [0.0075, 0.0075]  # mm per pixel of CASIA2 / SS-1000 scans, the scale the phantom mimics
#: The packed file each model is written to (the files ``default`` loads).
FILES_BY_MODEL = {"seg": FILES["segmentation"], "spurs": FILES["landmarks"]}


@dataclass
class PretrainConfig:
    """Settings of the shipped models' training (the defaults made the shipped files)."""

    n: int = 400  # phantom scans (90 % train, 10 % validation)
    seed: int = 0
    devices: tuple[str, ...] = ("ss1000", "ss1000", "casia2", "narrow")
    hidden_spurs: float = 0.1
    narrow_fields: float = 0.3  # scans with a narrower field than their device's (see AsoctPhantomConfig)
    seg_epochs: int = 10
    seg_members: int = 2  # segmentation networks averaged: member k has seed + k and the phantom drawn with it
    spur_epochs: int = 7
    refine_steps: int = 1500
    spur_channels: tuple[int, ...] = (16, 32, 64, 128, 128)  # stage 1 of the spur model (0.93 M parameters)
    lr: float = 2e-3
    threads: int = 1  # CPU threads (the weights depend on it; 1 is fastest on a busy 2-core machine)
    workers: int = 2  # phantom generation processes (the phantom does not depend on it)


def pack_ensemble(srcs: list[Path], dst: Path, meta_changes: dict) -> Path:
    """Pack the segmentation checkpoints ``srcs`` as one fp16 ``ensemble`` checkpoint (the first one's meta)."""
    from antseg.models.ensemble import ensemble_of

    cks = [read_checkpoint(p) for p in srcs]
    model = ensemble_of([build_model(ck.model, ck.state_dict) for ck in cks]).half()
    return save_checkpoint(dst, model, replace(cks[0].meta, **meta_changes))


def member_phantom(out: Path, k: int) -> Path:
    """The phantom segmentation member ``k`` trains on (member 0 and the spur model share ``phantom``)."""
    return out / ("phantom" if k == 0 else f"phantom-{k}")


def member_run(out: Path, k: int) -> Path:
    """The run folder of segmentation member ``k``."""
    return out / ("seg" if k == 0 else f"seg-{k}")


def pack(src: Path, dst: Path, meta_changes: dict) -> Path:
    """Copy a checkpoint as fp16 weights (half the size; loaded back into fp32 models), with meta changes."""
    ck = read_checkpoint(src)
    model = build_model(ck.model, ck.state_dict).half()
    refiner = ck.build_refiner().half() if ck.refiner is not None else None
    return save_checkpoint(dst, model, replace(ck.meta, **meta_changes), refiner=refiner)


#: What ``--models`` can name: the two shipped models.
MODELS: tuple[str, ...] = ("seg", "spurs")


def train_default(out: str | Path, cfg: PretrainConfig, models=MODELS, log=print) -> dict:
    """Make the phantoms (once), train ``models`` on them and pack them into ``out``; returns timings and scores.

    Each model depends only on its phantoms, its own seeds and the thread count, so ``seg`` and ``spurs`` may
    be trained by two processes at once (after one has made the first phantom) and give the same files. The
    segmentation's members train one after the other, member ``k`` with seed ``cfg.seed + k`` on the phantom drawn
    with that seed (``phantom-k``; member 0 and the spur model share ``phantom``).
    """
    from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
    from antseg.training import TrainConfig, train_segmentation
    from antseg.training.spurs import SpurConfig, train_spurs

    unknown = set(models) - set(MODELS)
    if unknown:
        raise ValueError(f"unknown model(s) {', '.join(sorted(unknown))}; valid: {', '.join(MODELS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t: dict[str, float] = {}
    summary: dict = {"config": asdict(cfg), "torch": torch.__version__}
    if cfg.seg_members < 1:
        raise ValueError(f"seg_members must be at least 1, got {cfg.seg_members}")
    data = member_phantom(out, 0)
    draws = range(cfg.seg_members if "seg" in models else 1)
    for k in draws:
        if not (member_phantom(out, k) / "dataset.json").is_file():
            t0 = time.perf_counter()
            pcfg = AsoctPhantomConfig(
                n=cfg.n, seed=cfg.seed + k, style="realistic", devices=tuple(cfg.devices),
                hidden_spurs=cfg.hidden_spurs, narrow_fields=cfg.narrow_fields, workers=cfg.workers,
                name="realistic-phantom",
            )  # fmt: skip
            generate_asoct_dataset(member_phantom(out, k), pcfg)
            key = f"phantom_{k}_s" if k else "phantom_s"
            t[key] = time.perf_counter() - t0
            log(f"phantom {k}: {cfg.n} realistic scans in {t[key]:.0f} s")
    common = dict(seed=cfg.seed, threads=cfg.threads, lr=cfg.lr, split_ratios=(0.9, 0.1, 0.0), input_size=(256, 512))
    meta = {"dataset": DATASET_NAME, "synthetic": True, "spacing_mm": CASIA_SPACING, "recipe": "pretrained-default"}
    if "seg" in models:
        t0 = time.perf_counter()
        members = []
        for k in range(cfg.seg_members):
            seg_cfg = TrainConfig(model="unet-lite", epochs=cfg.seg_epochs, **{**common, "seed": cfg.seed + k})
            members.append(train_segmentation(member_phantom(out, k), member_run(out, k), seg_cfg, log=log))
        t["segmentation_s"] = time.perf_counter() - t0
        pack_ensemble([m.run / runs.BEST for m in members], out / FILES_BY_MODEL["seg"], meta)
        summary.update(segmentation_val_dice=[m.best_score for m in members],
                       segmentation_best_epoch=[m.best_epoch for m in members])  # fmt: skip
    if "spurs" in models:
        t0 = time.perf_counter()
        scfg = TrainConfig(
            model="unet-lite", model_args={"channels": tuple(cfg.spur_channels)}, epochs=cfg.spur_epochs, **common
        )
        spur = train_spurs(data, out / "spur", scfg, SpurConfig(refine_steps=cfg.refine_steps), log=log)
        t["spurs_s"] = time.perf_counter() - t0
        pack(out / "spur" / runs.SPUR, out / FILES_BY_MODEL["spurs"], meta)
        summary["spur_stage1_val_score"] = spur["stage1"].best_score
    summary["seconds"] = t
    summary["files"] = {f: (out / f).stat().st_size for f in FILES_BY_MODEL.values() if (out / f).is_file()}
    name = "summary.json" if set(models) == set(MODELS) else f"summary-{'-'.join(models) or 'phantom'}.json"
    (out / name).write_text(json.dumps(summary, indent=2))
    log(f"done in {sum(t.values()):.0f} s: {json.dumps(t)}")
    return summary


def install(out: str | Path) -> list[Path]:
    """Copy the packed checkpoints of ``out`` into the installed package (what ``default`` loads)."""
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
    ap.add_argument(
        "--models", default=",".join(MODELS),
        help="Comma-separated models to train (seg, spurs; '' makes only the phantom). Two processes may train "
        "one each at once once the phantom exists.",
    )  # fmt: skip
    d = PretrainConfig()
    for name in ("n", "seed", "seg_epochs", "seg_members", "spur_epochs", "refine_steps", "threads", "workers"):
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(d, name))
    args = ap.parse_args(argv)
    cfg = PretrainConfig(**{k: getattr(args, k) for k in ("n", "seed", "seg_epochs", "seg_members", "spur_epochs",
                                                         "refine_steps", "threads", "workers")})  # fmt: skip
    torch.set_num_threads(cfg.threads)
    train_default(args.out, cfg, [m for m in args.models.split(",") if m])
    if args.install:
        for p in install(args.out):
            print(f"installed {p}")


if __name__ == "__main__":
    main()
