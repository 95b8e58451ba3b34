"""Segmentation metrics: exact values on hand-made masks, empty cases, IoU <= Dice, spacing."""

from __future__ import annotations

import numpy as np
import pytest

from antseg.metrics import SegmentationMetric, dice_iou, segmentation_metrics, surface_distances


def square(h, w, r0, r1, c0, c1):
    m = np.zeros((h, w), bool)
    m[r0:r1, c0:c1] = True
    return m


def test_dice_iou_exact():
    a = square(20, 20, 5, 15, 5, 15)  # 100 px
    b = square(20, 20, 5, 15, 10, 20)  # 100 px, 50 shared
    assert dice_iou(a, b) == (0.5, pytest.approx(50 / 150))
    assert dice_iou(a, a) == (1.0, 1.0)
    assert dice_iou(np.zeros((3, 3)), np.zeros((3, 3))) == (1.0, 1.0)


def test_iou_never_exceeds_dice():
    """IoU <= Dice and Dice = 2J / (1 + J) for every pair, empty ones included; both empty is exactly (1, 1)."""
    rng = np.random.default_rng(0)
    pairs = [(rng.random((12, 12)) > rng.random(), rng.random((12, 12)) > rng.random()) for _ in range(200)]
    empty, full = np.zeros((12, 12), bool), np.ones((12, 12), bool)
    pairs += [(empty, empty), (np.zeros((1, 1), bool), np.zeros((1, 1), bool)), (empty, full), (full, empty)]
    pairs += [(full, full), (square(12, 12, 0, 1, 0, 1), empty)]
    both_empty = 0
    for a, b in pairs:
        d, j = dice_iou(a, b)
        assert 0 <= j <= d <= 1
        assert d == pytest.approx(2 * j / (1 + j), abs=1e-12)
        if not a.any() and not b.any():
            assert (d, j) == (1.0, 1.0)
            both_empty += 1
    assert both_empty >= 2


def _brute(p, r, sx, sy):
    """Independent HD95/ASSD: boundary pixels by 4-neighbour erosion, all-pairs distances."""

    def edge(m):
        pad = np.pad(m, 1)
        inner = pad[1:-1, 1:-1] & pad[:-2, 1:-1] & pad[2:, 1:-1] & pad[1:-1, :-2] & pad[1:-1, 2:]
        return np.argwhere(m & ~inner).astype(float)

    ep, er = edge(p), edge(r)
    scale = np.array([sy, sx])
    d = np.sqrt((((ep[:, None] - er[None]) * scale) ** 2).sum(-1))
    d_pr, d_rp = d.min(1), d.min(0)
    return max(np.percentile(d_pr, 95), np.percentile(d_rp, 95)), (d_pr.sum() + d_rp.sum()) / (len(d_pr) + len(d_rp))


@pytest.mark.parametrize("spacing", [(1.0, 1.0), (0.1, 0.25)])
def test_surface_distances_match_brute_force(spacing):
    p = square(30, 40, 5, 20, 5, 25)
    r = square(30, 40, 8, 22, 9, 30)
    hd, asd = surface_distances(p, r, spacing)
    bhd, basd = _brute(p, r, *spacing)
    assert hd == pytest.approx(bhd, rel=1e-5) and asd == pytest.approx(basd, rel=1e-5)


def test_shift_gives_exact_hausdorff_in_mm():
    p = square(20, 30, 5, 15, 5, 15)
    r = square(20, 30, 5, 15, 8, 18)  # shifted 3 columns
    hd, _ = surface_distances(p, r, (0.02, 0.5))
    assert hd == pytest.approx(3 * 0.02)


def test_empty_cases_are_explicit():
    z = np.zeros((1, 10, 10), bool)
    m = z.copy()
    m[0, 2:5, 2:5] = True
    rows = {
        "both_empty": segmentation_metrics(z, z, ["s"])[0],
        "missed": segmentation_metrics(z, m, ["s"])[0],
        "false_positive": segmentation_metrics(m, z, ["s"])[0],
        "ok": segmentation_metrics(m, m, ["s"])[0],
    }
    for status, r in rows.items():
        assert r["status"] == status
    assert rows["both_empty"]["dice"] == 1 and rows["both_empty"]["hd95"] == 0
    assert rows["missed"]["dice"] == 0 and np.isnan(rows["missed"]["hd95"])
    assert rows["ok"]["dice"] == 1 and rows["ok"]["hd95"] == 0 and rows["ok"]["unit"] == "px"


def test_accumulator_summaries_count_statuses():
    met = SegmentationMetric(["a", "b"])
    full = np.ones((2, 6, 6), bool)
    empty = np.zeros((2, 6, 6), bool)
    met(full, full, "c1", "normal", (0.1, 0.1))
    met(empty, full, "c2", "pacg", (0.1, 0.1))
    s = {r["structure"]: r for r in met.aggregate()}
    assert s["a"]["n"] == 2 and s["a"]["n_missed"] == 1 and s["a"]["n_ok"] == 1
    assert s["a"]["dice_mean"] == 0.5 and s["a"]["hd95_mean"] == 0  # the undefined distance is not averaged in
    g = {(r["group"], r["structure"]): r for r in met.aggregate(by="group")}
    assert g[("pacg", "b")]["dice_mean"] == 0 and g[("normal", "b")]["dice_mean"] == 1
