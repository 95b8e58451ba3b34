"""Fitting the shipped surgical model to another microscope camera without labels: zero-shot against adapted.

Usage:
    python benchmarks/bench_adapt_surgical.py phantom [--videos 30] [--budget 300] [--out results.json]
    python benchmarks/bench_adapt_surgical.py real FRAMES_FOLDER --overlays /tmp/overlays [--budget 120]

``phantom``: a device shift with exact labels. Surgical phantom frames (seed 2026, unseen by the shipped model)
are given another camera's look (:func:`camera_look`: warm white balance with the blue channel low, less colour,
lifted green-brown blacks, a soft SD sensor upscaled, veiling glare, noise and JPEG; the labels unchanged); the
shipped model is scored zero-shot (Dice of the limbus disc ``cornea`` and of the ``pupil``, frames with an eye),
then ``antseg adapt surgical`` runs on the images alone and the adapted model is scored on the same frames (a user
adapts to, and measures, their own footage) and on new videos of the same look. Also reported: how many frames
the trust checks accepted as pseudo-labels, how good those pseudo-labels were (Dice against the truth), and how
good the zero-shot masks of the frames they rejected were.

``real``: a folder of unlabelled real frames (e.g. the Cataract-1K development frames): adapt on them, and write
overlays of the limbus and pupil before and after (with the limbus verdict of the video checks) to
``--overlays``, outside the repository. Nothing derived from real frames is kept: the adapted model lives in a
temporary folder deleted at the end.

Timings are wall-clock on this machine (say when it was shared).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from antseg.adaptation import AdaptConfig
from antseg.adaptation.surgical import adapt_surgical
from antseg.adaptation.surgical_pseudo import FrameLabeller, SurgicalPseudoConfig, dice
from antseg.data.canonical import load_dataset
from antseg.inference.backends import logits_to_masks
from antseg.inference.video_measures import measure_mask
from antseg.inference.video_trust import Calibration, LimbusTracker
from antseg.io.images import read_image, write_png
from antseg.models.shipped import surgical_card, surgical_checkpoint


def camera_look(rgb: np.ndarray, seed: int) -> np.ndarray:
    """Another microscope camera's look on a phantom frame (geometry and labels unchanged, so scores stay exact)."""
    rng = np.random.default_rng(seed)
    h, w = rgb.shape[:2]
    x = rgb.astype(np.float32) / 255.0
    x = x * np.array([1.08, 1.0, 0.62], np.float32)  # white balance: warm, blue low
    grey = x.mean(axis=2, keepdims=True)
    x = grey + 0.6 * (x - grey)  # less saturated
    x = 0.10 * np.array([0.45, 0.5, 0.25], np.float32) + 0.9 * np.power(np.clip(x, 0, 1), 0.8)  # green-brown blacks
    small = cv2.resize(x, (w // 3, h // 3), interpolation=cv2.INTER_AREA)  # an SD sensor, upscaled
    x = cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), (0, 0), 1.2)
    cx, cy = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    x = x + 0.35 * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * (0.18 * h) ** 2))[..., None]  # veiling glare
    x = np.clip(x + rng.normal(0, 0.015, x.shape).astype(np.float32), 0, 1)
    out = (255 * x).astype(np.uint8)
    _, enc = cv2.imencode(".jpg", out[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, 40])
    return np.ascontiguousarray(cv2.imdecode(enc, cv2.IMREAD_COLOR)[..., ::-1])


def _phantom(out: Path, videos: int, seed: int, look: bool = True) -> Path:
    from antseg.data.phantom.writer import generate_surgical_dataset
    from antseg.pretrained.train_surgical import SurgicalPretrainConfig, phantom_config

    cfg = phantom_config(SurgicalPretrainConfig(), videos=videos, seed=seed)
    cfg.frames_per_video, cfg.no_eye = 2, 0.1
    generate_surgical_dataset(out, cfg)
    ds = load_dataset(out)
    for k, c in enumerate(ds.cases if look else []):
        write_png(out / c.image, camera_look(ds.load_image(c), seed + k))
    return out


