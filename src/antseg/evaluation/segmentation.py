"""``antseg evaluate`` for segmentation: per case and per structure, then summaries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from antseg.data.canonical import load_dataset
from antseg.errors import AntsegInputError
from antseg.evaluation.tables import markdown_table
from antseg.inference.predictor import Predictor
from antseg.io.atomic import atomic_dir
from antseg.io.output_folder import existing_paths
from antseg.io.tables import write_csv, write_json
from antseg.metrics import SegmentationMetric


def evaluate_segmentation(
    weights: str | Path,
    dataset: str | Path,
    out: str | Path,
    split: str = "test",
    device: str = "auto",
    method: str | None = None,
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Evaluate a model on one split of a dataset, at the images' own resolution.

    Writes ``per_case.csv``, ``summary.csv``, ``by_group.csv``, ``summary.json`` and ``results.md`` to ``out``.
    Distances are in mm when the dataset knows its pixel spacing, in pixels otherwise.

    Returns:
        the JSON summary (``structures``: per-structure mean/sd and status counts, ``overall``, ``by_group``).
    """
    ds = load_dataset(dataset)
    cases = [c for c in ds.cases if (c.split == split or split == "all") and c.mask]
    if not cases:
        have = sorted({c.split or "(none)" for c in ds.cases})
        raise AntsegInputError(ds.root, f"no cases with masks in split {split!r} (splits here: {', '.join(have)})")
    pred = Predictor(weights, device)
    common = [s for s in pred.structures if s in ds.structures]
    if not common:
        raise AntsegInputError(
            ds.root, f"model structures {pred.structures} and dataset structures {ds.structures} share none"
        )
    pi = [pred.structures.index(s) for s in common]
    di = [ds.structures.index(s) for s in common]
    metric = SegmentationMetric(common)
    for i, c in enumerate(cases):
        img = ds.load_image(c, grayscale=pred.grayscale)
        masks = pred.predict(img).masks[pi]
        metric(masks, ds.load_masks(c)[di], c.case_id, c.group, ds.spacing(c))
        if progress:
            progress(i + 1, len(cases))
    summary = metric.aggregate()
    by_group = metric.aggregate(by="group")
    overall = {m: float(np.nanmean([r[f"{m}_mean"] for r in summary])) for m in ("dice", "iou", "hd95", "assd")}
    method = method or f"antseg {pred.model.antseg_spec['name']}"
    result = {
        "model": pred.model.antseg_spec,
        "checkpoint": str(weights),
        "dataset": str(ds.root),
        "split": split,
        "n_cases": len(cases),
        "unit": summary[0]["unit"],
        "structures": summary,
        "by_group": by_group,
        "overall": overall,
        "missing_from_model": [s for s in ds.structures if s not in pred.structures],
    }
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(dataset, weights)) as tmp:
        write_csv(tmp / "per_case.csv", metric.rows)
        write_csv(tmp / "summary.csv", summary)
        write_csv(tmp / "by_group.csv", by_group)
        write_json(tmp / "summary.json", result)
        (tmp / "results.md").write_text(markdown_table(summary, by_group, method))
    result["markdown"] = (Path(out) / "results.md").read_text()
    return result
