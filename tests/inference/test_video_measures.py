"""Per-frame measures, the temporal smoother, and the fast frame pre/postprocessing against the reference path."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
import torch

from antseg.inference.backends import logits_to_masks, prepare_frame
from antseg.inference.temporal import MeasureSmoother, SmoothConfig
from antseg.inference.video_measures import Ellipse, StructureMeasures, frame_row, measure_mask
from antseg.models import CheckpointMeta
from antseg.preprocessing import prepare_image


def _disc(cx, cy, a, b, angle, size=(320, 240)):
    m = np.zeros((size[1], size[0]), np.uint8)
    cv2.ellipse(m, ((cx, cy), (a, b), angle), 1, -1)
    return m


def test_measures_of_an_ellipse_and_a_stray_blob():
    m = _disc(150.0, 110.0, 160, 100, 30)
    m[5:9, 300:304] = 1  # a false-positive blob must not move anything
    r = measure_mask(m, 0.9)
    assert r.present and r.confidence == pytest.approx(0.9)
    assert r.area_px == pytest.approx(math.pi * 80 * 50, rel=0.03)  # rasterised: boundary pixels count
    assert r.centroid == pytest.approx((150, 110), abs=0.1)
    e = r.ellipse
    assert (e.cx, e.cy, e.major, e.minor, e.angle) == pytest.approx((150, 110, 160, 100, 30), abs=1.0)
    assert r.diameter_px == pytest.approx(2 * math.sqrt(80 * 50), rel=0.02)
    row = frame_row(7, 3584, 0.28, {"cornea": r}, spacing=(0.01, 0.02))
    assert row["frame"] == 7 and row["pts"] == 3584 and row["cornea_present"] == 1
    assert float(row["cornea_area_mm2"]) == pytest.approx(r.area_px * 0.0002, rel=1e-3)
    absent = measure_mask(np.zeros((240, 320), np.uint8), 0.0)
    assert not absent.present and absent.centroid is None
    assert "cornea_area_px" not in frame_row(0, 0, 0.0, {"cornea": absent})


def _noisy(t, rng, cx):
    e = Ellipse(cx + rng.normal(0, 1), 120 + rng.normal(0, 1), 200 + rng.normal(0, 1), 190 + rng.normal(0, 1), 10)
    return StructureMeasures(True, 0.9, 30000 + rng.normal(0, 200), (e.cx, e.cy), e)


def test_smoother_reduces_jitter_at_rest_and_follows_motion():
    rng = np.random.default_rng(0)
    fps = 25
    ts = np.arange(100) / fps
    raw_static = [_noisy(t, rng, 160.0) for t in ts]
    sm = MeasureSmoother(SmoothConfig())
    smooth_static = [sm(t, m) for t, m in zip(ts, raw_static, strict=True)]

    def steps(ms):
        return np.sqrt(np.mean(np.diff([m.ellipse.cx for m in ms[10:]]) ** 2))

    assert steps(smooth_static) < 0.7 * steps(raw_static)  # 1 px noise: 4x the phantom's; there 3x lower
    speed = 400.0  # px/s, 2 diameters per second
    sm = MeasureSmoother(SmoothConfig())
    lag = [sm(t, _noisy(t, rng, 160 + speed * t)).ellipse.cx - (160 + speed * t) for t in ts]
    assert abs(np.mean(lag[20:])) < 0.1 * speed / fps  # a tenth of a frame's motion behind at most
    sm = MeasureSmoother()
    assert sm(0.0, raw_static[0]) == raw_static[0]
    assert sm(0.04, measure_mask(np.zeros((8, 8), np.uint8), 0.0)).present is False  # absent: passes, restarts
    assert sm(0.08, raw_static[2]) == raw_static[2]


@pytest.mark.parametrize("norm,channels", [("image_zscore", 3), ("imagenet", 3), ("image_zscore", 1)])
def test_fast_preprocessing_matches_prepare_image(norm, channels):
    coarse = np.random.default_rng(1).integers(0, 256, (6, 8, 3), dtype=np.uint8)
    img = cv2.resize(coarse, (401, 300), interpolation=cv2.INTER_CUBIC)  # a frame-like contrast (sd ~60 levels)
    meta = CheckpointMeta(structures=["cornea"], input_size=[96, 128], in_channels=channels, normalization=norm)
    ref, lb_ref = prepare_image(img, channels, (96, 128), norm)
    got = np.empty_like(ref)
    lb = prepare_frame(img, meta, got)
    assert lb == lb_ref
    assert np.abs(got - ref).max() < 0.03  # 8-bit rounding of the resized frame only (in sd units)


def test_fast_postprocessing_matches_letterbox_invert():
    from antseg.preprocessing import Letterbox

    meta = CheckpointMeta(structures=["cornea", "pupil"], input_size=[96, 128], threshold=0.5)
    lb = Letterbox((300, 401), (96, 128))
    logits = cv2.GaussianBlur(np.random.default_rng(2).normal(0, 3, (96, 128, 2)).astype(np.float32), (0, 0), 4)
    logits = logits.transpose(2, 0, 1).copy()
    fm = logits_to_masks(logits, lb, meta)
    ref = (torch.sigmoid(lb.invert(torch.from_numpy(logits)[None]))[0].numpy() > 0.5).astype(np.uint8)
    assert fm.masks.shape == (2, 300, 401) and (fm.masks != ref).mean() < 1e-3
    assert 0.5 < fm.confidence[0] < 1


def test_a_large_frame_is_shrunk_by_halvings_to_the_same_input():
    """Full-HD-like frames: area halvings first, statistics from a subsample; the input stays prepare_image's."""
    from antseg.inference.backends import canvas_hw

    coarse = np.random.default_rng(3).integers(0, 256, (9, 16, 3), dtype=np.uint8)
    img = cv2.resize(coarse, (1920, 1080), interpolation=cv2.INTER_CUBIC)
    meta = CheckpointMeta(structures=["cornea"], input_size=[192, 256], in_channels=3)
    assert canvas_hw(img.shape[:2], meta, 32) == (160, 256) and canvas_hw(img.shape[:2], meta, None) == (192, 256)
    ref, lb_ref = prepare_image(img, 3, (192, 256), "image_zscore")
    got = np.zeros((3, 160, 256), np.float32)
    lb = prepare_frame(img, meta, got)
    assert lb == lb_ref and lb.inner_hw == (144, 256)
    assert np.abs(got[:, :144] - ref[:, :144]).max() < 0.05 and not got[:, 144:].any()