def score(weights, root: Path) -> dict:
    """Mean Dice of the limbus disc and the pupil over the frames with an eye (one view, as a video is run), and
    the share of them whose limbus the video checks report (the shipped model's calibration)."""
    lab = FrameLabeller(weights, "cpu", threads=1)
    cal = Calibration.from_card(surgical_card())
    ds = load_dataset(root)
    rows = []
    for c in ds.cases:
        truth = ds.load_masks(c)
        if not truth[0].any():
            continue
        lb, one, _ = lab.views(ds.load_image(c))
        fm = logits_to_masks(one, lb, lab.meta, 0)
        m = measure_mask(fm.masks[0], fm.confidence[0], convex=True)
        found = LimbusTracker(calibration=cal)(0.0, m, fm.masks[0]).found
        rows.append((dice(fm.masks[0], truth[0]), dice(fm.masks[1], truth[1]), found))
    a = np.array(rows, float)
    return {"dice_cornea": round(a[:, 0].mean(), 4), "dice_pupil": round(a[:, 1].mean(), 4),
            "dice_cornea_p10": round(float(np.percentile(a[:, 0], 10)), 4),
            "limbus_found": round(a[:, 2].mean(), 4), "n": len(rows)}  # fmt: skip


def pseudo_quality(root: Path, pseudo: SurgicalPseudoConfig) -> dict:
    """What the trust checks made of the shipped model's output on ``root``: accepted frames, their pseudo-labels'
    Dice against the truth, and the zero-shot Dice of the frames they rejected."""
    lab = FrameLabeller(surgical_checkpoint(), "cpu", Calibration.from_card(surgical_card()), pseudo, threads=1)
    ds = load_dataset(root)
    acc, rej, why = [], [], {}
    for c in ds.cases:
        img, truth = ds.load_image(c), ds.load_masks(c)
        lb, one, _ = lab.views(img)
        raw = logits_to_masks(one, lb, lab.meta, 0).masks
        v = lab(img)
        if v.accepted:
            acc.append((dice(v.masks[0], truth[0]), dice(v.masks[1], truth[1])))
        else:
            why[v.why.split(" (")[0]] = why.get(v.why.split(" (")[0], 0) + 1
            if truth[0].any():
                rej.append((dice(raw[0], truth[0]), dice(raw[1], truth[1])))
    mean = lambda v, i: round(float(np.mean([x[i] for x in v])), 4) if v else None  # noqa: E731
    return {"frames": len(ds.cases), "accepted": len(acc), "pseudo_dice_cornea": mean(acc, 0),
            "pseudo_dice_pupil": mean(acc, 1), "rejected_with_eye": len(rej),
            "rejected_zero_shot_dice_cornea": mean(rej, 0), "rejected_zero_shot_dice_pupil": mean(rej, 1),
            "rejected_why": why}  # fmt: skip


