"""Rebuild antseg's shipped default surgical model: the surgical phantom only, fixed seeds and step counts.

    python -m antseg.pretrained.train_surgical --out runs/surgical             # phantom, model, ONNX, card
    python -m antseg.pretrained.train_surgical --out runs/surgical --install   # and copy them into the package

Steps (each is skipped when its output is already in ``--out``, so an interrupted rebuild continues):
1. ``phantom``: the realistic surgical phantom (4:3 and 16:9 videos, some without an eye), split by video;
2. ``train``: ``unet-lite`` for ``cornea`` (the limbus-bounded disc) and ``pupil``, both whole under instruments;
3. ``pack``: fp16 weights marked synthetic (``surgical.pt``) and the same network for ONNX Runtime
   (``surgical.onnx``, when the ``onnx`` extra is installed);
4. ``card``: the model's figures on an unseen phantom and the confidence calibration, in ``surgical.card.json``
   (:mod:`antseg.pretrained.surgical_card`).

The AS-OCT defaults (``segmentation.pt``, ``spurs.pt``) are not touched.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from antseg.models import runs
from antseg.models.shipped import SURGICAL_CARD, SURGICAL_FILE, SURGICAL_ONNX

#: What the shipped surgical checkpoint says about its training data.
DATASET_NAME = "antseg surgical phantom (synthetic only)"
STEPS = ("phantom", "train", "pack", "card")
#: What the shipped model segments: the limbus-bounded disc and the pupil (instruments are too thin at its input).
STRUCTURES = ("cornea", "pupil")


@dataclass
class SurgicalPretrainConfig:
    """Settings of the shipped surgical model's training (the defaults made the shipped files)."""

    videos: int = 320
    frames_per_video: int = 4
    size: tuple[int, int] = (640, 480)  # rendered 4:3 frames (16:9 ones: the same height)
    wide: float = 0.35
    no_eye: float = 0.06
    seed: int = 0
    input_size: tuple[int, int] = (192, 256)  # (height, width) network input
    channels: tuple[int, ...] = (8, 16, 32, 64, 128, 160)
    epochs: int = 12
    batch_size: int = 8
    lr: float = 3e-3
    threads: int = 1  # CPU threads (the weights depend on it; one is fastest on a busy 2-core machine)
    workers: int = 2  # phantom rendering processes (the phantom does not depend on it)


def phantom_config(cfg: SurgicalPretrainConfig, videos: int | None = None, seed: int | None = None):
    from antseg.data.phantom.writer import SurgicalPhantomConfig

    return SurgicalPhantomConfig(
        videos=videos or cfg.videos, frames_per_video=cfg.frames_per_video, seed=cfg.seed if seed is None else seed,
        size=tuple(cfg.size), wide=cfg.wide, no_eye=cfg.no_eye, structures=STRUCTURES, workers=cfg.workers,
        name="surgical-phantom-realistic",
    )  # fmt: skip


def train_config(cfg: SurgicalPretrainConfig):
    from antseg.training import TrainConfig

    return TrainConfig(
        model="unet-lite",
        model_args={"channels": tuple(cfg.channels), "num_res_units": 1, "coord_channels": False},
        input_size=tuple(cfg.input_size),
        in_channels=3,
        epochs=cfg.epochs,
        batch_size=cfg.batch_size,
        lr=cfg.lr,
        seed=cfg.seed,
        threads=cfg.threads,
        split_ratios=(0.9, 0.1, 0.0),
        augment_args={
            "rotate_deg": 25.0,
            "scale": (0.75, 1.3),
            "translate": 0.12,
            "blur": (0.0, 1.2),
            "gamma": (0.6, 1.6),
            "contrast": (0.7, 1.3),
        },  # fmt: skip
        recipe="pretrained-surgical",
    )


