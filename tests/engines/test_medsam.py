"""MedSAM engine: preprocessing, boxes, exact mask round trip, box sources (model, oracle, shared training),
missing weights and extra, a tiny train + predict on CPU (reduced encoder), and the real ViT-B path (slow)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from antseg.data import load_dataset
from antseg.engines import EngineConfig, MissingExtraError, get_engine
from antseg.engines.medsam import MedsamOptions, resolve_box_source
from antseg.engines.medsam_model import mask_box, preprocess, read_state_dict, scale_boxes
from antseg.engines.medsam_train import jitter_boxes
from antseg.errors import AntsegInputError

TINY = {"arch": "tiny", "batch_size": 2, "lr": 1e-3}


def test_preprocess_is_medsam_style():
    img = np.zeros((60, 100), np.uint8)
    img[10:20, 30:50] = 200
    img[0, 0] = 50
    x = preprocess(img, 256)
    assert x.shape == (3, 256, 256) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0 and np.array_equal(x[0], x[2])  # min-max, grey repeated
    assert preprocess(np.full((8, 8), 7, np.uint8), 32).max() == 0.0  # constant image: no division by zero
    rgb = np.repeat(img[..., None], 3, axis=2)
    np.testing.assert_allclose(preprocess(rgb, 64), preprocess(img, 64), atol=1e-6)


def test_boxes_exact_and_scaled():
    m = np.zeros((40, 60), np.uint8)
    m[5:12, 20:31] = 1
    m[30:32, 2:4] = 1  # a stray blob
    assert mask_box(m) == (2, 5, 30, 31)
    assert mask_box(m, largest=True) == (20, 5, 30, 11)
    assert mask_box(np.zeros((4, 4), np.uint8)) is None
    np.testing.assert_allclose(scale_boxes(np.array([[20, 5, 30, 11]]), (40, 60), 120), [[40, 15, 60, 33]])
    rng = np.random.default_rng(0)
    b = jitter_boxes(np.array([[20.0, 5, 30, 11]]), (40, 60), 1024, 20.0, rng)
    base = scale_boxes(np.array([[20, 5, 30, 11]]), (40, 60), 1024)[0]
    assert (b[0, :2] <= base[:2]).all() and (b[0, 2:] >= base[2:]).all()  # only ever looser
    assert (np.abs(b[0] - base) <= 20 + 1e-4).all()


def test_box_sources(tmp_path):
    runs = {"medsam": str(tmp_path / "m"), "unet-lite": str(tmp_path / "u"), "transresunet": str(tmp_path / "t")}
    run = tmp_path / "run"
    src = resolve_box_source(MedsamOptions(boxes="model", box_model=None), runs, run)
    assert src == {"boxes": "model", "box_method": "unet-lite", "box_run": "../u"}
    src = resolve_box_source(MedsamOptions(boxes="model", box_model="transresunet"), runs, run)
    assert src["box_method"] == "transresunet"
    assert resolve_box_source(MedsamOptions(boxes="oracle", box_model=None), {}, run)["boxes"] == "oracle"
    with pytest.raises(AntsegInputError, match="medsam needs boxes at inference"):
        resolve_box_source(MedsamOptions(boxes="model", box_model=None), {"medsam": "x"}, run)
    with pytest.raises(AntsegInputError, match="nope"):
        resolve_box_source(MedsamOptions(boxes="model", box_model=str(tmp_path / "nope")), {}, run)
    (tmp_path / "own").mkdir()
    src = resolve_box_source(MedsamOptions(boxes="model", box_model=str(tmp_path / "own")), {}, run)
    assert src["box_method"] is None and src["box_run"] == str((tmp_path / "own").resolve())


def test_missing_weights_and_extra_are_one_line(monkeypatch, tmp_path):
    with pytest.raises(AntsegInputError) as err:
        read_state_dict(tmp_path / "medsam_vit_b.pth")
    assert "medsam_vit_b.pth" in str(err.value) and "\n" not in str(err.value)
    (tmp_path / "bad.pth").write_bytes(b"not a checkpoint")
    with pytest.raises(AntsegInputError, match="bad.pth: not a readable"):
        read_state_dict(tmp_path / "bad.pth")
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda n, *a: None if n == "segment_anything" else real(n, *a))
    with pytest.raises(MissingExtraError, match=r"'segment_anything'.*pip install 'antseg\[medsam\]'"):
        get_engine("medsam")


def test_weights_must_fit_the_architecture(tmp_path):
    pytest.importorskip("segment_anything")
    from antseg.engines.medsam_model import build_sam, load_weights

    torch.save(build_sam("tiny").state_dict(), tmp_path / "tiny.pth")
    sam = build_sam("tiny")
    load_weights(sam, tmp_path / "tiny.pth")  # a {"model": ...} training checkpoint works too
    torch.save({"model": sam.state_dict(), "epoch": 3}, tmp_path / "ck.pth")
    load_weights(build_sam("tiny"), tmp_path / "ck.pth")
    with pytest.raises(AntsegInputError, match="tiny.pth: does not fit"):
        load_weights(build_sam("small"), tmp_path / "tiny.pth")


@pytest.fixture(scope="module")
def medsam_runs(split_phantom, tiny_run, tmp_path_factory):
    """(dataset, medsam run, medsam-oracle run): a tiny-encoder MedSAM fine-tuned 2 epochs, boxes from
    ``tiny_run``; the oracle run reuses its training."""
    pytest.importorskip("segment_anything")
    root = tmp_path_factory.mktemp("medsam")
    cfg = EngineConfig(epochs=2, device="cpu", options=TINY, runs={"unet-lite": str(tiny_run)})
    get_engine("medsam").train(split_phantom, root / "m", cfg, log=lambda s: None)
    runs = {"unet-lite": str(tiny_run), "medsam": str(root / "m")}
    cfg = EngineConfig(epochs=2, device="cpu", options={"arch": "tiny"}, runs=runs)  # the same settings: shared
    get_engine("medsam-oracle").train(split_phantom, root / "o", cfg, lambda s: None)
    return split_phantom, root / "m", root / "o"


def test_train_and_predict_with_model_boxes(medsam_runs):
    ds_root, run, _ = medsam_runs
    meta = json.loads((run / "medsam.json").read_text())
    assert meta["boxes"] == "model" and meta["box_method"] == "unet-lite" and meta["epochs_done"] == 2
    pred = get_engine("medsam").load(run, "cpu")
    assert pred.label == "MedSAM tiny (unet-lite boxes, no pretrained weights)" and not pred.oracle
    ds = load_dataset(ds_root)
    case = next(c for c in ds.cases if c.split == "test")
    out = pred.predict(ds.load_image(case, grayscale=True))
    assert pred.structures == ds.structures
    assert out.masks.shape == (len(ds.structures), case.height, case.width)
    assert out.masks.dtype == np.uint8 and out.masks.max() <= 1
    assert pred.predict(ds.load_image(case)).masks.shape == out.masks.shape
    with pytest.raises(AntsegInputError, match="from a model"):
        pred.set_reference(ds.structures, ds.load_masks(case), {})


def test_oracle_reuses_training_and_round_trips_exactly(medsam_runs, monkeypatch):
    """Oracle boxes are the ground-truth boxes, in canonical order; a perfect decoder's logits give back exactly
    the reference masks (image at the decoder's output size, so the resize is the identity)."""
    import antseg.engines.medsam_model as mm

    ds_root, run, oracle = medsam_runs
    meta = json.loads((oracle / "medsam.json").read_text())
    assert meta["boxes"] == "oracle" and meta["shared_training"] == str(run.resolve())
    assert (oracle / "medsam.pt").stat().st_ino == (run / "medsam.pt").stat().st_ino  # hard link, not a copy
    pred = get_engine("medsam-oracle").load(oracle, "cpu")
    assert pred.oracle and pred.label == "MedSAM tiny (oracle boxes, no pretrained weights)"
    with pytest.raises(AntsegInputError, match="set_reference"):
        pred.predict(np.zeros((64, 64), np.uint8))
    names = pred.structures
    ref = np.zeros((len(names), 64, 64), np.uint8)  # 64 = 256 / 4: the tiny decoder's output size
    ref[names.index("anterior_chamber"), 5:30, 10:50] = 1
    ref[names.index("lens"), 20:40, 20:44] = 1
    ref[names.index("nucleus"), 25:35, 25:40] = 1  # inside the lens
    ref[names.index("right_iris"), 50:60, 40:63] = 1  # the left iris is absent: no box, stays empty
    have = [k for k in range(len(names)) if ref[k].any()]
    seen = {}

    def perfect(sam, embedding, boxes):
        seen["boxes"] = boxes.cpu().numpy()
        return torch.from_numpy(np.where(ref[have] > 0, 10.0, -10.0).astype(np.float32))[:, None]

    monkeypatch.setattr(mm, "decode", perfect)
    pred.set_reference(names, ref, {})
    out = pred.predict(np.full((64, 64), 9, np.uint8))
    np.testing.assert_array_equal(out.masks, ref)
    want = scale_boxes(np.array([mask_box(ref[k]) for k in have], np.float32), (64, 64), 256)
    np.testing.assert_allclose(seen["boxes"], want)
    pred.set_reference(names, None, {})  # a case without masks: no box, nothing predicted
    assert pred.predict(np.zeros((64, 64), np.uint8)).masks.sum() == 0


def test_cli_option_values_are_typed():
    from antseg.engines.medsam import _options

    opts = _options(EngineConfig(options={"lr": "1e-3", "batch_size": "2", "tune_encoder": "true"}), "model")
    assert opts.lr == 1e-3 and opts.batch_size == 2 and opts.tune_encoder is True and opts.boxes == "model"
    assert _options(EngineConfig(), "oracle").boxes == "oracle"  # the engine's default box source
    with pytest.raises(AntsegInputError, match="--option medsam.lr must be"):
        _options(EngineConfig(options={"lr": "fast"}), "model")
    with pytest.raises(AntsegInputError, match="unknown medsam option.*lr0.*valid: weights, arch"):
        _options(EngineConfig(options={"lr0": 1}), "model")


def test_oracle_trains_itself_when_settings_differ(medsam_runs):
    ds_root, run, _ = medsam_runs
    eng = get_engine("medsam-oracle")
    train_opts = json.loads((run / "medsam.json").read_text())["train_options"]
    assert train_opts["arch"] == "tiny" and train_opts["lr"] == 1e-3 and train_opts["epochs"] == 2
    same = EngineConfig(epochs=2, device="cpu", options={"lr": "1e-3"}, runs={"medsam": str(run)})
    assert eng._shared_run(same, train_opts) == run.resolve()
    for cfg in (EngineConfig(epochs=3, runs={"medsam": str(run)}), EngineConfig(epochs=2, options={"lr": 1e-2},
                runs={"medsam": str(run)}), EngineConfig(epochs=2)):  # fmt: skip
        assert eng._shared_run(cfg, train_opts | {"epochs": cfg.epochs, "lr": cfg.options.get("lr", 1e-3)}) is None


def test_options_are_checked(tmp_path, split_phantom):
    pytest.importorskip("segment_anything")
    eng = get_engine("medsam")
    with pytest.raises(AntsegInputError, match="unknown medsam option"):
        eng.train(split_phantom, tmp_path / "r", EngineConfig(options={"lr0": 1}))
    with pytest.raises(AntsegInputError, match="boxes must be"):
        eng.train(split_phantom, tmp_path / "r", EngineConfig(options={"boxes": "gt"}))
    with pytest.raises(AntsegInputError, match="medsam_vit_b.pth"):
        eng.train(split_phantom, tmp_path / "r", EngineConfig(options={"weights": "medsam_vit_b.pth"}))
    with pytest.raises(AntsegInputError, match="not a trained medsam run"):
        eng.load(tmp_path, "cpu")


@pytest.mark.slow
def test_real_vit_b_path(split_phantom, tmp_path):
    """SAM ViT-B at 1024 x 1024 (the MedSAM architecture) through the same code: 1 epoch on 2 images, oracle
    boxes (about 2 minutes on 2 CPU cores: three ViT-B encoder forwards at 1024 x 1024)."""
    pytest.importorskip("segment_anything")
    import shutil

    ds_root = tmp_path / "ds"
    shutil.copytree(split_phantom, ds_root)
    ds = load_dataset(ds_root)
    keep = [c for c in ds.cases if c.split == "train"][:2] + [c for c in ds.cases if c.split == "test"][:1]
    for c in ds.cases:
        c.split = "train" if c in keep[:2] else ("test" if c is keep[2] else "unused")
    ds.save()
    eng = get_engine("medsam")
    cfg = EngineConfig(epochs=1, device="cpu", options={"boxes": "oracle", "batch_size": 2})
    eng.train(ds_root, tmp_path / "run", cfg, log=lambda s: None)
    pred = eng.load(tmp_path / "run", "cpu")
    assert pred.size == 1024 and pred.n_parameters > 90e6 and pred.label.startswith("MedSAM (oracle boxes")
    pred.set_reference(ds.structures, ds.load_masks(keep[2]), {})
    shape = (len(ds.structures), keep[2].height, keep[2].width)
    assert pred.predict(ds.load_image(keep[2], grayscale=True)).masks.shape == shape
