"""Scleral-spur (landmark) methods in the benchmark: trained like the segmentation methods, scored by
:mod:`antseg.metrics.landmarks` (errors in px and um at the original resolution, PCK, misses, false positives)."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from pathlib import Path

from antseg.comparison.common import RESULT, device_name, predict_timed, trained_predictor
from antseg.comparison.config import BenchmarkConfig
from antseg.data.canonical import CanonicalDataset
from antseg.errors import AntsegInputError
from antseg.io.tables import write_csv, write_json
from antseg.metrics.landmarks import landmark_rows, summarize_landmarks


def spur_cases(ds: CanonicalDataset, split: str) -> list:
    """The cases of ``split`` (all of them: a scan without a visible spur scores misses and false positives)."""
    if not ds.landmarks:
        raise AntsegInputError(ds.root, "the dataset has no landmarks to benchmark spur methods on")
    cases = [c for c in ds.cases if c.split == split]
    if not cases:
        raise AntsegInputError(ds.root, f"no cases in split {split!r}")
    return cases


def evaluate_spur_method(
    method: str, ds: CanonicalDataset, cases: list, out: Path, cfg: BenchmarkConfig, log: Callable[[str], None],
    progress: Callable[[int, int], None] | None = None, runs: dict[str, str] | None = None,
) -> dict:  # fmt: skip
    """Train (or reuse) one landmark method and score it on ``cases``; writes ``out/per_case.csv`` and
    ``out/result.json``."""
    predictor, train_s, names = trained_predictor(method, ds, out, cfg, log, runs, "landmarks")
    rows, times = [], []
    for c, res, ms in predict_timed(predictor, ds, cases, progress):
        times.append(ms)
        pred = res.landmarks or {}
        new = landmark_rows(names, pred, {n: c.landmarks.get(n) for n in names}, c.case_id, c.group, ds.spacing(c))
        for r in new:
            r["confidence"] = res.confidence.get(r["landmark"], "")
        rows += new
    result = {
        "method": method, "task": "landmarks", "label": predictor.label or method, "status": "ok",
        "landmarks": names, "missing_landmarks": [n for n in ds.landmarks if n not in names],
        "train_s": train_s, "ms_per_image": statistics.median(times), "ms_per_image_mean": statistics.fmean(times),
        "n_test": len(cases), "n_parameters": predictor.n_parameters, "device": device_name(cfg),
        "summary": summarize_landmarks(rows), "by_group": summarize_landmarks(rows, by="group"),
    }  # fmt: skip
    write_csv(out / "per_case.csv", rows)
    result["per_case"] = rows
    write_json(out / RESULT, result)
    return result
