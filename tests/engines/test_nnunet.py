"""nnU-Net v2 engine: exact overlap encoding, raw export, missing extra, env vars, tiny train + predict."""

from __future__ import annotations

import json
import os
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from antseg.data import load_dataset
from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.data.split import SplitConfig, split_dataset
from antseg.engines import EngineConfig, MissingExtraError, get_engine
from antseg.engines.nnunet_raw import (
    LabelTable,
    build_table,
    decode_labels,
    encode_masks,
    export_raw,
    nnunet_env,
    nnunet_labels,
    read_raw,
)
from antseg.errors import AntsegInputError

NAMES = ["anterior_chamber", "lens", "nucleus", "left_iris", "right_iris"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> Path:
    """6 AS-OCT phantom scans of 128 x 64 px, split 3 train / 1 val / 2 test."""
    out = tmp_path_factory.mktemp("nn") / "asoct"
    generate_asoct_dataset(out, AsoctPhantomConfig(n=6, size=(128, 64), seed=0))
    split_dataset(out, SplitConfig(ratios=(0.5, 0.2, 0.3)))
    return out


def lens_with_nucleus() -> np.ndarray:
    m = np.zeros((5, 20, 30), np.uint8)
    m[0, 2:8, 2:12] = 1  # chamber
    m[1, 5:18, 10:28] = 1  # lens, overlapping the chamber at rows 5-7, cols 10-11
    m[2, 9:15, 15:22] = 1  # nucleus, inside the lens
    m[3, 17:19, 0:12] = 1  # left iris, touching the lens at (17, 10..11)
    return m  # right iris absent


def test_encode_decode_exact_with_nucleus_in_lens():
    masks = lens_with_nucleus()
    label_map, table = encode_masks(masks, structures=NAMES)
    assert label_map.dtype == np.uint8 and label_map.shape == (20, 30)
    np.testing.assert_array_equal(decode_labels(label_map, table), masks)
    assert table.codes[0] == 0 and table.has_overlaps
    lens_nucleus = table.codes.index(0b110)
    assert table.members(lens_nucleus) == ["lens", "nucleus"]
    assert lens_nucleus in table.region("lens") and table.region("nucleus") == [lens_nucleus]
    assert table.region("right_iris") == []
    labels, order = nnunet_labels(table)
    assert list(labels) == ["background", *NAMES[:4]]  # absent structures get no region
    assert labels["lens"] == table.region("lens") and len(order) == 4
    assert order[NAMES.index("nucleus")] == lens_nucleus
    assert LabelTable.from_json(json.loads(json.dumps(table.to_json()))) == table


@pytest.mark.parametrize("n", [5, 9])
def test_encode_decode_exact_random_combinations(n):
    rng = np.random.default_rng(n)
    masks = (rng.random((n, 40, 50)) < 0.4).astype(np.uint8)
    label_map, table = encode_masks(masks)
    assert label_map.dtype == (np.uint8 if len(table.codes) <= 256 else np.uint16)
    np.testing.assert_array_equal(decode_labels(label_map, table), masks)
    again, _ = encode_masks(masks, table)  # a given table encodes identically
    np.testing.assert_array_equal(again, label_map)


def test_encode_rejects_unknown_combination_and_labels_without_overlap():
    table = build_table(["a", "b"], {0, 1, 2})
    assert not table.has_overlaps
    assert nnunet_labels(table) == ({"background": 0, "a": 1, "b": 2}, None)
    both = np.ones((2, 3, 3), np.uint8)
    with pytest.raises(AntsegInputError, match="not in the label table"):
        encode_masks(both, table)
    with pytest.raises(AntsegInputError, match="not in the label table"):
        decode_labels(np.full((2, 2), 7, np.uint8), table)


def test_export_raw_and_read_back_exact(tiny, tmp_path):
    ds = load_dataset(tiny)
    exp = export_raw(tiny, tmp_path / "raw", dataset_id=7)
    assert exp.folder == tmp_path / "raw" / "Dataset007_antseg"
    table, masks = read_raw(exp.folder)
    trainval = [c for c in ds.cases if c.split in ("train", "val")]
    assert sorted(masks) == sorted(c.case_id for c in trainval)  # test cases never exported
    for c in trainval:
        np.testing.assert_array_equal(masks[c.case_id], ds.load_masks(c))
    doc = json.loads((exp.folder / "dataset.json").read_text())
    assert doc["file_ending"] == ".png" and doc["numTraining"] == len(trainval)
    assert doc["labels"]["nucleus"] == table.region("nucleus") and "regions_class_order" in doc
    images = sorted(p.name for p in (exp.folder / "imagesTr").iterdir())
    assert images == sorted(f"{c.case_id}_0000.png" for c in trainval)
    from antseg.io.images import read_mask_png

    img = read_mask_png(exp.folder / "imagesTr" / images[0])
    assert img.ndim == 2 and img.dtype == np.uint8  # one grey channel


def test_export_needs_split_cases(tiny, tmp_path):
    with pytest.raises(AntsegInputError, match="no cases in split"):
        export_raw(tiny, tmp_path / "raw", splits=("nope",))


def test_missing_extra_is_one_line_and_module_imports_without_it(monkeypatch):
    from antseg.engines.registry import ENGINES

    monkeypatch.setitem(sys.modules, "nnunetv2", None)  # find_spec -> None, any import fails
    for mod in [m for m in sys.modules if m.startswith("antseg.engines.nnunet")]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.delitem(ENGINES._items, "nnunet", raising=False)  # restored after the test
    with pytest.raises(MissingExtraError) as err:
        get_engine("nnunet")  # imports antseg.engines.nnunet afresh without nnunetv2
    msg = str(err.value)
    assert "\n" not in msg and "antseg[nnunet]" in msg and "nnunetv2" in msg


def test_missing_extra_via_find_spec(monkeypatch):
    import importlib.util

    import antseg.engines.nnunet  # noqa: F401  (importing never needs nnunetv2)

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "nnunetv2" else real(name, *a))
    with pytest.raises(MissingExtraError, match=r"pip install 'antseg\[nnunet\]'"):
        get_engine("nnunet")


