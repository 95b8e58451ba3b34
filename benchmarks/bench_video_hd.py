"""Full-HD surgical video end to end on this CPU: frames/s of ``antseg predict default video.mp4`` at 1920x1080,
split by stage (decode, preprocess, inference, postprocess, writing), with ONNX Runtime and PyTorch, the overlay
at full size and at half size, and the masks written or not.

The input is a phantom surgery video (a 16:9 eye with instruments, H.264 ``--crf``), rendered once into
``--work``; or ``--video FILE`` (any video of yours). The network gets all cores but one, the decoder and the
writer run in their own threads (``antseg.inference.video_stream``). The machine is shared: run it more than
once and read the best and the spread.

Usage:
    python benchmarks/bench_video_hd.py --work /tmp/bench-hd [--seconds 8] [--repeat 2] [--video my.mp4]
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np

from antseg.inference.backends import open_backend, video_threads
from antseg.inference.video_reader import VideoReader
from antseg.inference.video_stream import VideoOptions, predict_video
from antseg.models.shipped import surgical_checkpoint

SIZE = (1920, 1080)


def phantom_hd(path: Path, seconds: float, fps: int, crf: int) -> Path:
    """A 16:9 full-HD phantom surgery (H.264 at ``crf``), made once."""
    if path.is_file():
        return path
    import av

    from antseg.data.phantom.surgical import Scene, sample_view

    w, h = SIZE
    view = sample_view(np.random.default_rng([2024, 1]), w, h)
    scene = Scene(view, w, h)
    rng = np.random.default_rng([2024, 2])
    tmp = path.with_suffix(".tmp.mp4")
    with av.open(str(tmp), "w") as c:
        s = c.add_stream("libx264", rate=fps, options={"crf": str(crf), "preset": "fast"})
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        for k in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(scene.frame(k / fps, rng).image, format="rgb24")
            for p in s.encode(frame):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    tmp.rename(path)
    return path


def decode_only(video: Path) -> float:
    """Frames/s of the decoder thread alone (decode and conversion to RGB)."""
    t0 = time.perf_counter()
    with VideoReader(video) as r:
        n = sum(1 for _ in r)
    return n / (time.perf_counter() - t0)


def inference_only(weights: Path, n: int = 40) -> float:
    """ms per frame of the network alone on a 1080p frame's input (one thread per core but one)."""
    from antseg.inference.backends import canvas_hw

    b = open_backend(weights, "cpu", video_threads())
    h, w = canvas_hw((SIZE[1], SIZE[0]), b.meta, b.size_multiple)
    x = np.random.default_rng(0).standard_normal((1, 3, h, w)).astype(np.float32)
    for _ in range(5):
        b(x)
    t0 = time.perf_counter()
    for _ in range(n):
        b(x)
    return 1000 * (time.perf_counter() - t0) / n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--video", type=Path, default=None)
    ap.add_argument("--seconds", type=float, default=8.0)
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--crf", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--torch", action="store_true", help="Also run PyTorch eager (slower).")
    ap.add_argument("--weights", type=Path, default=None, help="A surgical .pt or .onnx (default: the shipped one).")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    video = args.video or phantom_hd(args.work / "surgery_1080p.mp4", args.seconds, args.fps, args.crf)
    print(f"video {video}; decode alone {decode_only(video):.1f} frames/s")
    if args.weights is not None:
        engines = [("onnxruntime" if args.weights.suffix == ".onnx" else "pytorch", args.weights)]
    else:
        engines = [("onnxruntime", surgical_checkpoint(prefer_onnx=True))]
        if args.torch:
            engines.append(("pytorch", surgical_checkpoint()))
    for name, weights in engines:
        print(f"{name}: network alone {inference_only(weights):.1f} ms per frame")
    settings = [
        ("overlay 1920x1080, masks", VideoOptions()),
        ("overlay 1920x1080, no masks", VideoOptions(masks="none")),
        ("overlay 960x540, masks", VideoOptions(overlay_scale=0.5)),
        ("overlay 960x540, no masks", VideoOptions(overlay_scale=0.5, masks="none")),
    ]
    rows = []
    for name, weights in engines:
        for label, opt in settings:
            for rep in range(args.repeat):
                out = args.work / "out"
                shutil.rmtree(out, ignore_errors=True)
                r = predict_video(weights, video, out, opt, device="cpu")
                row = {"engine": name, "setting": label, "rep": rep, "frames": r.frames, "fps": round(r.fps, 2),
                       "cpu_ms": round(r.cpu_ms, 1), **{k: round(v, 2) for k, v in r.stage_ms.items()}}  # fmt: skip
                print(json.dumps(row), flush=True)
                rows.append(row)
    print("\n| engine | setting | frames/s end to end (best of runs) | CPU ms per frame (all threads) | decode "
          "| preprocess | inference | postprocess | write (thread) |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for name, _ in engines:
        for label, _ in settings:
            rs = [r for r in rows if r["engine"] == name and r["setting"] == label]
            b = max(rs, key=lambda r: r["fps"])
            spread = ", ".join(f"{r['fps']:.1f}" for r in rs)
            stages = " | ".join(f"{b[k]:.1f}" for k in ("decode", "preprocess", "inference", "postprocess", "write"))
            print(f"| {name} | {label} | **{b['fps']:.1f}** ({spread}) | {b['cpu_ms']:.0f} | {stages} |")


if __name__ == "__main__":
    main()
