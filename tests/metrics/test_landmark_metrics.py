"""Landmark metrics on hand-made points: errors in px and um, PCK, misses, false positives, groups."""

from __future__ import annotations

import math

import pytest

from antseg.metrics.landmarks import landmark_markdown, landmark_rows, summarize_landmarks


def test_landmark_metrics_exact():
    names = ["left_scleral_spur", "right_scleral_spur"]
    ref = {"left_scleral_spur": (100.0, 50.0), "right_scleral_spur": (300.0, 60.0)}
    rows = []
    rows += landmark_rows(
        names, {"left_scleral_spur": (103.0, 54.0), "right_scleral_spur": (300.0, 60.0)}, ref, "a", "pacg", (0.01, 0.02)
    )
    rows += landmark_rows(
        names, {"left_scleral_spur": (100.0, 62.0), "right_scleral_spur": None}, ref, "b", "normal", (0.01, 0.02)
    )
    none = {"left_scleral_spur": None, "right_scleral_spur": None}
    rows += landmark_rows(
        names, {"left_scleral_spur": None, "right_scleral_spur": (1.0, 1.0)}, none, "c", "normal", None
    )
    s = {r["landmark"]: r for r in summarize_landmarks(rows)}
    left, right = s["left_scleral_spur"], s["right_scleral_spur"]
    assert left["mean_px"] == pytest.approx(8.5) and left["median_px"] == pytest.approx(8.5) and left["max_px"] == 12
    assert left["sd_px"] == pytest.approx(math.sqrt(((5 - 8.5) ** 2 + (12 - 8.5) ** 2) / 1))
    assert left["pck5"] == 0.5 and left["pck10"] == 0.5 and left["pck20"] == 1.0 and left["n_both_absent"] == 1
    assert left["mean_um"] == pytest.approx((math.hypot(30, 80) + 240) / 2)  # 3 px x 10 um, 4 px x 20 um
    assert right["n_missed"] == 1 and right["n_false_positive"] == 1 and right["pck5"] == 0.5 and right["mean_px"] == 0
    by = {(r["group"], r["landmark"]): r for r in summarize_landmarks(rows, by="group")}
    assert by[("pacg", "left_scleral_spur")]["mean_px"] == 5
    assert "| Left | 8.50 ± 4.95 |" in landmark_markdown([left])