def test_env_vars_set_for_the_block_and_restored(monkeypatch, tmp_path):
    monkeypatch.setenv("nnUNet_raw", "/users/own/raw")
    monkeypatch.delenv("nnUNet_results", raising=False)
    monkeypatch.setenv("nnUNet_n_proc_DA", "7")
    with pytest.raises(RuntimeError), nnunet_env(tmp_path / "w", nnUNet_n_proc_DA=None) as env:
        assert os.environ["nnUNet_raw"] == str((tmp_path / "w" / "raw").resolve()) == env["nnUNet_raw"]
        assert os.environ["nnUNet_results"] == str((tmp_path / "w" / "results").resolve())
        assert "nnUNet_n_proc_DA" not in os.environ
        raise RuntimeError("boom")
    assert os.environ["nnUNet_raw"] == "/users/own/raw"
    assert "nnUNet_results" not in os.environ
    assert os.environ["nnUNet_n_proc_DA"] == "7"


def test_env_patches_import_time_paths_of_old_nnunet(monkeypatch, tmp_path):
    old_paths = types.ModuleType("nnunetv2.paths")  # nnunetv2 < 2.8: folders read once, at import
    old_paths.nnUNet_raw, old_paths.nnUNet_results = "/old/raw", None
    user = types.ModuleType("nnunetv2.some_user")
    user.nnUNet_results = None
    monkeypatch.setitem(sys.modules, "nnunetv2.paths", old_paths)
    monkeypatch.setitem(sys.modules, "nnunetv2.some_user", user)
    with nnunet_env(tmp_path):
        assert old_paths.nnUNet_raw == str(tmp_path.resolve() / "raw")
        assert user.nnUNet_results == str(tmp_path.resolve() / "results")
    assert old_paths.nnUNet_raw == "/old/raw" and user.nnUNet_results is None


def test_options_are_checked(tmp_path):
    from antseg.engines.nnunet_raw import ENV_DIRS

    assert set(ENV_DIRS) == {"nnUNet_raw", "nnUNet_preprocessed", "nnUNet_results"}
    pytest.importorskip("nnunetv2")
    eng = get_engine("nnunet")
    with pytest.raises(AntsegInputError, match="unknown nnunet option"):
        eng.train(tmp_path, tmp_path / "run", EngineConfig(options={"epochz": 1}))
    with pytest.raises(AntsegInputError, match="fold must be"):
        eng.train(tmp_path, tmp_path / "run", EngineConfig(options={"fold": 3}))
    with pytest.raises(AntsegInputError, match="not a trained nnunet run"):
        eng.load(tmp_path, "cpu")


