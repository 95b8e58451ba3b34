"""Peak memory (RSS) and wall time of ``antseg predict`` over folders of 100 and 10,000 small images.

Each run is a fresh ``python -m antseg predict`` process; its peak RSS comes from ``os.wait4`` (the kernel's
own count for that child). The images are 64x32 greyscale PNGs and the model a tiny untrained ``unet-lite``
(memory does not depend on the weights), so the figures show what grows with the number of images.

    python benchmarks/bench_predict_memory.py                 # 100 and 10,000 images (about 3 minutes)
    python benchmarks/bench_predict_memory.py --sizes 100,1000
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from antseg.io.images import write_png
from antseg.models import CheckpointMeta, create_model, save_checkpoint

STRUCTURES = ["anterior_chamber", "lens", "nucleus", "left_iris", "right_iris"]


def tiny_checkpoint(path: Path) -> Path:
    model = create_model("unet-lite", in_channels=1, classes=len(STRUCTURES), channels=(8, 16, 32), num_res_units=1)
    meta = CheckpointMeta(structures=STRUCTURES, input_size=[32, 64], in_channels=1, spacing_mm=[0.0075, 0.0075])
    return save_checkpoint(path, model, meta)


def make_images(folder: Path, n: int) -> Path:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        write_png(folder / f"scan{i:05d}.png", rng.integers(0, 255, (32, 64), np.uint8))
    return folder


def run_predict(weights: Path, images: Path, out: Path) -> tuple[float, float, int]:
    """(peak RSS in MiB, wall seconds, exit code) of one ``antseg predict`` process."""
    cmd = [sys.executable, "-m", "antseg", "predict", str(weights), str(images), "--out", str(out), "--device", "cpu"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_maxrss / 1024, seconds, proc.returncode  # ru_maxrss is in KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="100,10000", help="comma-separated numbers of images")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        weights = tiny_checkpoint(root / "tiny.pt")
        rows = []
        for n in sizes:
            images = make_images(root / f"images{n}", n)
            rss, seconds, code = run_predict(weights, images, root / f"out{n}")
            if code != 0:
                raise SystemExit(f"antseg predict failed on {n} images (exit {code})")
            done = sum(1 for p in (root / f"out{n}").iterdir() if p.is_dir())
            rows.append((n, done, rss, seconds))
    print("| images | predicted | peak RSS (MiB) | wall (s) | ms/image |")
    print("|---|---|---|---|---|")
    for n, done, rss, seconds in rows:
        print(f"| {n} | {done} | {rss:.0f} | {seconds:.1f} | {1000 * seconds / n:.1f} |")


if __name__ == "__main__":
    main()
