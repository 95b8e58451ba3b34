"""Whole-video cornea segmentation on this CPU: frames/s end to end (decode + infer + write) for PyTorch eager
and ONNX Runtime, the light (``cornea-lite``) and the PSPNet (``cornea-pspnet``) recipes at 512x384 network
input, Dice against the exact polygons of an unseen phantom video, and the jitter of the measures with and
without temporal smoothing.

Steps (each reuses what ``--work`` already holds, so a second run only measures):
1. a surgical phantom (``--videos`` x ``--frames`` frames of 1024x768), split 80/20 by video;
2. both recipes trained for a time budget each (PSPNet with lr 1e-3: the recipe's 5e-5 needs ~150 GPU epochs);
3. both exported to ONNX (the export's max |logit difference| against PyTorch is printed);
4. an unseen phantom video (``--seconds`` at 25 fps, the eye drifting and shaking as in the training frames),
   processed by each model with each backend (PSPNet on its first ``--pspnet-seconds`` only: it is slow);
5. a static-eye video and a smoothly moving one (``--jitter-seconds``), processed by the light ONNX model with
   and without ``--smooth``: frame-to-frame jitter on the first, centroid error (lag) on the second.

The network gets all cores but one (``VideoOptions.threads``); don't call ``torch.set_num_threads`` before
(lowering PyTorch's threads after an explicit setting made eager inference 20x slower beside the decoder and
writer threads here).

Usage: python benchmarks/bench_video.py --work /tmp/bench-video [--light-budget 120] [--pspnet-budget 180]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from antseg.data.phantom.writer import SurgicalPhantomConfig, generate_surgical_dataset
from antseg.data.split import SplitConfig, split_dataset
from antseg.evaluation.video import centroid_error, jitter_stats, phantom_video, video_dice
from antseg.export import export_onnx
from antseg.inference.video_stream import VideoOptions, predict_video
from antseg.training import train_segmentation
from antseg.training.config import resolve_train_config

INPUT = (384, 512)  # (height, width): 512x384 network input


def _data(work: Path, args) -> Path:
    ds = work / "data"
    if not ds.exists():
        cfg = SurgicalPhantomConfig(videos=args.videos, frames_per_video=args.frames, seed=0)
        generate_surgical_dataset(ds, cfg)
        split_dataset(ds, SplitConfig(ratios=(0.8, 0.2, 0.0)))
    return ds


def _train(ds: Path, run: Path, recipe: str, budget: float, **flags) -> Path:
    if not (run / "best.pt").exists():
        shutil.rmtree(run, ignore_errors=True)
        cfg = resolve_train_config(recipe=recipe, input_size=INPUT, time_budget_s=budget, **flags)
        res = train_segmentation(ds, run, cfg, log=lambda s: None)
        print(f"trained {recipe}: {res.epochs_done} epochs in {res.seconds:.0f} s, val Dice {res.best_score:.4f}")
    return run


def _run(name: str, weights: Path, video, out: Path, opts: VideoOptions) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    r = predict_video(weights, video.path, out, opts, device="cpu")
    d = video_dice(out, video)
    row = {"run": name, "backend": r.backend, "frames": r.frames, "fps": r.fps, **r.stage_ms, **d}
    print(json.dumps(row), flush=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--videos", type=int, default=8)
    ap.add_argument("--frames", type=int, default=6)
    ap.add_argument("--light-budget", type=float, default=120.0)
    ap.add_argument("--pspnet-budget", type=float, default=180.0)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--pspnet-seconds", type=float, default=3.0)
    ap.add_argument("--jitter-seconds", type=float, default=4.0)
    ap.add_argument("--skip-pspnet", action="store_true")
    args = ap.parse_args()
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    ds = _data(work, args)
    runs = {"light": _train(ds, work / "runs" / "light", "cornea-lite", args.light_budget)}
    if not args.skip_pspnet:
        runs["pspnet"] = _train(ds, work / "runs" / "pspnet", "cornea-pspnet", args.pspnet_budget, lr=1e-3)
    onnx = {}
    for name, run in runs.items():
        onnx[name] = work / f"{name}.onnx"
        if not onnx[name].exists():
            e = export_onnx(run, onnx[name])
            print(
                f"exported {name}: dynamic size {e.dynamic_size}, max abs diff {e.max_abs_diff:.2e}, {e.seconds:.0f} s"
            )
    video = phantom_video(work / "eval.mp4", 1000, args.seconds)
    rows = []
    for name in runs:
        end = None if name == "light" else args.pspnet_seconds
        for weights in (runs[name], onnx[name]):
            rows.append(
                _run(name, weights, video, work / "out" / f"{name}-{weights.suffix[1:] or 'pt'}", VideoOptions(end=end))
            )
    if not args.skip_pspnet:  # the light model's Dice on the PSPNet's frames, for a like-for-like comparison
        for weights in (runs["light"], onnx["light"]):
            rows.append(
                _run(
                    "light (PSPNet's frames)",
                    weights,
                    video,
                    work / "out" / "light-short",
                    VideoOptions(end=args.pspnet_seconds),
                )
            )
    print(
        "\n| model | backend | frames | frames/s end to end | decode | preprocess | inference | postprocess "
        "| write (thread) | Dice mean | Dice min |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['run']} | {r['backend']} | {r['frames']} | {r['fps']:.1f} | {r['decode']:.1f} | "
            f"{r['preprocess']:.1f} | {r['inference']:.1f} | {r['postprocess']:.1f} | {r['write']:.1f} | "
            f"{r['dice_mean']:.4f} | {r['dice_min']:.4f} |"
        )
    static = phantom_video(work / "static.mp4", 1001, args.jitter_seconds, drift=0, jitter=0)
    moving = phantom_video(work / "moving.mp4", 1001, args.jitter_seconds, jitter=0, speed=4)
    print(
        "\n| smoothing | centroid step RMS (px) | area change (%) | ellipse centre step RMS (px) "
        "| ellipse axes change (px) | moving eye: centroid error mean / p95 (px) | Dice (moving) |"
    )
    print("|---|---|---|---|---|---|---|")
    for smooth in (False, True):
        out_s, out_m = work / "out" / f"static-{smooth}", work / "out" / f"moving-{smooth}"
        _run(f"static smooth={smooth}", onnx["light"], static, out_s, VideoOptions(smooth=smooth))
        m = _run(f"moving smooth={smooth}", onnx["light"], moving, out_m, VideoOptions(smooth=smooth))
        j, e = jitter_stats(out_s / "frames.csv"), centroid_error(out_m / "frames.csv", moving)
        print(
            f"| {'on' if smooth else 'off'} | {j['centroid_step_rms_px']:.3f} | {j['area_change_pct']:.3f} | "
            f"{j['ellipse_centre_step_rms_px']:.3f} | {j['ellipse_axes_change_px']:.3f} | "
            f"{e['centroid_error_mean_px']:.2f} / {e['centroid_error_p95_px']:.2f} | {m['dice_mean']:.4f} |"
        )


if __name__ == "__main__":
    main()