def run_phantom(args) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="bench-adapt-surg-"))
    own = _phantom(tmp / "own", args.videos, 2026)
    new = _phantom(tmp / "new", max(4, args.videos // 3), 3031)
    original = _phantom(tmp / "original", max(4, args.videos // 3), 4049, look=False)  # is anything forgotten?
    pseudo = SurgicalPseudoConfig(clean_limbus=not args.raw_limbus, min_confidence=args.min_confidence)
    sets = {"own": own, "new": new, "original look": original}
    res = {"settings": vars(args), "zero_shot": {k: score(surgical_checkpoint(), v) for k, v in sets.items()}}
    res["pseudo_labels"] = pseudo_quality(own, pseudo)
    print(json.dumps(res, indent=1))
    t0 = time.perf_counter()
    cfg = AdaptConfig(budget_s=args.budget, rounds=args.rounds, rehearsal=args.rehearsal, seed=args.seed, device="cpu")
    rec = adapt_surgical("surgical", [own / "images"], tmp / "run", cfg, pseudo, log=print)
    res["adapt"] = {"wall_s": round(time.perf_counter() - t0, 1), "frames": len(rec["frames"]),
                    "rounds": [{k: r[k] for k in ("accepted", "scans", "epochs", "val_dice", "stage_seconds",
                                                  "rejected_why")} for r in rec["rounds"]]}  # fmt: skip
    best = Path(rec["rounds"][-1]["segmentation"]).parent / "best.pt"
    res["adapted"] = {k: score(tmp / "run", v) for k, v in sets.items()}
    res["adapted_best_validation_epoch"] = {k: score(best, v) for k, v in sets.items()}
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return res


def _overlay(img: np.ndarray, lab: FrameLabeller, cal: Calibration, title: str) -> np.ndarray:
    lb, one, _ = lab.views(img)
    fm = logits_to_masks(one, lb, lab.meta, 0)
    m = measure_mask(fm.masks[0], fm.confidence[0], convex=True)
    v = LimbusTracker(calibration=cal)(0.0, m, fm.masks[0])
    out = img.copy()
    for k, colour in ((0, (0, 255, 255)), (1, (255, 40, 40))):
        cs, _ = cv2.findContours(fm.masks[k], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, cs, -1, colour, 2)
    if m.ellipse is not None:
        e = m.ellipse
        cv2.ellipse(out, ((e.cx, e.cy), (e.major, e.minor), e.angle), (255, 255, 0), 1)
    text = f"{title}: {'found' if v.found else 'NOT FOUND ' + v.reason} conf {v.confidence:.2f} fit {v.fit:.2f}"
    cv2.putText(out, text[:90], (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 2)
    return out


def run_real(args) -> dict:
    frames = sorted(p for p in Path(args.source).iterdir() if p.suffix.lower() in (".png", ".jpg", ".jpeg"))
    tmp = Path(tempfile.mkdtemp(prefix="bench-adapt-surg-real-"))
    cfg = AdaptConfig(budget_s=args.budget, rounds=args.rounds, rehearsal=args.rehearsal, seed=0, device="cpu",
                      min_accepted=1)  # fmt: skip
    t0 = time.perf_counter()
    rec = adapt_surgical("surgical", [Path(args.source)], tmp / "run", cfg, log=print)
    res = {"wall_s": round(time.perf_counter() - t0, 1),
           "rounds": [{k: r[k] for k in ("accepted", "scans", "rejected", "confidence_accepted", "epochs")}
                      for r in rec["rounds"]]}  # fmt: skip
    cal = Calibration.from_card(surgical_card())  # the same calibration before and after, to compare them
    before, after = FrameLabeller(surgical_checkpoint(), "cpu", threads=1), FrameLabeller(tmp / "run", "cpu", threads=1)
    out = Path(args.overlays)
    out.mkdir(parents=True, exist_ok=True)
    for f in frames:
        img = read_image(f)
        pair = np.concatenate([_overlay(img, before, cal, "zero-shot"), _overlay(img, after, cal, "adapted")], 1)
        write_png(out / f"{f.stem}_before_after.png", cv2.resize(pair, (pair.shape[1] // 2, pair.shape[0] // 2)))
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    return res


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("mode", choices=("phantom", "real"))
    ap.add_argument("source", nargs="?", help="real: a folder of frames")
    ap.add_argument("--videos", type=int, default=30)
    ap.add_argument("--budget", type=float, default=300.0)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--rehearsal", type=int, default=24)
    ap.add_argument("--seed", type=int, default=0, help="the adaptation's seed (the phantoms' are fixed)")
    ap.add_argument("--min-confidence", type=float, default=0.5)
    ap.add_argument("--raw-limbus", action="store_true", help="pseudo-label the limbus mask, not its ellipse")
    ap.add_argument("--overlays", default="/tmp/adapt-surgical-overlays")
    ap.add_argument("--out")
    args = ap.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    res = run_phantom(args) if args.mode == "phantom" else run_real(args)
    print(json.dumps(res, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(res, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
