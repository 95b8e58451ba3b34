"""Scleral spurs: heatmap round trip, metrics on hand-made points, absent spurs, YOLO export, tiny training."""

from __future__ import annotations

import math
import shutil

import pytest

from antseg.data.canonical import load_dataset
from antseg.data.exporters import run_exporter
from antseg.data.split import SplitConfig, split_dataset
from antseg.metrics.landmarks import landmark_markdown, landmark_rows, summarize_landmarks
from antseg.preprocessing import Letterbox, flip_pairs


def test_canvas_mapping_inverts():
    lb = Letterbox((998, 2130), (256, 512))
    for p in [(0.0, 0.0), (1064.5, 500.25), (2129.0, 997.0)]:
        back = lb.canvas_to_point(lb.point_to_canvas(p))
        assert back == pytest.approx(p, abs=1e-9)


def test_flip_swaps_spurs():
    assert flip_pairs(["left_scleral_spur", "right_scleral_spur"]) == [1, 0]


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


def test_yolo_pose_export_round_trips(asoct_phantom, tmp_path):
    import yaml

    ds_path = tmp_path / "ds"
    shutil.copytree(asoct_phantom, ds_path)
    ds = load_dataset(ds_path)
    ds.cases[0].landmarks["right_scleral_spur"] = None  # one spur not visible
    ds.save()
    split_dataset(ds_path, SplitConfig(ratios=(0.5, 0.25, 0.25)))
    run_exporter("yolo-pose", ds_path, tmp_path / "yolo")
    data = yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())
    assert data["kpt_shape"] == [2, 3] and data["flip_idx"] == [1, 0] and data["names"] == {0: "anterior_segment"}
    assert 0.002 < data["kpt_sigmas"][0] < 0.05 and set(data) >= {"train", "val", "test"}
    ds = load_dataset(ds_path)
    for c in ds:
        line = (tmp_path / "yolo" / "labels" / c.split / f"{c.case_id}.txt").read_text().split()
        assert line[0] == "0" and len(line) == 11
        cx, cy, bw, bh = map(float, line[1:5])
        for k, n in enumerate(("left_scleral_spur", "right_scleral_spur")):
            x, y, v = float(line[5 + 3 * k]), float(line[6 + 3 * k]), int(line[7 + 3 * k])
            p = c.landmarks[n]
            if p is None:
                assert v == 0 and x == 0 and y == 0
            else:
                assert v == 2 and abs(x * c.width - p[0]) < 1e-3 * c.width / 100 and abs(y * c.height - p[1]) < 0.01
                assert abs(x - cx) <= bw / 2 and abs(y - cy) <= bh / 2  # the box holds the spurs
        assert (tmp_path / "yolo" / "images" / c.split / f"{c.case_id}.png").is_file()


@pytest.fixture(scope="module")
def tiny_spur_run(asoct_phantom, tmp_path_factory):
    from antseg.training import TrainConfig
    from antseg.training.spurs import SpurConfig, train_spurs

    root = tmp_path_factory.mktemp("spur")
    ds = root / "ds"
    shutil.copytree(asoct_phantom, ds)
    d = load_dataset(ds)
    d.cases[0].landmarks["left_scleral_spur"] = None  # an absent spur is learned as absent
    d.save()
    split_dataset(ds, SplitConfig(ratios=(0.6, 0.2, 0.2)))
    cfg = TrainConfig(model="unet-lite", model_args={"channels": (8, 16, 32), "num_res_units": 1}, input_size=(64, 128),
                      epochs=2, lr=3e-3, threads=2)  # fmt: skip
    train_spurs(
        ds, root / "run", cfg, SpurConfig(refine_steps=20, refine_batch=4, crop=48, refine_jitter=8), log=lambda s: None
    )
    return ds, root / "run"


def test_spur_training_evaluate_and_predict(tiny_spur_run, tmp_path, cli):
    ds, run = tiny_spur_run
    assert (
        (run / "spur.pt").is_file()
        and (run / "stage1" / "metrics.csv").is_file()
        and (run / "refine_metrics.csv").is_file()
    )
    r = cli("evaluate", run, ds, "--out", tmp_path / "ev", "--split", "all", "--device", "cpu")
    assert r.code == 0, r.err
    assert "| Left |" in r.out and (tmp_path / "ev" / "landmarks_summary.csv").is_file()
    d = load_dataset(ds)
    img = tmp_path / "in.png"
    img.write_bytes((ds / d.cases[1].image).read_bytes())
    r = cli("predict", "none", img, "--spurs", run, "--out", tmp_path / "p", "--device", "cpu")
    assert r.code == 0, r.err
    text = (tmp_path / "p" / "spurs.csv").read_text()
    assert "left_scleral_spur" in text and (tmp_path / "p" / "in" / "overlay.png").is_file()


def test_old_or_wrong_spur_checkpoint_is_a_clear_error(tiny_spur_run, tmp_path, cli):
    import torch

    ds, run = tiny_spur_run
    ck = torch.load(run / "spur.pt", weights_only=True)
    del ck["meta"]["head"]  # as written by the first release (sigmoid heatmaps)
    torch.save(ck, tmp_path / "old.pt")
    img = tmp_path / "in.png"
    img.write_bytes((ds / load_dataset(ds).cases[1].image).read_bytes())
    r = cli("predict", "none", img, "--spurs", tmp_path / "old.pt", "--out", tmp_path / "p", "--device", "cpu")
    assert r.code == 2 and "old.pt" in r.err and "train it again" in r.err and "Traceback" not in r.err
    r = cli("predict", "none", img, "--spurs", run / "stage1" / "best.pt", "--out", tmp_path / "q")
    assert r.code == 2 and "not a spur" in r.err


def test_predicted_biometry_cli(tiny_spur_run, tmp_path, cli):
    """Predict masks and spurs, measure, and compare with the reference values (tiny untrained-ish models:
    only the plumbing and the output files are checked here)."""
    from antseg.training import TrainConfig, train_segmentation

    ds, spur_run = tiny_spur_run
    seg = tmp_path / "seg"
    cfg = TrainConfig(model="unet-lite", model_args={"channels": (8, 16, 32), "num_res_units": 1}, input_size=(64, 128),
                      epochs=1, threads=2)  # fmt: skip
    train_segmentation(ds, seg, cfg, log=lambda s: None)
    r = cli(
        "biometry", "--dataset", ds, "--weights", seg, "--spurs", spur_run, "--out", tmp_path / "b", "--split", "all"
    )
    assert r.code == 0, r.err
    for f in ("biometry_predicted.csv", "biometry_ground_truth.csv", "agreement.csv", "biometry.md"):
        assert (tmp_path / "b" / f).is_file()
    r = cli("biometry", "--dataset", ds, "--weights", seg, "--out", tmp_path / "c")
    assert r.code == 2 and "both --weights and --spurs" in r.err
    r = cli("evaluate", seg, ds, "--spurs", spur_run, "--out", tmp_path / "ev", "--split", "all", "--device", "cpu")
    assert r.code == 0, r.err
    assert (tmp_path / "ev" / "results.md").is_file() and (tmp_path / "ev" / "biometry" / "agreement.csv").is_file()
