"""Trainer, augmentation, letterbox, prediction (images and video) and evaluation on tiny phantoms."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import torch

from antseg.data.canonical import load_dataset
from antseg.data.split import SplitConfig, split_dataset
from antseg.errors import AntsegInputError
from antseg.evaluation import evaluate_segmentation
from antseg.inference import Predictor, predict_paths, read_frame_at
from antseg.models import read_checkpoint
from antseg.preprocessing import Letterbox, flip_pairs
from antseg.training import TrainConfig, train_segmentation
from antseg.training.augment import AugmentConfig, augment

TINY = dict(
    model="unet-lite",
    model_args={"channels": (8, 16, 32), "num_res_units": 1},
    input_size=(64, 128),
    batch_size=4,
    lr=3e-3,
    threads=2,
)


@pytest.fixture(scope="module")
def split_phantom(asoct_phantom, tmp_path_factory):
    import shutil

    dst = tmp_path_factory.mktemp("tr") / "ds"
    shutil.copytree(asoct_phantom, dst)
    split_dataset(dst, SplitConfig(ratios=(0.6, 0.2, 0.2)))
    return dst


@pytest.fixture(scope="module")
def tiny_run(split_phantom, tmp_path_factory):
    run = tmp_path_factory.mktemp("run") / "r"
    train_segmentation(split_phantom, run, TrainConfig(epochs=4, **TINY), log=lambda s: None)
    return run


def _rows(run):
    with open(run / "metrics.csv") as fh:
        return list(csv.DictReader(fh))


def test_training_lowers_the_loss_and_writes_the_run(tiny_run):
    rows = _rows(tiny_run)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    for f in ("best.pt", "last.pt", "config.yaml", "metrics.csv", "curves.png"):
        assert (tiny_run / f).is_file(), f
    meta = read_checkpoint(tiny_run / "best.pt").meta
    assert meta.structures == ["anterior_chamber", "lens", "nucleus", "left_iris", "right_iris"]
    assert meta.input_size == [64, 128] and meta.normalization == "image_zscore"
    assert meta.spacing_mm == [0.025, 0.025] and meta.in_channels == 1
    assert read_checkpoint(tiny_run / "best.pt").training is None
    assert read_checkpoint(tiny_run / "last.pt").training is not None


def test_resume_continues_exactly_where_it_stopped(split_phantom, tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    train_segmentation(split_phantom, full, TrainConfig(epochs=3, **TINY), log=lambda s: None)
    train_segmentation(split_phantom, part, TrainConfig(epochs=3, time_budget_s=1e-6, **TINY), log=lambda s: None)
    assert [int(r["epoch"]) for r in _rows(part)] == [1]  # stopped by the budget after one epoch
    train_segmentation(split_phantom, part, TrainConfig(epochs=3, **TINY), resume=True, log=lambda s: None)
    a, b = _rows(full), _rows(part)
    assert [r["epoch"] for r in b] == ["1", "2", "3"]
    assert float(a[-1]["train_loss"]) == pytest.approx(float(b[-1]["train_loss"]), rel=1e-4)
    wa, wb = read_checkpoint(full / "last.pt").state_dict, read_checkpoint(part / "last.pt").state_dict
    for k in wa:
        assert torch.allclose(wa[k].float(), wb[k].float(), atol=1e-5), k


def test_existing_run_needs_resume(split_phantom, tiny_run):
    with pytest.raises(AntsegInputError, match="--resume"):
        train_segmentation(split_phantom, tiny_run, TrainConfig(epochs=1, **TINY), log=lambda s: None)


def test_flip_swaps_left_and_right():
    names = ["anterior_chamber", "left_iris", "right_iris"]
    assert flip_pairs(names) == [0, 2, 1]
    img = torch.zeros(1, 1, 4, 6)
    img[..., :2] = 1
    masks = torch.zeros(1, 3, 4, 6)
    masks[0, 1, :, :2] = 1  # a "left iris" on the left
    cfg = AugmentConfig(flip=1.0, rotate_deg=0, scale=(1, 1), translate=0, gamma=(1, 1), contrast=(1, 1), noise=0)
    x, y = augment(img, masks, flip_pairs(names), cfg, torch.Generator().manual_seed(0))
    assert y[0, 1].sum() == 0 and y[0, 2, :, -2:].min() > 0.99  # now a right iris on the right
    assert x[0, 0, :, -2:].min() > 0.99


def test_letterbox_keeps_aspect_and_inverts():
    lb = Letterbox((998, 2130), (256, 512))
    assert lb.inner_hw == (240, 512)
    img = np.zeros((998, 2130), np.float32)
    img[:, :1065] = 1
    out = lb.image(img)
    assert out.shape == (256, 512) and out[240:].max() == 0
    back = lb.invert(torch.from_numpy(out)[None, None])[0, 0].numpy()
    assert back.shape == (998, 2130) and back[:, :1000].min() > 0.99 and back[:, 1130:].max() < 0.01


def test_predict_images_and_folder(tiny_run, split_phantom, tmp_path):
    ds = load_dataset(split_phantom)
    img_dir = tmp_path / "imgs"
    img_dir.mkdir()
    for c in ds.cases[:2]:
        (img_dir / f"{c.case_id}.png").write_bytes((split_phantom / c.image).read_bytes())
    out = predict_paths(tiny_run, [img_dir], tmp_path / "pred", device="cpu")
    first = out / ds.cases[0].case_id
    for s in ds.structures + ["overlay"]:
        assert (first / f"{s}.png").is_file()
    with open(out / "areas.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * 5 and rows[0]["area_mm2"] != ""
    p = Predictor(tiny_run / "best.pt", device="cpu").predict(ds.load_image(ds.cases[0], grayscale=True))
    assert p.masks.shape == (5, 300, 640) and p.probs.dtype == np.float32


def _make_video(path, fps=10, n=20, size=(64, 48)):
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        s.codec_context.qmin, s.codec_context.qmax = 1, 2
        for k in range(n):
            frame = np.full((size[1], size[0], 3), 10 * k + 5, np.uint8)
            for pkt in s.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)


def test_frame_at_timestamp_is_the_frame_on_screen(tmp_path):
    v = tmp_path / "v.mp4"
    _make_video(v)
    for t, k in ((0.0, 0), (0.25, 2), (0.299, 2), (0.3, 3), (1.95, 19)):
        assert abs(read_frame_at(v, t).mean() - (10 * k + 5)) < 3, (t, k)
    with pytest.raises(AntsegInputError, match="past the end"):
        read_frame_at(v, 2.5)
    (tmp_path / "x.mp4").write_text("not a video")
    with pytest.raises(AntsegInputError, match="not a readable video"):
        read_frame_at(tmp_path / "x.mp4", 0.0)


def test_predict_video_at_timestamp(tiny_run, tmp_path, cli):
    v = tmp_path / "v.mp4"
    _make_video(v, size=(128, 96))
    r = cli("predict", tiny_run, v, "--timestamp", "0.5", "--out", tmp_path / "o", "--device", "cpu")
    assert r.code == 0, r.err
    for f in ("original.png", "lens.png", "overlay.png", "areas.csv"):
        assert (tmp_path / "o" / f).is_file()
    r = cli("predict", tiny_run, v, "--timestamp", "9", "--out", tmp_path / "o2")
    assert r.code == 2 and "past the end" in r.err and not (tmp_path / "o2").exists()
    r = cli("predict", tiny_run, v, "--out", tmp_path / "o3")
    assert r.code == 2 and "--timestamp" in r.err


def test_evaluate_writes_tables_with_consistent_metrics(tiny_run, split_phantom, tmp_path):
    res = evaluate_segmentation(tiny_run, split_phantom, tmp_path / "ev", split="test", device="cpu")
    for f in ("per_case.csv", "summary.csv", "by_group.csv", "summary.json", "results.md"):
        assert (tmp_path / "ev" / f).is_file()
    assert res["unit"] == "mm" and len(res["structures"]) == 5
    for r in res["structures"]:
        assert r["iou_mean"] <= r["dice_mean"] + 1e-12
        assert r["n"] == sum(r[f"n_{s}"] for s in ("ok", "both_empty", "missed", "false_positive"))
    assert "| **Left Iris** |" in res["markdown"]
    with pytest.raises(AntsegInputError, match="no cases with masks in split 'nope'"):
        evaluate_segmentation(tiny_run, split_phantom, tmp_path / "ev2", split="nope")


def test_train_evaluate_cli_end_to_end(split_phantom, tmp_path, cli):
    cfg = tmp_path / "train.yaml"
    cfg.write_text(
        "model: unet-lite\nmodel_args: {channels: [8, 16], num_res_units: 0}\ninput_size: [64, 128]\nepochs: 1\n"
    )
    r = cli("train", "seg", split_phantom, "--out", tmp_path / "run", "--config", cfg, "--lr", "0.002")
    assert r.code == 0, r.err
    import yaml

    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["lr"] == 0.002 and saved["epochs"] == 1 and saved["model"] == "unet-lite"
    r = cli("evaluate", tmp_path / "run", split_phantom, "--out", tmp_path / "ev", "--split", "val")
    assert r.code == 0 and "Anterior Chamber" in r.out
    r = cli("train", "seg", split_phantom, "--out", tmp_path / "r2", "--recipe", "nope")
    assert r.code == 2 and "valid: asoct-transresunet" in r.err


def test_side_gate_blocks_the_wrong_half():
    from antseg.preprocessing import gate_sides, side_channels

    names = ["lens", "left_iris", "right_iris"]
    sides = side_channels(names)
    assert sides == {1: "left", 2: "right"}
    logits = torch.full((2, 3, 4, 10), 5.0)
    out = gate_sides(logits, sides, torch.tensor([10, 6]))  # second image is 6 px wide inside its canvas
    assert (out[:, 0] == 5).all()
    assert (out[0, 1, :, :5] == 5).all() and (out[0, 1, :, 5:] < -20).all()
    assert (out[0, 2, :, :5] < -20).all() and (out[0, 2, :, 5:] == 5).all()
    assert (out[1, 1, :, :3] == 5).all() and (out[1, 1, :, 3:] < -20).all()