def test_trainer_schedule_fits_budget():
    pytest.importorskip("nnunetv2")
    import time

    from antseg.engines.nnunet_trainer import AntsegTrainer

    t = types.SimpleNamespace(num_iterations_per_epoch=250, num_val_iterations_per_epoch=50, num_epochs=1000)
    t.save_every, t.current_epoch, t.lr_scheduler = 50, 1, types.SimpleNamespace(max_steps=1000)
    AntsegTrainer.configure(t, None, 10, None, deadline=time.monotonic() + 100.0)
    assert (t.num_iterations_per_epoch, t.num_val_iterations_per_epoch, t.fit_epochs) == (10, 2, True)
    AntsegTrainer._fit_schedule(t, epoch_s=10.0)  # ~100 s left, 10 s per epoch: 9 or 10 more epochs
    assert t.num_epochs in (10, 11) and t.lr_scheduler.max_steps == t.num_epochs and not t.fit_epochs


def oracle_logits(pred, image: np.ndarray, label_map: np.ndarray):
    """Logits a perfect network would give, in nnU-Net's own output order (its LabelManager's regions)."""
    import torch

    data = image.astype(np.float32)[None, None]
    seg = label_map[None, None].astype(np.int16)
    props = {"spacing": [999.0, 1.0, 1.0]}
    _, seg, _ = pred.preprocessor.run_case_npy(data, seg, props, pred.plans, pred.config, pred.dataset_json)
    regions = pred.labels.foreground_regions
    logits = np.stack([np.where(np.isin(seg[0], r), 10.0, -10.0) for r in regions])
    return torch.from_numpy(logits.astype(np.float32))


def test_train_and_predict_end_to_end(tiny, tmp_path, monkeypatch):
    pytest.importorskip("nnunetv2")
    monkeypatch.setenv("nnUNet_raw", "/users/own/raw")
    monkeypatch.delenv("nnUNet_results", raising=False)
    ds = load_dataset(tiny)
    run = tmp_path / "run"
    eng = get_engine("nnunet")
    cfg = EngineConfig(epochs=1, device="cpu", options={"iterations": 3, "val_iterations": 1})
    eng.train(tiny, run, cfg, log=lambda s: None)
    assert eng.is_trained(run)
    assert os.environ["nnUNet_raw"] == "/users/own/raw" and "nnUNet_results" not in os.environ
    meta = json.loads((run / "nnunet.json").read_text())
    assert meta["epochs_done"] == 1 and meta["fold"] == "all" and meta["configuration"] == "2d"
    assert (run / meta["model"] / "fold_all" / "checkpoint_final.pth").is_file()  # inside the run
    exported = {p.name for p in (run / "nnunet" / "raw" / "Dataset501_antseg" / "imagesTr").iterdir()}
    assert not any(c.case_id in n for c in ds.cases if c.split == "test" for n in exported)

    pred = eng.load(run, "cpu")
    assert pred.structures == ds.structures and pred.in_channels == 1 and pred.use_mirroring
    case = next(c for c in ds.cases if c.split == "test")
    img = ds.load_image(case, grayscale=True)
    for mirroring in (True, False):
        pred.use_mirroring = mirroring
        out = pred.predict(img)
        assert out.masks.shape == (len(ds.structures), 64, 128) and out.masks.dtype == np.uint8 and out.masks.max() <= 1
    rgb = ds.load_image(case)
    assert pred.predict(rgb).masks.shape == (len(ds.structures), 64, 128)

    # A perfect network's logits must decode to exactly the reference masks, in canonical order.
    case = next(c for c in ds.cases if c.split == "train")
    img, truth = ds.load_image(case, grayscale=True), ds.load_masks(case)
    label_map, _ = encode_masks(truth, pred.table)
    perfect = oracle_logits(pred, img, label_map)
    monkeypatch.setattr(pred.predictor, "predict_sliding_window_return_logits", lambda x: perfect)
    np.testing.assert_array_equal(pred.predict(img).masks, truth)
