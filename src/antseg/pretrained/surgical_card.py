"""The shipped surgical model's card: its figures on an unseen surgical phantom, and the calibration of its limbus
confidence, measured here and written to ``surgical.card.json`` (what the docs, ``summary.json`` and the video
trust checks read).

Measured frame by frame exactly as a video is processed (the video backend's preprocessing, masks at the frame's
size, the limbus checks): Dice of ``cornea`` (the limbus-bounded disc), ``pupil`` and ``instrument`` on the frames
with an eye; the limbus centre and diameter and the pupil diameter against the exact ellipses; and how often a
limbus is reported on frames without one (phantom views of the drapes, grey AS-OCT phantom scans, colour noise).

Calibration: ``P(limbus right | mean probability, share of the outline on its ellipse)`` by logistic regression on
those frames (and on harder copies of some of them), where
"right" means a cornea Dice of at least 0.9 on a frame with an eye (never on a frame without one).
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict
from pathlib import Path

import cv2
import numpy as np

#: A limbus counts as right when its Dice with the exact disc reaches this.
RIGHT_DICE = 0.9


def _dice(a: np.ndarray, b: np.ndarray) -> float | None:
    s = int(a.sum()) + int(b.sum())
    return None if s == 0 else 2.0 * int((a & b).sum()) / s


def _fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 50) -> np.ndarray:
    """Weights (with the intercept last) of a logistic regression, by Newton's method with a small L2 penalty."""
    X = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(X @ w, -50, 50)))
        g = X.T @ (p - y) + l2 * w
        H = (X * (p * (1 - p))[:, None]).T @ X + l2 * np.eye(len(w))
        w -= np.linalg.solve(H, g)
    return w


def _negatives(work: Path, seed: int, log) -> list[np.ndarray]:
    """Frames without a limbus from outside the surgical phantom: grey AS-OCT phantom scans and colour noise."""
    from antseg.data.canonical import load_dataset
    from antseg.data.phantom.surgical_tissue import fbm
    from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset

    path = work / "asoct"
    if not (path / "dataset.json").is_file():
        generate_asoct_dataset(path, AsoctPhantomConfig(n=12, size=(1065, 499), style="realistic", seed=seed))
    ds = load_dataset(path)
    out = [np.repeat(ds.load_image(c, grayscale=True)[..., None], 3, axis=2) for c in ds.cases]
    rng = np.random.default_rng([seed, 55])
    for _ in range(12):
        img = np.stack([fbm(rng, 480, 640, (40.0, 10.0)) for _ in range(3)], -1) * 0.2 + rng.uniform(0.2, 0.7, 3)
        out.append(np.clip(img * 255, 0, 255).astype(np.uint8))
    log(f"card: {len(out)} frames from outside the surgical phantom")
    return out


def _degraded(images: list[np.ndarray], truths: list, n: int, seed: int) -> tuple[list[np.ndarray], list]:
    """Harder copies of the first ``n`` frames with an eye (heavy blur, darkness, noise, swapped colours): where a
    model starts to fail, for the calibration (the truth is unchanged)."""
    rng = np.random.default_rng([seed, 77])
    out, truth_out = [], []
    eye = [(i, t) for i, t in zip(images, truths, strict=True) if t is not None][:n]
    for img, t in eye:
        f = img.astype(np.float32)
        variants = [
            cv2.GaussianBlur(f, (0, 0), rng.uniform(4, 10)),
            f * rng.uniform(0.15, 0.35),
            f + rng.normal(0, rng.uniform(30, 60), f.shape),
            f[..., ::-1],
        ]
        for v in variants:
            out.append(np.ascontiguousarray(np.clip(v, 0, 255).astype(np.uint8)))
            truth_out.append(t)
    return out, truth_out


