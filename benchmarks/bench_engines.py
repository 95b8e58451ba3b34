"""ms/image of every method of a finished ``antseg benchmark`` folder, timed again round-robin.

On a shared machine the benchmark's own timings (one pass over the test images per method, one method after
the other) move with the load of the moment. This loads every trained method at once and times them in turn,
image by image, ``--repeats`` times, so a load spike hits all of them alike; it prints the median and the
spread (25th-75th percentile) per method.

    python benchmarks/bench_engines.py bench/ data/asoct --repeats 5 --threads 2
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import torch

from antseg.data.canonical import load_dataset
from antseg.engines import get_engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bench", type=Path, help="Output folder of antseg benchmark.")
    ap.add_argument("dataset", type=Path, help="The dataset it was run on.")
    ap.add_argument("--split", default="test")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    ds = load_dataset(args.dataset)
    cases = [c for c in ds.cases if c.split == args.split]
    methods = []
    for folder in ("methods", "spurs"):
        for result in sorted((args.bench / folder).glob("*/result.json")):
            name = result.parent.name
            pred = get_engine(name).load(result.parent / "run", args.device)
            label = json.loads(result.read_text()).get("label") or name
            methods.append((label, pred, []))
    images = {(c.case_id, g): ds.load_image(c, grayscale=g) for c in cases for g in (True, False)}
    for rep in range(args.repeats + 1):  # the first pass warms every method up and is not counted
        for c in cases:
            for _, pred, times in methods:
                if pred.oracle:
                    pred.set_reference(list(ds.structures), ds.load_masks(c) if c.mask else None, dict(c.landmarks))
                t0 = time.perf_counter()
                pred.predict(images[(c.case_id, pred.in_channels == 1)])
                if rep:
                    times.append(1000 * (time.perf_counter() - t0))
    print(f"{len(cases)} images x {args.repeats} repeats, {torch.get_num_threads()} threads, {args.device}")
    print("| Method | ms/image (median) | 25th-75th percentile |")
    print("| :-- | --: | --: |")
    for label, _, times in methods:
        q1, med, q3 = np.percentile(times, [25, 50, 75])
        print(f"| {label} | {med:.0f} | {q1:.0f}-{q3:.0f} |")


if __name__ == "__main__":
    main()
