"""Fitting the shipped models to a device: zero-shot, adapted without labels, fine-tuned on 1 and 3 labelled scans.

Usage:
    python benchmarks/bench_adapt.py phantom [--n 40] [--budget 300] [--out results.json]
    python benchmarks/bench_adapt.py canonical REAL_DATASET [--budget 300] [--few 1,3]
    python benchmarks/bench_adapt.py folders REAL_FOLDER [--budget 300]

``phantom``: a device shift with exact labels. Realistic phantom scans (seed 202) are given another device's
look (:func:`device_look`: a different detector response, blur and speckle, the labels unchanged); the shipped
models are scored zero-shot, then ``antseg adapt`` runs on the images alone and the adapted models are scored on
the same scans (a user adapts to, and measures, their own scans) and on new scans of the same look.

``canonical``: a labelled canonical dataset (e.g. the real development eye): zero-shot, adapted on its images
without their labels, and fine-tuned (``antseg train seg|spur --init default``) on the first 1 and 3 scans with
their labels (a user who corrected that many pre-labels), each scored on the scans not used for fine-tuning.

``folders``: ``images/``, ``cornea/`` and ``iris/`` folders of white-on-black masks (the second development
device: cornea and both irises): zero-shot, adapted, and the segmentation fine-tuned on the first 1 and 3 scans
(``--few``; the iris mask split at the middle column), Dice of the cornea and of both irises.

Nothing is written but ``--out``; data, adapted and fine-tuned models live in a temporary folder outside the
repository and are deleted after. Timings are wall-clock on this machine (say when it was shared).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_zero_shot import evaluate, evaluate_folders  # noqa: E402

from antseg.adaptation import AdaptConfig, adapt  # noqa: E402
from antseg.data.canonical import load_dataset  # noqa: E402
from antseg.io.images import read_image, to_grey, write_png  # noqa: E402

KEYS = ("dice_anterior_chamber", "dice_iris", "dice_cornea", "dice_lens", "spur_wall_error_px", "spur_error_px")


def device_look(grey: np.ndarray, seed: int) -> np.ndarray:
    """Another device's image formation on a phantom scan: a wider point-spread function (blur 4 px), a signal
    that fades with depth (to 35 % at the bottom), a flatter detector response (gamma 0.45) compressed onto a
    grey floor, and fine noise. Geometry and labels are unchanged, so every score stays exact. (A milder look,
    gamma 0.6 and blur 2 px, was within what the default already handles: no gap to close.)"""
    import cv2

    rng = np.random.default_rng(seed)
    x = cv2.GaussianBlur(grey.astype(np.float32) / 255.0, (0, 0), 4.0)
    fade = np.linspace(1.0, 0.35, x.shape[0], dtype=np.float32)[:, None]
    x = 0.18 + 0.55 * np.power(x, 0.45) * fade
    x = np.clip(x + rng.normal(0, 0.03, x.shape).astype(np.float32), 0, 1)
    return (255 * x).astype(np.uint8)


def _phantom(out: Path, n: int, seed: int) -> Path:
    from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset

    generate_asoct_dataset(out, AsoctPhantomConfig(n=n, seed=seed, style="realistic", devices=("ss1000",)))
    ds = load_dataset(out)
    for k, c in enumerate(ds.cases):
        write_png(out / c.image, device_look(to_grey(read_image(out / c.image)), seed + k))
    return out


def _images(ds_root: Path, out: Path, cases=None) -> Path:
    """The dataset's images alone, as a user's folder of unlabelled scans."""
    ds = load_dataset(ds_root)
    out.mkdir(parents=True)
    for c in ds.cases if cases is None else cases:
        shutil.copy(ds_root / c.image, out / f"{c.case_id}{Path(c.image).suffix}")
    return out


#: AdaptConfig fields set from the command line (--look, --adapt-spurs).
SETTINGS: dict = {}


def _adapt(scans: Path, out: Path, budget: float, spacing, seed: int, labels=None, **over) -> tuple[Path, dict]:
    t0 = time.perf_counter()
    cfg = AdaptConfig(budget_s=budget, spacing=spacing, seed=seed, **(SETTINGS | over))
    rec = adapt("default", [scans], out, spurs="default", cfg=cfg, labels=labels, log=print)
    rec["wall_s"] = time.perf_counter() - t0
    return out, rec


def _summary(res: dict) -> dict:
    s = res["summary"]
    return {k: s[k] for k in KEYS if k in s} | {"n": s["n"]}


def _subset(root: Path, tmp: Path, keep: set[str], name: str) -> Path:
    """A copy of the dataset with only the ``keep`` cases, all in the ``test`` split."""
    out = tmp / name
    shutil.copytree(root, out)
    ds = load_dataset(out)
    ds.cases = [c for c in ds.cases if c.case_id in keep]
    for c in ds.cases:
        c.split = "test"
    ds.save()
    return out


def _fine_tune(root: Path, train_ids: list[str], tmp: Path, seg_s: float, spur_s: float, seed: int) -> tuple:
    """``antseg train seg --init default`` and ``antseg train spur --init default`` on ``train_ids``."""
    from antseg.training import TrainConfig, train_segmentation
    from antseg.training.spurs import SpurConfig, train_spurs

    data = tmp / f"ft{len(train_ids)}"
    shutil.copytree(root, data)
    ds = load_dataset(data)
    for c in ds.cases:
        c.split = "train" if c.case_id in train_ids else "val"
    ds.save()
    t0 = time.perf_counter()
    train_segmentation(data, tmp / f"seg{len(train_ids)}", TrainConfig(init="default", epochs=200, time_budget_s=seg_s,
                       seed=seed, val_every=5), log=lambda s: None)  # fmt: skip
    spur = train_spurs(data, tmp / f"spur{len(train_ids)}", TrainConfig(init="default", epochs=60, time_budget_s=spur_s,
                       seed=seed), SpurConfig(refine_steps=400), log=lambda s: None)  # fmt: skip
    return tmp / f"seg{len(train_ids)}", spur["checkpoint"], time.perf_counter() - t0


def run_phantom(args, tmp: Path) -> dict:
    target = _phantom(tmp / "target", args.n, 202)
    fresh = _phantom(tmp / "fresh", max(8, args.n // 4), 909)
    plain = tmp / "plain"
    from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset

    generate_asoct_dataset(plain, AsoctPhantomConfig(n=max(8, args.n // 4), seed=909, style="realistic",
                                                     devices=("ss1000",)))  # fmt: skip
    out = {"zero-shot, the model's own look": _summary(evaluate(plain, "default", "default"))}
    out["zero-shot, shifted look"] = _summary(evaluate(target, "default", "default"))
    run, rec = _adapt(_images(target, tmp / "scans"), tmp / "adapted", args.budget, None, args.seed)
    out["adapted, same scans"] = _summary(evaluate(target, str(run), str(run)))
    out["zero-shot, new scans of the shifted look"] = _summary(evaluate(fresh, "default", "default"))
    out["adapted, new scans of the shifted look"] = _summary(evaluate(fresh, str(run), str(run)))
    return {"results": out, "adaptation": _record(rec)}


def _record(rec: dict) -> dict:
    return {"wall_s": rec["wall_s"], "rounds": [{k: r[k] for k in ("scans", "accepted", "spurs_trusted", "seconds")}
                                                for r in rec["rounds"]]}  # fmt: skip


def run_canonical(args, tmp: Path) -> dict:
    ds = load_dataset(args.data)
    spacing = ds.manifest.spacing_mm
    out: dict = {"zero-shot": _summary(evaluate(args.data, "default", "default"))}
    run, rec = _adapt(_images(args.data, tmp / "scans"), tmp / "adapted", args.budget, spacing, args.seed)
    out["adapted without labels"] = _summary(evaluate(args.data, str(run), str(run)))
    ids = [c.case_id for c in ds.cases]
    for k in (int(v) for v in args.few.split(",") if v):
        rest = _subset(args.data, tmp, set(ids[k:]), f"rest{k}")
        seg, spur, secs = _fine_tune(args.data, ids[:k], tmp, args.seg_s, args.spur_s, args.seed)
        out[f"zero-shot, scans {k + 1}-{len(ids)}"] = _summary(evaluate(rest, "default", "default"))
        out[f"adapted, scans {k + 1}-{len(ids)}"] = _summary(evaluate(rest, str(run), str(run)))
        row = _summary(evaluate(rest, str(seg), str(spur)))
        out[f"fine-tuned on {k} labelled, scans {k + 1}-{len(ids)}"] = row | {"train_s": secs}
        if args.with_labels:  # antseg adapt --labels: the corrected scans first, then (or not) the rounds
            labels = _subset(args.data, tmp, set(ids[:k]), f"labels{k}")
            for rounds in (0, 2):
                run_k, rec_k = _adapt(tmp / "scans", tmp / f"adapt_labels{k}_{rounds}", args.budget, spacing,
                                      args.seed, labels=labels, rounds=rounds)  # fmt: skip
                row = _summary(evaluate(rest, str(run_k), str(run_k)))
                name = f"adapt --labels ({k} scans), {rounds} rounds, scans {k + 1}-{len(ids)}"
                out[name] = row | {"train_s": rec_k["wall_s"]}
    return {"results": out, "adaptation": _record(rec)}


def _folder_dataset(root: Path, out: Path, train: list[str], spacing, only_train: bool = False) -> Path:
    """The folders as a canonical dataset (cornea, left and right iris: the iris mask split at the image's middle
    column), ``train`` in the train split and the rest in val: what a user gets by correcting pre-labels."""
    from antseg.data.canonical import write_dataset_files, write_mask
    from antseg.data.schema import Case, Manifest, Structure

    (out / "images").mkdir(parents=True)
    cases = []
    for f in sorted((root / "images").glob("*.png")):
        if only_train and f.name not in train:
            continue
        shutil.copy(f, out / "images" / f.name)
        cornea = to_grey(read_image(root / "cornea" / f.name)) > 127
        iris = to_grey(read_image(root / "iris" / f.name)) > 127
        h, w = iris.shape
        left, right = iris.copy(), iris.copy()
        left[:, w // 2 :], right[:, : w // 2] = False, False
        masks = np.stack([cornea, left, right]).astype(np.uint8)
        cid = f.stem
        cases.append(Case(case_id=cid, patient_id=cid, image=f"images/{f.name}", width=w, height=h,
                          mask=write_mask(out, cid, masks), split="train" if f.name in train else "val",
                          spacing=spacing))  # fmt: skip
    names = ("cornea", "left_iris", "right_iris")
    manifest = Manifest(name="folders", modality="asoct", structures=[Structure(n, k + 1, (0, 0, 0)) for k, n in
                        enumerate(names)], landmarks=[], spacing_mm=spacing, groups=[""], provenance={})  # fmt: skip
    write_dataset_files(out, manifest, cases)
    return out


def run_folders(args, tmp: Path) -> dict:
    spacing = tuple(float(v) for v in args.spacing.split(",")) * (1 if "," in args.spacing else 2) if args.spacing \
        else None  # fmt: skip
    out = {"zero-shot": evaluate_folders(args.data, "default", spacing)}
    run, rec = _adapt(args.data / "images", tmp / "adapted", args.budget, spacing, args.seed)
    out["adapted without labels"] = evaluate_folders(args.data, str(run), spacing)
    from antseg.training import TrainConfig, train_segmentation

    names = sorted(f.name for f in (args.data / "images").glob("*.png"))
    for k in (int(v) for v in args.few.split(",") if v):
        data = _folder_dataset(args.data, tmp / f"few{k}", names[:k], spacing)
        t0 = time.perf_counter()
        train_segmentation(data, tmp / f"seg{k}", TrainConfig(init="default", epochs=200, time_budget_s=args.seg_s,
                           seed=args.seed, val_every=5), log=lambda s: None)  # fmt: skip
        secs = time.perf_counter() - t0
        rest = names[k:]
        out[f"zero-shot, scans {k + 1}-{len(names)}"] = evaluate_folders(args.data, "default", spacing, rest)
        out[f"adapted, scans {k + 1}-{len(names)}"] = evaluate_folders(args.data, str(run), spacing, rest)
        row = evaluate_folders(args.data, str(tmp / f"seg{k}"), spacing, rest)
        out[f"fine-tuned on {k} labelled, scans {k + 1}-{len(names)}"] = row | {"train_s": secs}
        if args.with_labels:
            labels = _folder_dataset(args.data, tmp / f"labels{k}", names[:k], spacing, only_train=True)
            for rounds in (0, 2):
                run_k, rec_k = _adapt(args.data / "images", tmp / f"adapt_labels{k}_{rounds}", args.budget, spacing,
                                      args.seed, labels=labels, rounds=rounds)  # fmt: skip
                row = evaluate_folders(args.data, str(run_k), spacing, rest)
                name = f"adapt --labels ({k} scans), {rounds} rounds, scans {k + 1}-{len(names)}"
                out[name] = row | {"train_s": rec_k["wall_s"]}
    return {"results": out, "adaptation": _record(rec)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=("phantom", "canonical", "folders"))
    ap.add_argument("data", type=Path, nargs="?", help="The dataset or folder (canonical, folders).")
    ap.add_argument("--n", type=int, default=40, help="phantom: scans of the shifted device.")
    ap.add_argument("--budget", type=float, default=300.0, help="Adaptation budget, seconds.")
    ap.add_argument(
        "--few", default="1,3", help="canonical: fine-tune on the first K labelled scans, each K ('': none)."
    )
    ap.add_argument("--seg-s", type=float, default=60.0, help="Fine-tuning budget of the segmentation, seconds.")
    ap.add_argument("--spur-s", type=float, default=96.0, help="Fine-tuning budget of the spur model, seconds.")
    ap.add_argument("--spacing", default="", help="folders: mm per pixel 'S' or 'SX,SY' (default: the model's).")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--look", default="histogram", help="Rehearsal look: histogram (the user's) or none.")
    ap.add_argument("--adapt-spurs", action="store_true", help="Fine-tune the spur model too (with its guard).")
    ap.add_argument("--with-labels", action="store_true", help="Also 'antseg adapt --labels' (0 and 2 rounds).")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    SETTINGS.update(rehearsal_look=args.look, spurs=args.adapt_spurs)
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory(prefix="antseg-adapt-bench-") as tmp:
        res = {"phantom": run_phantom, "canonical": run_canonical, "folders": run_folders}[args.kind](args, Path(tmp))
    keys = sorted({k for r in res["results"].values() for k in r})
    print("| | " + " | ".join(keys) + " |\n|---|" + "---|" * len(keys))
    for name, r in res["results"].items():
        print(f"| {name} | " + " | ".join(f"{r[k]:.3f}" if isinstance(r.get(k), float) else str(r.get(k, ""))
                                          for k in keys) + " |")  # fmt: skip
    print(json.dumps(res["adaptation"], indent=1))
    if args.out:
        args.out.write_text(json.dumps(res, indent=2, default=float))


if __name__ == "__main__":
    main()
