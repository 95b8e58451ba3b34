"""The shipped surgical model: found by ``default`` wherever a surgical video (or a frame of one) is predicted,
small, safe, marked synthetic, its ONNX twin equal to it, its card read by the video path; and the whole-video
command on a fresh phantom surgery."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch

from antseg.data.phantom.surgical import Scene, sample_view, write_video
from antseg.evaluation.video import read_frames_csv
from antseg.models import read_checkpoint
from antseg.models.shipped import (
    SURGICAL_CARD,
    SURGICAL_FILE,
    SURGICAL_ONNX,
    checkpoint,
    is_shipped,
    surgical_card,
    surgical_checkpoint,
)


def test_the_surgical_checkpoint_is_small_safe_synthetic_and_separate():
    path = surgical_checkpoint()
    assert path.name == SURGICAL_FILE and is_shipped(path) and path != checkpoint("segmentation")
    ck = read_checkpoint(path)
    assert ck.meta.structures == ["cornea", "pupil"] and ck.meta.modality == "surgical"
    assert ck.meta.synthetic and "synthetic" in ck.meta.dataset and ck.meta.in_channels == 3
    assert path.stat().st_size < 3_000_000 and ck.training is None
    assert {v.dtype for v in ck.state_dict.values() if v.is_floating_point()} == {torch.float16}
    torch.load(path, map_location="cpu", weights_only=True)  # never unpickles anything else


def test_the_card_holds_the_measured_figures():
    card = surgical_card()
    assert card["model"]["file"] == SURGICAL_FILE and card["model"]["synthetic"] is True
    dice = card["phantom_test"]["dice"]
    assert dice["cornea"]["mean"] > 0.9 and dice["pupil"]["mean"] > 0.9
    cal = card["calibration"]
    assert {"a", "b", "c", "source"} <= set(cal) and cal["source"]
    assert card["without_an_eye"]["limbus_reported_share"] < 0.2
    assert surgical_checkpoint().with_name(SURGICAL_CARD).is_file()


def test_the_onnx_twin_gives_the_same_logits():
    pytest.importorskip("onnxruntime")
    from antseg.inference.backends import TorchBackend
    from antseg.inference.onnx_predictor import OnnxBackend

    onnx_path = surgical_checkpoint(prefer_onnx=True)
    assert onnx_path.name == SURGICAL_ONNX and is_shipped(onnx_path)
    a, b = TorchBackend(surgical_checkpoint(), "cpu"), OnnxBackend(onnx_path, "cpu")
    assert a.meta.structures == b.meta.structures and b.size_multiple == a.size_multiple
    x = np.random.default_rng(0).standard_normal((1, 3, 160, 256)).astype(np.float32)  # a full-HD frame's input
    assert np.abs(a(x) - b(x)).max() < 1e-3


@pytest.fixture(scope="module")
def surgery(tmp_path_factory):
    """A 0.8 s phantom surgery (4:3, 25 fps) of an eye the model has not seen, and its exact polygons."""
    path = tmp_path_factory.mktemp("surgery") / "surgery.mp4"
    w, h = 512, 384
    scene = Scene(sample_view(np.random.default_rng([4242, 1]), w, h), w, h)
    polys = []
    write_video(path, scene, 0.8, 25, 4242, on_frame=lambda k, fr: polys.append(fr.polygons))
    return path, polys


def test_predict_default_on_a_surgery_video(surgery, tmp_path, cli):
    video, polys = surgery
    r = cli("predict", "default", video, "--out", tmp_path / "run", "--device", "cpu", "--masks", "none")
    assert r.code == 0, r.err
    out = tmp_path / "run"
    assert {"overlay.mp4", "frames.csv", "summary.json", "pupil_diameter.png"} <= {p.name for p in out.iterdir()}
    rows = read_frames_csv(out / "frames.csv")
    assert len(rows) == 20
    found = [row for row in rows if row["status"] == "ok"]
    assert len(found) >= 18  # the limbus of a phantom eye is found, where it is
    for row in found:
        truth = cv2.fitEllipse(polys[int(row["frame"])]["Cornea"][0])
        assert abs(float(row["limbus_cx"]) - truth[0][0]) < 10 and abs(float(row["limbus_cy"]) - truth[0][1]) < 10
        assert 3.0 < float(row["pupil_diameter_mm"]) < 10.5 and row["scale_source"].startswith("limbus = 11.7")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model_card"]["synthetic"] is True and summary["surgical"]["confidence"]["calibrated"] is True
    assert summary["model"].endswith((SURGICAL_FILE, SURGICAL_ONNX))


def test_predict_default_on_a_frame_of_a_surgery_video(surgery, tmp_path, cli):
    video, _ = surgery
    r = cli("predict", "default", video, "--timestamp", "0.5", "--out", tmp_path / "f", "--device", "cpu")
    assert r.code == 0, r.err
    assert {"original.png", "cornea.png", "pupil.png", "overlay.png"} <= {p.name for p in (tmp_path / "f").iterdir()}