def measure_frames(weights: Path, images, truths) -> list[dict]:
    """Run the video path's per-frame steps on each image; per frame: features, scores against ``truths``
    ((cornea, pupil, instrument) masks, or None for a frame without an eye)."""
    from antseg.anatomy import CORNEA, INSTRUMENT, PUPIL
    from antseg.inference.backends import canvas_hw, logits_to_masks, open_backend, prepare_frame
    from antseg.inference.video_measures import fit_ellipse, measure_mask
    from antseg.inference.video_surgical import CONVEX
    from antseg.inference.video_trust import ellipse_shape, limbus_fit

    backend = open_backend(weights, "cpu", 1)
    names = list(backend.meta.structures)
    rows = []
    for img, truth in zip(images, truths, strict=True):
        h, w = canvas_hw(img.shape[:2], backend.meta, backend.size_multiple)
        canvas = np.zeros((1, 3, h, w), np.float32)
        lb = prepare_frame(img, backend.meta, canvas[0])
        fm = logits_to_masks(backend(canvas)[0], lb, backend.meta)  # at the frame's size: scored against the truth
        ms = {s: measure_mask(fm.masks[k], fm.confidence[k], convex=s in CONVEX) for k, s in enumerate(names)}
        lim = ms[CORNEA]
        shape = ellipse_shape(fm.masks[names.index(CORNEA)], lim.ellipse)
        row = {"eye": truth is not None, "present": lim.present, "p_mean": float(lim.confidence),
               "fit": limbus_fit(lim, shape), "measures": ms, "masks": fm.masks, "shape": shape}  # fmt: skip
        if truth is not None:
            for k, s in enumerate((CORNEA, PUPIL, INSTRUMENT)):
                if s in names:
                    row[f"dice_{s}"] = _dice(fm.masks[names.index(s)].astype(bool), truth[k].astype(bool))
            for s in (CORNEA, PUPIL):
                cs, _ = cv2.findContours(truth[(CORNEA, PUPIL).index(s)], cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
                true_e = fit_ellipse(max(cs, key=len), img.shape[:2]) if cs else None
                pred_e = ms[s].ellipse if s in ms else None
                if true_e is not None and pred_e is not None:
                    row[f"{s}_centre_err_px"] = math.hypot(pred_e.cx - true_e.cx, pred_e.cy - true_e.cy)
                    row[f"{s}_diameter_err"] = pred_e.major / true_e.major - 1
                    row[f"{s}_true_major"] = true_e.major
        if f"{CORNEA}_true_major" in row and f"{PUPIL}_true_major" in row:  # the pupil in mm at the 11.7 mm scale
            ratio = ms[PUPIL].ellipse.major / ms[CORNEA].ellipse.major
            row["pupil_mm_err"] = ratio / (row[f"{PUPIL}_true_major"] / row[f"{CORNEA}_true_major"]) - 1
        rows.append(row)
    return rows


def write_card(weights: Path, card: Path, cfg, work: Path, test_phantom, log=print) -> dict:
    """Measure the model ``weights`` (trained with ``cfg``) on an unseen phantom (made in ``work`` from
    ``test_phantom``, a :class:`~antseg.data.phantom.writer.SurgicalPhantomConfig`) and on frames without an eye,
    calibrate its limbus confidence, and write the card to ``card``; returns it."""
    from antseg.anatomy import CORNEA, INSTRUMENT, PUPIL
    from antseg.data.canonical import load_dataset
    from antseg.data.phantom.writer import generate_surgical_dataset
    from antseg.inference.video_trust import Calibration, LimbusTracker
    from antseg.models import read_checkpoint

    t0 = time.perf_counter()
    work.mkdir(parents=True, exist_ok=True)
    test = work / "test-phantom"
    if not (test / "dataset.json").is_file():
        generate_surgical_dataset(test, test_phantom)
    ds = load_dataset(test)
    images, truths = [], []
    for c in ds.cases:
        images.append(ds.load_image(c))
        m = ds.load_masks(c)
        truths.append(m if m[0].any() else None)
    negatives = _negatives(work, cfg.seed, log)
    hard, hard_truths = _degraded(images, truths, 16, cfg.seed)
    rows = measure_frames(weights, images + negatives + hard, truths + [None] * len(negatives) + hard_truths)
    clean = len(images)
    eye = [r for r in rows[:clean] if r["eye"]]  # the figures: the clean phantom frames with an eye
    # Calibration: right = a limbus with Dice >= 0.9 on a frame with an eye.
    present = [r for r in rows if r["present"]]
    x = np.array([[math.log(min(max(r["p_mean"], 1e-4), 1 - 1e-4) / (1 - min(max(r["p_mean"], 1e-4), 1 - 1e-4))),
                   r["fit"]] for r in present])  # fmt: skip
    y = np.array([float(r["eye"] and (r.get(f"dice_{CORNEA}") or 0) >= RIGHT_DICE) for r in present])
    a, b, c = (float(v) for v in _fit_logistic(x, y)) if len(set(y.tolist())) == 2 else (0.0, 0.0, 0.0)
    source = (
        f"logistic fit on {len(present)} frames with a limbus-like region: an unseen surgical phantom, harder "
        "copies of it (blur, darkness, noise, swapped colours) and frames without an eye"
    )
    cal = Calibration(a, b, c, source) if len(set(y.tolist())) == 2 else Calibration()
    verdicts = []
    for r in rows:  # each frame on its own (no jump history): what a first frame would get
        v = LimbusTracker(calibration=cal)(0.0, r["measures"][CORNEA], r["masks"][0])
        verdicts.append(v)
    found_eye = [v.found for v, r in zip(verdicts[:clean], rows[:clean], strict=True) if r["eye"]]
    found_neg = [v.found for v, r in zip(verdicts, rows, strict=True) if not r["eye"]]
    hard_rows = list(zip(verdicts[clean + len(negatives) :], rows[clean + len(negatives) :], strict=True))
    hard_found = [v.found for v, _ in hard_rows]
    hard_right = [v.found and (r.get(f"dice_{CORNEA}") or 0) >= RIGHT_DICE for v, r in hard_rows]
    right = [(r.get(f"dice_{CORNEA}") or 0) >= RIGHT_DICE for r in eye]
    conf_found = np.array([v.confidence for v, r in zip(verdicts, rows, strict=True) if v.found])
    right_found = np.array([bool(r["eye"] and (r.get(f"dice_{CORNEA}") or 0) >= RIGHT_DICE)
                            for v, r in zip(verdicts, rows, strict=True) if v.found])  # fmt: skip

    def stat(key: str, pct: bool = False, signed: bool = True) -> dict | None:
        """Over the frames: mean and median of |value|, and the worst 5 % (the bias too, for an error)."""
        raw = np.array([r[key] for r in eye if r.get(key) is not None], float) * (100 if pct else 1)
        if not len(raw):
            return None
        v = np.abs(raw)
        out = {"mean": round(float(v.mean()), 4), "median": round(float(np.median(v)), 4), "n": len(v)}
        if signed:  # an error: its worst 5 % and its bias
            out.update(p95=round(float(np.percentile(v, 95)), 4), bias=round(float(raw.mean()), 4))
        else:  # a score: its worst 5 % and its worst
            out.update(p5=round(float(np.percentile(v, 5)), 4), min=round(float(v.min()), 4))
        return out

    scored = [s for s in (CORNEA, PUPIL, INSTRUMENT) if any(f"dice_{s}" in r for r in eye)]
    ck = read_checkpoint(weights)
    params = int(sum(t.numel() for t in ck.state_dict.values() if t.is_floating_point()))
    doc = {
        "model": {
            "file": weights.name,
            "architecture": ck.model,
            "parameters": params,
            "structures": ck.meta.structures,
            "input_size": ck.meta.input_size,
            "synthetic": ck.meta.synthetic,
            "dataset": ck.meta.dataset,
            "bytes": weights.stat().st_size,
        },  # fmt: skip
        "training": asdict(cfg),
        "phantom_test": {
            "what": f"{len(eye)} frames with an eye from {test_phantom.videos} unseen phantom videos "
            f"(seed {test_phantom.seed})",
            "dice": {s: stat(f"dice_{s}", signed=False) for s in scored},
            "limbus_centre_error_px": {k: v for k, v in (stat(f"{CORNEA}_centre_err_px") or {}).items() if k != "bias"},
            "limbus_diameter_error_pct": stat(f"{CORNEA}_diameter_err", pct=True),
            "pupil_diameter_error_pct": stat(f"{PUPIL}_diameter_err", pct=True),
            "pupil_mm_error_pct": stat("pupil_mm_err", pct=True),
            "limbus_right_share": round(float(np.mean(right)), 4) if right else None,
            "limbus_found_share": round(float(np.mean(found_eye)), 4) if found_eye else None,
            "frame_height_px": sorted({int(i.shape[0]) for i in images}),
        },
        "harder_copies": {
            "frames": len(hard_rows),
            "what": "16 test frames each blurred, darkened, noised and with swapped colours",
            "limbus_found_share": round(float(np.mean(hard_found)), 4) if hard_found else None,
            "limbus_found_and_right_share": round(float(np.mean(hard_right)), 4) if hard_right else None,
        },
        "without_an_eye": {
            "frames": len(found_neg),
            "what": "phantom views of the drapes, grey AS-OCT phantom scans, colour noise",
            "limbus_reported_share": round(float(np.mean(found_neg)), 4) if found_neg else None,
        },
        "calibration": {
            "a": a,
            "b": b,
            "c": c,
            "source": cal.source,
            "right_share_of_found": round(float(right_found.mean()), 4) if len(right_found) else None,
            "mean_confidence_of_found": round(float(conf_found.mean()), 4) if len(conf_found) else None,
            "formula": "sigmoid(a * logit(mean probability over the disc) + b * share of its outline on its ellipse"
            " + c)",
        },  # fmt: skip
        "real_data": "not measured here (no labelled real frames ship with antseg); see docs/results/surgical.md",
        "seconds": round(time.perf_counter() - t0, 1),
    }
    card.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    log(f"card: {json.dumps(doc['phantom_test']['dice'])}; calibration a={a:.3f} b={b:.3f} c={c:.3f}")
    return doc
