"""Zero-shot behaviour on real scans: a model (``default``, a run folder or a checkpoint) on a labelled real
canonical dataset it never saw, e.g. the real development eye.

Usage:
    python benchmarks/bench_zero_shot.py REAL_DATASET [--seg default] [--spurs default] [--split test]
        [--out results.json] [--threads 2] [--refine-starts 8]
    python benchmarks/bench_zero_shot.py REAL_FOLDER [--seg default]     # images/, cornea/, iris/ masks
    python benchmarks/bench_zero_shot.py REAL_DATASET --few-shot T0004-01,T0004-05 [--steps 80] [--lr 0.002]
        [--spur-epochs 15 --refine-steps 400 --seed 0]

Every scan goes through the per-scan pipeline (:class:`antseg.scan.ScanPipeline`) as ``predict``, ``biometry``
and ``report`` run it. Prints Dice per structure the model and the dataset share (and ``iris``: both irises
together), the spur error in px (missed spurs counted apart) of the spur model alone and, with both models, of
the spurs as the pipeline reports them (kept on the segmented angle wall, ``antseg.inference.spur_wall``), and
CPU ms per scan of each step (with the mirror pass). Only structures and spurs the dataset labels are scored;
nothing is written except ``--out``. A folder with ``images/``, ``cornea/`` and ``iris/`` (white-on-black masks,
both irises in one; the second development device) instead gives Dice of the cornea and of both irises and the
predicted / labelled iris area.

``--few-shot``: does pre-training on the phantom help a few real scans? Trains ``unet-lite`` on the named
cases twice, from scratch and from ``default`` (same steps and settings), and scores both on the other
cases. With ``--spur-epochs N`` (> 0) it does the same for the spur model (stage 1 for N epochs,
``--refine-steps`` refiner steps, ``--seed``), scored alone and kept on the default segmentation's angle wall.
The dataset is copied to a temporary folder for its split (outside the repository, deleted after).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path

import torch

from antseg.data.canonical import load_dataset
from antseg.inference.spurs import REFINE_STARTS
from antseg.io.images import read_image, to_grey
from antseg.metrics.segmentation import dice_iou
from antseg.scan import ScanConfig, ScanPipeline


def _error(p: dict, ref: tuple[float, float]) -> float:
    """Distance (px) from a predicted spur to its label; NaN when the model found none."""
    return math.nan if p["x"] is None else math.hypot(p["x"] - ref[0], p["y"] - ref[1])


def evaluate_folders(root: Path, seg: str, spacing=None, names: list[str] | None = None) -> dict:
    """Mean Dice of the cornea and of both irises together, and the predicted / labelled iris area, on a folder
    ``images/`` with white-on-black ``cornea/`` and ``iris/`` masks of the same names (the second development
    device's layout); ``names``: only these images."""
    pipe = ScanPipeline(seg, None, ScanConfig(spacing=spacing), "cpu")
    rows = []
    for f in sorted((root / "images").glob("*.png")):
        if names is not None and f.name not in names:
            continue
        res = pipe.run(read_image(f), f.name)
        cornea, iris = (to_grey(read_image(root / m / f.name)) > 127 for m in ("cornea", "iris"))
        pred_iris = res.mask("left_iris") | res.mask("right_iris")
        rows.append({
            "dice_cornea": dice_iou(res.mask("cornea"), cornea)[0], "dice_iris": dice_iou(pred_iris, iris)[0],
            "iris_area_ratio": float(pred_iris.sum() / max(int(iris.sum()), 1)),
        })  # fmt: skip
    return {k: statistics.fmean(r[k] for r in rows) for k in rows[0]} | {"n": len(rows)}


def evaluate(
    real: Path, seg: str | None, spurs: str | None, split: str | None = None, starts: int = REFINE_STARTS,
    config: ScanConfig | None = None,
) -> dict:  # fmt: skip
    """Per-case rows and a summary (mean Dice per structure, spur error, ms per scan), through the per-scan
    pipeline as ``predict``/``biometry``/``report`` run it; ``starts``: the spur refiner's extra starts."""
    ds = load_dataset(real)
    cases = [c for c in ds.cases if split is None or c.split == split]
    pipe = ScanPipeline(seg or None, spurs or None, config or ScanConfig(), "cpu")
    if pipe.spur is not None:
        pipe.spur.starts = int(starts)
    shared = [s for s in ds.structures if s in pipe.structures]
    rows, seg_ms, spur_ms = [], [], []
    for c in cases:
        truth = dict(zip(ds.structures, ds.load_masks(c), strict=True))
        row: dict = {"case_id": c.case_id}
        res = pipe.run(ds.load_image(c), c.case_id, spacing=ds.spacing(c))
        seg_ms.append(1000 * res.seconds["segment"])
        spur_ms.append(1000 * res.seconds["spurs"])
        for s in shared:
            row[f"dice_{s}"] = dice_iou(res.mask(s), truth[s])[0]
        if {"left_iris", "right_iris"} <= set(shared):
            both = res.mask("left_iris") | res.mask("right_iris")
            row["dice_iris"] = dice_iou(both, truth["left_iris"] | truth["right_iris"])[0]
        for name, p in res.spurs.items():
            ref = c.landmarks.get(name)
            if ref is None:
                continue
            alone = {"x": p.get("model_x"), "y": p.get("model_y")}
            row[f"err_{name}"] = _error(alone, ref)
            if pipe.seg is not None:
                row[f"wallerr_{name}"] = _error(p, ref)
        rows.append(row)
    keys = list(dict.fromkeys(k for r in rows for k in r if k != "case_id"))  # a hidden spur has no key
    summary: dict = {"n": len(rows)}
    for k in keys:
        vals = [r[k] for r in rows if k in r and not math.isnan(r[k])]
        summary[k] = statistics.fmean(vals) if vals else math.nan
        if k.startswith("err_"):
            summary[k.replace("err_", "missed_")] = sum(1 for r in rows if k in r and math.isnan(r[k]))
    for prefix, name in (("err_", "spur_error"), ("wallerr_", "spur_wall_error")):
        errs = [r[k] for r in rows for k in keys if k.startswith(prefix) and k in r and not math.isnan(r[k])]
        if errs:
            summary[f"{name}_px"] = statistics.fmean(errs)
            summary[f"{name}_median_px"] = statistics.median(errs)
            summary[f"{name}_max_px"] = max(errs)
    if seg_ms:
        summary["seg_ms_per_scan"] = statistics.median(seg_ms)
    if spur_ms:
        summary["spur_ms_per_scan"] = statistics.median(spur_ms)
    if pipe.seg is not None and hasattr(pipe.seg, "model"):
        summary["seg_parameters"] = sum(p.numel() for p in pipe.seg.model.parameters())
    return {"summary": summary, "rows": rows}


def few_shot(
    real: Path, train_ids: list[str], steps: int, lr: float, threads: int,
    spur_epochs: int = 0, refine_steps: int = 400, seed: int = 0, starts: int = REFINE_STARTS, keep: bool = True,
) -> dict:  # fmt: skip
    """Fine-tune from scratch and from ``default`` on ``train_ids``; score both on the other cases."""
    import shutil
    import tempfile
    from dataclasses import replace

    from antseg.training import TrainConfig
    from antseg.training.trainer import Trainer

    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="antseg-fewshot-") as tmp:
        data = Path(tmp) / "ds"
        shutil.copytree(real, data)
        ds = load_dataset(data)
        unknown = set(train_ids) - {c.case_id for c in ds.cases}
        if unknown:
            raise SystemExit(f"unknown case(s): {', '.join(sorted(unknown))}")
        for c in ds.cases:
            c.split = "train" if c.case_id in train_ids else "test"
        ds.save()
        batches = -(-len(train_ids) // 4)
        cfg = TrainConfig(epochs=max(1, steps // batches), val_every=max(1, steps // batches), threads=threads, lr=lr,
                          keep_init_structures=keep)  # fmt: skip
        for init in ("scratch", "default"):
            t = Trainer(data, Path(tmp) / init, replace(cfg, init="" if init == "scratch" else init), log=print)
            t0 = time.perf_counter()
            t.fit()
            res = evaluate(data, str(Path(tmp) / init), None, split="test")
            res["summary"]["train_s"] = time.perf_counter() - t0
            out[init] = res
        for init in ("scratch", "default") if spur_epochs > 0 else ():
            from antseg.training.spurs import SpurConfig, train_spurs

            scfg = TrainConfig(epochs=spur_epochs, seed=seed, threads=threads, lr=lr,
                               init="" if init == "scratch" else init)  # fmt: skip
            t0 = time.perf_counter()
            run = train_spurs(data, Path(tmp) / f"spur-{init}", scfg, SpurConfig(refine_steps=refine_steps),
                              log=lambda s: None)  # fmt: skip
            res = evaluate(data, "default", str(run["checkpoint"]), split="test", starts=starts)
            res["summary"]["train_s"] = time.perf_counter() - t0
            out[f"spurs from {init}"] = res
    return out


def _print(res: dict) -> None:
    for r in res.get("rows", []):
        print("  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in r.items()))
    print("| measure | value |\n|---|---|")
    for k, v in res["summary"].items():
        print(f"| {k} | {v:.4g} |" if isinstance(v, float) else f"| {k} | {v} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("real", type=Path, help="Labelled real canonical dataset (never copied anywhere).")
    ap.add_argument("--seg", default="default", help="Segmentation model: default, run folder or checkpoint; ''.")
    ap.add_argument("--spurs", default="default", help="Spur model: default, run folder or spur.pt; '' to skip.")
    ap.add_argument("--split", default=None, help="Only this split (e.g. test after fine-tuning on the others).")
    ap.add_argument("--out", type=Path, default=None, help="Write the summary and per-case rows as JSON.")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--few-shot", default="", help="Comma-separated case ids to fine-tune on (see above).")
    ap.add_argument("--steps", type=int, default=80, help="Few-shot training steps (batch 4).")
    ap.add_argument("--lr", type=float, default=2e-3, help="Few-shot learning rate (the trainer's default).")
    ap.add_argument("--spur-epochs", type=int, default=0, help="Few-shot: also fine-tune spurs (stage-1 epochs).")
    ap.add_argument("--refine-steps", type=int, default=400, help="Few-shot spurs: refiner steps.")
    ap.add_argument("--seed", type=int, default=0, help="Few-shot spurs: training seed.")
    ap.add_argument("--refine-starts", type=int, default=REFINE_STARTS, help="Spur refinement starts (0: one).")
    ap.add_argument("--no-keep", action="store_true", help="Few-shot: drop the structures the labels lack.")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.few_shot:
        res = few_shot(args.real, args.few_shot.split(","), args.steps, args.lr, args.threads, args.spur_epochs,
                       args.refine_steps, args.seed, args.refine_starts, keep=not args.no_keep)  # fmt: skip
        for init, r in res.items():
            print(f"## {init}")
            _print(r)
    elif not (args.real / "dataset.json").is_file() and (args.real / "iris").is_dir():
        res = {"summary": evaluate_folders(args.real, args.seg or "default")}
        _print(res)
    else:
        res = evaluate(args.real, args.seg or None, args.spurs or None, args.split, args.refine_starts)
        _print(res)
    if args.out:
        args.out.write_text(json.dumps(res, indent=2, default=float))


if __name__ == "__main__":
    main()
