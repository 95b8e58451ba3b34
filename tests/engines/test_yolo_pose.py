"""YOLO11-pose engine: exact keypoint round trip, offline environment, missing extra and weights, tiny train +
predict on CPU with the network blocked."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from antseg.data import load_dataset
from antseg.engines import EngineConfig, MissingExtraError, get_engine
from antseg.engines.ultralytics_env import place_fonts, ultralytics_env
from antseg.engines.yolo_pose import landmarks_from_keypoints, weights_file
from antseg.errors import AntsegInputError

NAMES = ["left_scleral_spur", "right_scleral_spur"]


def test_keypoints_to_landmarks_top_detection_and_visibility():
    xy = np.array([[[1.5, 2.25], [3.0, 4.0]], [[10.125, 20.5], [30.0, 40.0]]])
    conf = np.array([[0.9, 0.9], [0.8, 0.3]])
    marks, c = landmarks_from_keypoints(NAMES, xy, conf, np.array([0.4, 0.7]), 0.5)
    assert marks == {"left_scleral_spur": (10.125, 20.5), "right_scleral_spur": None}  # second box is the best
    assert c == {"left_scleral_spur": 0.8, "right_scleral_spur": 0.3}
    marks, c = landmarks_from_keypoints(NAMES, np.zeros((0, 2, 2)), None, np.zeros(0), 0.5)
    assert marks == dict.fromkeys(NAMES) and c == dict.fromkeys(NAMES, 0.0)


def test_missing_weights_and_extra_are_one_line(monkeypatch, tmp_path):
    with pytest.raises(AntsegInputError) as err:
        weights_file(tmp_path / "yolo11n-pose.pt")
    assert "yolo11n-pose.pt" in str(err.value) and "\n" not in str(err.value)
    assert weights_file(None) is None
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "ultralytics" else real(n, *a))
    with pytest.raises(MissingExtraError, match=r"'ultralytics'.*pip install 'antseg\[yolo\]'"):
        get_engine("yolo11-pose")


def test_core_never_imports_ultralytics():
    import subprocess

    code = (
        "import antseg.engines, antseg.comparison, antseg.engines.yolo_pose, sys; print('ultralytics' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_only_the_yolo_modules_name_ultralytics():
    """AGPL isolation, read from the source: no other antseg module imports ultralytics, even lazily."""
    import ast

    import antseg

    root = Path(antseg.__file__).resolve().parent
    users = set()
    for f in root.rglob("*.py"):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names += [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            if any(n == "ultralytics" or n.startswith("ultralytics.") for n in names):
                users.add(str(f.relative_to(root)))
    assert users == {"engines/yolo_pose.py", "engines/ultralytics_env.py"}


def test_export_labels_round_trip_through_ultralytics_reader(small_scans, tmp_path):
    """antseg's export, read by Ultralytics' own label parser, gives back the canonical spurs (to 1e-3 px)."""
    pytest.importorskip("ultralytics")
    from antseg.engines.yolo_pose import write_data_yaml

    with ultralytics_env(tmp_path / "cfg"):
        from ultralytics.data.utils import verify_image_label

        data = write_data_yaml(small_scans, tmp_path)
        doc = __import__("yaml").safe_load(data.read_text())
        assert doc["kpt_shape"] == [2, 3] and doc["flip_idx"] == [1, 0] and doc["kpt_oks_sigmas"] == doc["kpt_sigmas"]
        assert not (tmp_path / "data" / "images" / "test").exists() and "test" not in doc
        ds = load_dataset(small_scans)
        checked = 0
        for c in [c for c in ds.cases if c.split in ("train", "val")]:
            img = next((tmp_path / "data" / "images" / c.split).glob(f"{c.case_id}.*"))
            lbl = tmp_path / "data" / "labels" / c.split / f"{c.case_id}.txt"
            out = verify_image_label((str(img), str(lbl), "", True, 1, 2, 3, False))
            kpts = out[4][0]  # (2, 3): normalised x, y, visibility
            for k, n in enumerate(NAMES):
                ref = c.landmarks.get(n)
                if ref is None:
                    assert kpts[k, 2] == 0
                else:
                    assert kpts[k, 2] > 0
                    np.testing.assert_allclose(kpts[k, :2] * (c.width, c.height), ref, atol=1e-3)
                checked += 1
        assert checked >= 8


def test_results_object_to_landmarks_exact():
    pytest.importorskip("ultralytics")
    from ultralytics.engine.results import Results

    from antseg.engines.yolo_pose import landmarks_from_result

    kp = torch.tensor([[[12.375, 40.5, 0.9], [150.25, 41.0, 0.2]]])
    boxes = torch.tensor([[5.0, 10.0, 155.0, 70.0, 0.8, 0.0]])
    res = Results(np.zeros((80, 160, 3), np.uint8), "x.png", {0: "anterior_segment"}, boxes=boxes, keypoints=kp)
    marks, conf = landmarks_from_result(res, NAMES, 0.5)
    assert marks == {"left_scleral_spur": (12.375, 40.5), "right_scleral_spur": None}
    assert conf["right_scleral_spur"] == pytest.approx(0.2)
    empty = Results(np.zeros((80, 160, 3), np.uint8), "x.png", {0: "a"}, boxes=torch.zeros((0, 6)))
    assert landmarks_from_result(empty, NAMES, 0.5)[0] == dict.fromkeys(NAMES)


def test_cli_option_values_are_typed(tmp_path):
    pytest.importorskip("ultralytics")
    from antseg.engines.yolo_pose import _options

    with ultralytics_env(tmp_path):
        opts, extra = _options(EngineConfig(options={"imgsz": 320, "lr0": "1e-3", "close_mosaic": "2"}))
        assert opts.imgsz == 320 and opts.batch == 16 and extra == {"lr0": 1e-3, "close_mosaic": 2}
        with pytest.raises(AntsegInputError, match="lr0"):
            _options(EngineConfig(options={"lr0": "fast"}))
        with pytest.raises(AntsegInputError, match="--option yolo11-pose.imgsz must be a whole number"):
            _options(EngineConfig(options={"imgsz": "big"}))


def test_env_is_offline_and_restored(monkeypatch, tmp_path):
    pytest.importorskip("ultralytics")
    monkeypatch.setenv("YOLO_CONFIG_DIR", "/users/own")
    monkeypatch.setenv("ULTRALYTICS_API_KEY", "secret")
    monkeypatch.delenv("YOLO_OFFLINE", raising=False)
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    with ultralytics_env(tmp_path / "cfg", threads=1) as cfg_dir:
        import ultralytics.utils as uu
        import ultralytics.utils.checks as uc

        assert os.environ["YOLO_OFFLINE"] == "1" and os.environ["YOLO_AUTOINSTALL"] == "false"
        assert "ULTRALYTICS_API_KEY" not in os.environ and torch.get_num_threads() == 1
        assert uu.ONLINE is False and uc.AUTOINSTALL is False and uc.USER_CONFIG_DIR == cfg_dir
        assert uu.SETTINGS["sync"] is False and uu.SETTINGS["mlflow"] is False
        assert uc.check_font("Arial.ttf") == cfg_dir / "Arial.ttf"  # found on disk, never downloaded
        torch.use_deterministic_algorithms(not deterministic, warn_only=True)  # as Ultralytics' training does
    assert os.environ["YOLO_CONFIG_DIR"] == "/users/own" and os.environ["ULTRALYTICS_API_KEY"] == "secret"
    assert "YOLO_OFFLINE" not in os.environ and torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == deterministic
    place_fonts(tmp_path / "f")
    assert (tmp_path / "f" / "Arial.Unicode.ttf").stat().st_size > 100_000


def test_train_and_predict_offline(small_scans, tmp_path, no_network):
    pytest.importorskip("ultralytics")
    eng = get_engine("yolo11-pose")
    run = tmp_path / "run"
    with pytest.raises(AntsegInputError, match="unknown yolo11-pose option"):
        eng.train(small_scans, run, EngineConfig(options={"imgsz_typo": 3}))
    with pytest.raises(AntsegInputError, match="yolo11n-pose.pt"):
        eng.train(small_scans, run, EngineConfig(device="cpu", options={"weights": "yolo11n-pose.pt"}))
    cfg = EngineConfig(epochs=1, device="cpu", options={"imgsz": 160, "batch": 4, "mosaic": 0.0})
    eng.train(small_scans, run, cfg, log=lambda s: None)
    assert eng.is_trained(run) and not no_network
    meta = json.loads((run / "yolo.json").read_text())
    assert meta["epochs_done"] == 1 and meta["landmarks"] == NAMES
    sigmas = __import__("yaml").safe_load((run / "data.yaml").read_text())["kpt_sigmas"]
    assert meta["oks_sigmas"] == pytest.approx(sigmas)  # the exported sigmas reached Ultralytics' validator
    assert (run / "ultralytics" / "Ultralytics" / "Arial.ttf").is_file()
    pred = eng.load(run, "cpu")
    ds = load_dataset(small_scans)
    case = next(c for c in ds.cases if c.split == "test")
    for img in (ds.load_image(case), ds.load_image(case, grayscale=True)):
        out = pred.predict(img)
        assert out.masks is None and set(out.landmarks) == set(NAMES) and set(out.confidence) == set(NAMES)
        for p in out.landmarks.values():
            assert p is None or (len(p) == 2 and all(isinstance(v, float) for v in p))
    assert pred.n_parameters > 1e6 and pred.in_channels == 3 and not no_network
    # weights from a trained run seed a new training (the user-supplied-weights path)
    eng.train(small_scans, tmp_path / "again", EngineConfig(epochs=1, device="cpu", options={
        "imgsz": 160, "batch": 4, "weights": str(run / meta["weights"])}), log=lambda s: None)  # fmt: skip
    assert json.loads((tmp_path / "again" / "yolo.json").read_text())["init_weights"].endswith("best.pt")
