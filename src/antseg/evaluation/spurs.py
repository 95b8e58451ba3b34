"""``antseg evaluate`` for scleral spurs: errors per side in px and um, PCK, misses, per group."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from antseg.data.canonical import load_dataset
from antseg.errors import AntsegInputError
from antseg.inference.spurs import SpurPredictor
from antseg.io.atomic import atomic_dir
from antseg.io.output_folder import existing_paths
from antseg.io.tables import write_csv, write_json
from antseg.metrics.landmarks import landmark_markdown, landmark_rows, summarize_landmarks


def evaluate_spurs(
    weights: str | Path, dataset: str | Path, out: str | Path, split: str = "test", device: str = "auto",
    overwrite: bool = False, progress: Callable[[int, int], None] | None = None,
) -> dict:  # fmt: skip
    """Evaluate a spur model; writes ``landmarks_per_case.csv``, ``landmarks_summary.csv``,
    ``landmarks_by_group.csv``, ``landmarks.json`` and ``landmarks.md``."""
    ds = load_dataset(dataset)
    pred = SpurPredictor(weights, device)
    names = [n for n in pred.names if n in ds.landmarks]
    if not names:
        raise AntsegInputError(ds.root, f"dataset has none of the model's landmarks {pred.names}")
    cases = [c for c in ds.cases if c.split == split or split == "all"]
    if not cases:
        raise AntsegInputError(ds.root, f"no cases in split {split!r}")
    rows, s1, s2 = [], [], []
    for i, c in enumerate(cases):
        res = pred.predict(ds.load_image(c, grayscale=True))
        s1.append(pred.timings["stage1_ms"])
        s2.append(pred.timings["stage2_ms"])
        p = {n: (res[n]["x"], res[n]["y"]) if res[n]["visible"] else None for n in names}
        rows += landmark_rows(names, p, {n: c.landmarks.get(n) for n in names}, c.case_id, c.group, ds.spacing(c))
        for r in rows[-len(names) :]:
            r["confidence"] = res[r["landmark"]]["confidence"]
        if progress:
            progress(i + 1, len(cases))
    summary, by_group = summarize_landmarks(rows), summarize_landmarks(rows, by="group")
    md = landmark_markdown(summary)
    result = {
        "checkpoint": str(weights), "dataset": str(ds.root), "split": split, "n_cases": len(cases),
        "landmarks": summary, "by_group": by_group, "markdown": md,
        "ms_per_image": {"stage1": statistics.median(s1), "stage2": statistics.median(s2)},
    }  # fmt: skip
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(dataset, weights)) as tmp:
        write_csv(tmp / "landmarks_per_case.csv", rows)
        write_csv(tmp / "landmarks_summary.csv", summary)
        write_csv(tmp / "landmarks_by_group.csv", by_group)
        write_json(tmp / "landmarks.json", result)
        (tmp / "landmarks.md").write_text(md)
    return result