def train_surgical_default(out: str | Path, cfg: SurgicalPretrainConfig, steps=STEPS, log=print) -> dict:
    """Run ``steps`` of the rebuild into ``out``; returns the summary (settings, times, scores)."""
    from antseg.data.phantom.writer import generate_surgical_dataset
    from antseg.data.split import SplitConfig, split_dataset

    unknown = set(steps) - set(STEPS)
    if unknown:
        raise ValueError(f"unknown step(s) {', '.join(sorted(unknown))}; valid: {', '.join(STEPS)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    summary_path = out / "summary-surgical.json"
    summary = json.loads(summary_path.read_text()) if summary_path.is_file() else {}
    summary.update(config=asdict(cfg), torch=torch.__version__)
    t = summary.setdefault("seconds", {})
    data = out / "phantom"
    if "phantom" in steps and not (data / "dataset.json").is_file():
        t0 = time.perf_counter()
        generate_surgical_dataset(data, phantom_config(cfg))
        split_dataset(data, SplitConfig(ratios=(0.9, 0.1, 0.0), seed=cfg.seed))
        t["phantom_s"] = time.perf_counter() - t0
        log(f"phantom: {cfg.videos} x {cfg.frames_per_video} frames in {t['phantom_s']:.0f} s")
    run = out / "run"
    if "train" in steps and not (run / runs.BEST).is_file():
        from antseg.training import train_segmentation

        t0 = time.perf_counter()
        res = train_segmentation(data, run, train_config(cfg), log=log)
        t["train_s"] = time.perf_counter() - t0
        summary.update(val_dice=res.best_score, best_epoch=res.best_epoch)
    if "pack" in steps:
        from antseg.pretrained.train import pack

        meta = {"dataset": DATASET_NAME, "synthetic": True, "recipe": "pretrained-surgical", "spacing_mm": None}
        pack(run / runs.BEST, out / SURGICAL_FILE, meta)
        summary["onnx"] = _export_onnx(out / SURGICAL_FILE, out / SURGICAL_ONNX, log)
    if "card" in steps:
        from antseg.pretrained.surgical_card import write_card

        t0 = time.perf_counter()
        test_phantom = replace(phantom_config(cfg, videos=24, seed=cfg.seed + 1000), no_eye=0.15)
        write_card(out / SURGICAL_FILE, out / SURGICAL_CARD, cfg, out / "card-work", test_phantom, log=log)
        t["card_s"] = time.perf_counter() - t0
    summary["files"] = {f: (out / f).stat().st_size for f in (SURGICAL_FILE, SURGICAL_ONNX) if (out / f).is_file()}
    summary_path.write_text(json.dumps(summary, indent=2))
    return summary


def _export_onnx(weights: Path, dst: Path, log) -> dict | None:
    from antseg.errors import AntsegInputError
    from antseg.export import export_onnx

    try:
        e = export_onnx(weights, dst, overwrite=True)
    except AntsegInputError as exc:  # the onnx extra is missing: the PyTorch checkpoint alone is shipped
        log(f"no ONNX export: {exc}")
        return None
    log(f"ONNX: dynamic size {e.dynamic_size}, max |logit difference| {e.max_abs_diff:.1e}")
    return {"dynamic_size": e.dynamic_size, "max_abs_diff": e.max_abs_diff}


def install(out: str | Path) -> list[Path]:
    """Copy the surgical model, its ONNX twin and its card from ``out`` into the installed package."""
    pkg = Path(__file__).resolve().parent
    done = []
    for name in (SURGICAL_FILE, SURGICAL_ONNX, SURGICAL_CARD):
        if (Path(out) / name).is_file():
            shutil.copyfile(Path(out) / name, pkg / name)
            done.append(pkg / name)
    return done


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", required=True, help="Work folder: phantom, run folder, packed model, card.")
    ap.add_argument("--install", action="store_true", help="Copy the model, ONNX file and card into the package.")
    ap.add_argument("--steps", default=",".join(STEPS), help=f"Comma-separated steps ({', '.join(STEPS)}).")
    d = SurgicalPretrainConfig()
    ints = ("videos", "frames_per_video", "seed", "epochs", "batch_size", "threads", "workers")
    for name in ints:
        ap.add_argument(f"--{name.replace('_', '-')}", type=int, default=getattr(d, name))
    args = ap.parse_args(argv)
    cfg = SurgicalPretrainConfig(**{k: getattr(args, k) for k in ints})
    torch.set_num_threads(cfg.threads)
    train_surgical_default(args.out, cfg, [s for s in args.steps.split(",") if s])
    if args.install:
        for p in install(args.out):
            print(f"installed {p}")


if __name__ == "__main__":
    main()
