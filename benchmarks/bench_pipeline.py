"""Seconds per scan of the whole report pipeline: segment + spurs + biometry + overlay (2 CPU threads).

Runs :func:`antseg.report.make_report` on a folder of scans (default: 16 phantom scans of 2130x998) and prints
the wall time per scan and the median of each step. The goal is <= 0.5 s per scan on 2 cores. Timing depends
on the models' masks (noisy masks make overlays and geometry slower), so use trained models.

Usage: python benchmarks/bench_pipeline.py --weights RUN --spurs RUN [--scans DIR] [--spacing 0.0075]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import torch

from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.report import make_report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--weights", required=True, help="segmentation run folder or checkpoint")
    ap.add_argument("--spurs", required=True, help="spur run folder or spur.pt")
    ap.add_argument("--scans", type=Path, help="folder of scans (default: 16 phantom scans of 2130x998)")
    ap.add_argument("--spacing", type=float, default=0.0075)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        scans = args.scans
        if scans is None:
            scans = generate_asoct_dataset(Path(tmp) / "ph", AsoctPhantomConfig(n=16, seed=7)) / "images"
        res = make_report([scans], Path(tmp) / "report", args.weights, args.spurs,
                          spacing=(args.spacing, args.spacing), device="cpu")  # fmt: skip
    print(json.dumps({k: res[k] for k in ("n_scans", "seconds_per_scan", "steps_ms")}, indent=1))
    print("| scans | s/scan (all steps, with writing) | " + " | ".join(f"{k} ms" for k in res["steps_ms"]) + " |")
    print(f"| {res['n_scans']} | {res['seconds_per_scan']:.3f} | "
          + " | ".join(f"{v:.0f}" for v in res["steps_ms"].values()) + " |")  # fmt: skip


if __name__ == "__main__":
    main()
