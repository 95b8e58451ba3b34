"""Segmentation evaluation of a tiny run: the tables and consistent metrics."""

from __future__ import annotations

import pytest

from antseg.errors import AntsegInputError
from antseg.evaluation import evaluate_segmentation


def test_evaluate_writes_tables_with_consistent_metrics(tiny_run, split_phantom, tmp_path):
    res = evaluate_segmentation(tiny_run, split_phantom, tmp_path / "ev", split="test", device="cpu")
    for f in ("per_case.csv", "summary.csv", "by_group.csv", "summary.json", "results.md"):
        assert (tmp_path / "ev" / f).is_file()
    assert res["unit"] == "mm" and len(res["structures"]) == 6
    for r in res["structures"]:
        assert r["iou_mean"] <= r["dice_mean"] + 1e-12
        assert r["n"] == sum(r[f"n_{s}"] for s in ("ok", "both_empty", "missed", "false_positive"))
    assert "| **Left Iris** |" in res["markdown"]
    with pytest.raises(AntsegInputError, match="no cases with masks in split 'nope'"):
        evaluate_segmentation(tiny_run, split_phantom, tmp_path / "ev2", split="nope")
