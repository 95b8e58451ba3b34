"""The shipped default models: found by the word ``default``, loaded safely, small, marked synthetic; and
``load_initial_weights`` (fine-tuning from them or from any checkpoint)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from antseg.anatomy import SPURS
from antseg.data.phantom.asoct import PHANTOM_STRUCTURES, NoiseBank, generate_scan
from antseg.errors import AntsegInputError
from antseg.models import create_model, read_checkpoint, runs
from antseg.models.checkpoint import CheckpointMeta, save_checkpoint
from antseg.models.shipped import FILES, checkpoint, is_default, is_shipped
from antseg.pretrained.train import PretrainConfig
from antseg.training.init_weights import init_spec, load_initial_weights


def test_the_word_default_names_the_shipped_checkpoints(tmp_path, monkeypatch):
    assert is_default("default") and is_default("DEFAULT") and not is_default("runs/default") and not is_default(None)
    assert runs.segmentation_checkpoint("default") == checkpoint("segmentation")
    assert runs.spur_checkpoint("default") == checkpoint("landmarks")
    assert [t for t, _ in runs.checkpoints_in("default")] == ["segmentation", "landmarks"]
    monkeypatch.chdir(tmp_path)
    (tmp_path / "default").mkdir()  # a real folder of that name wins
    assert not is_default("default")
    with pytest.raises(AntsegInputError, match="no task"):
        checkpoint("no task")
    assert is_shipped(checkpoint("landmarks")) and not is_shipped(tmp_path / "spurs.pt") and not is_shipped(None)


def test_shipped_checkpoints_are_small_safe_and_synthetic():
    seg, spur = read_checkpoint(checkpoint("segmentation")), read_checkpoint(checkpoint("landmarks"))
    assert seg.meta.structures == list(PHANTOM_STRUCTURES) and seg.meta.task == "segmentation"
    assert seg.model["name"] == "ensemble" and seg.model["kwargs"]["members"] == PretrainConfig().seg_members
    assert spur.meta.landmarks == list(SPURS) and spur.refiner is not None
    for ck, name in ((seg, FILES["segmentation"]), (spur, FILES["landmarks"])):
        assert ck.meta.synthetic and "synthetic" in ck.meta.dataset and ck.meta.spacing_mm == [0.0075, 0.0075]
        nets = ck.model["kwargs"].get("members", 1) if ck.model["name"] == "ensemble" else 1
        assert ck.path.stat().st_size < 4_000_000 * nets, name  # a few MB a network: fp16 tensors
        assert {v.dtype for v in ck.state_dict.values() if v.is_floating_point()} == {torch.float16}
        assert ck.training is None  # no optimiser state shipped
    payload = torch.load(checkpoint("segmentation"), map_location="cpu", weights_only=True)
    assert payload["format"] == "antseg-checkpoint"


def test_the_model_card_describes_the_shipped_files():
    """The card's figures were measured on these very weights: rebuilding them without re-measuring fails here
    (``python benchmarks/bench_model_card.py`` writes the card)."""
    from antseg.io.digest import file_sha256
    from antseg.models.model_card import read_card

    card = read_card()
    for key, entry in card["models"].items():
        assert entry["file"] == FILES[key]
        assert entry["sha256"] == file_sha256(checkpoint(key)), f"model_card.json is stale for {FILES[key]}"


def test_default_model_segments_and_finds_spurs_on_a_phantom():
    from antseg.inference.predictor import Predictor
    from antseg.inference.spurs import SpurPredictor

    w, h, sp = 1065, 499, 0.015
    scan = generate_scan("normal", 3, 0, (w, h), (sp, sp), NoiseBank(h, w, 0), style="realistic")
    pred = Predictor("default", device="cpu")
    out = pred.predict(scan.image)
    assert out.masks.shape == (6, h, w) and pred.structures == list(PHANTOM_STRUCTURES)
    ac = out.masks[0].astype(bool) & scan.masks[0].astype(bool)
    assert 2 * ac.sum() / (out.masks[0].sum() + scan.masks[0].sum()) > 0.8  # the chamber is found
    spurs = SpurPredictor("default", device="cpu").predict(scan.image)
    assert set(spurs) == set(SPURS)


def _tiny(classes: int):
    return create_model("unet-lite", in_channels=1, classes=classes, channels=(4, 8), num_res_units=1)


def test_initial_weights_follow_channels_by_name(tmp_path):
    torch.manual_seed(0)
    src = _tiny(3)
    path = save_checkpoint(tmp_path / "src.pt", src, CheckpointMeta(structures=["a", "b", "c"]))
    torch.manual_seed(1)
    dst = _tiny(3)
    fresh = {k: v.clone() for k, v in dst.state_dict().items()}
    lines = []
    load_initial_weights(dst, path, ["c", "new", "a"], log=lines.append)
    s, d = src.state_dict(), dst.state_dict()
    assert torch.equal(d["net.model.0.conv.unit0.conv.weight"], s["net.model.0.conv.unit0.conv.weight"])
    out_bias = [k for k in d if d[k].shape == (3,) and k.endswith("bias") and k.startswith("net.model.2")]
    for k in out_bias:
        assert torch.equal(d[k][0], s[k][2]) and torch.equal(d[k][2], s[k][0])  # c and a, swapped
        assert torch.equal(d[k][1], fresh[k][1])  # the new structure keeps its initialisation
    assert "2 of 3 output channels" in lines[0] and "new: new" in lines[0]
    with pytest.raises(AntsegInputError, match="shares no output channel"):
        load_initial_weights(_tiny(1), path, ["zzz"])
    other = create_model("unet-lite", in_channels=1, classes=1)  # same name, other widths
    with pytest.raises(AntsegInputError, match="another architecture"):
        load_initial_weights(other, path, ["a"])


def test_initial_weights_from_default_for_a_five_structure_dataset():
    names = ["anterior_chamber", "lens", "nucleus", "left_iris", "right_iris"][::-1]
    seg_spec = init_spec("default", names)  # the architecture a fine-tuning builds: the shipped ensemble's
    assert seg_spec["name"] == "ensemble" and "classes" not in seg_spec["kwargs"]
    model = create_model(seg_spec["name"], **seg_spec["kwargs"], classes=5)
    load_initial_weights(model, "default", names)
    ref = read_checkpoint(checkpoint("segmentation"))
    for k in ("nets.0.net.model.2.0.conv.bias", "nets.1.net.model.2.0.conv.bias"):  # every member, by name
        expect = ref.state_dict[k].float()[[PHANTOM_STRUCTURES.index(n) for n in names]]
        np.testing.assert_allclose(model.state_dict()[k].numpy(), expect.numpy())
    with pytest.raises(AntsegInputError, match="holds a 'ensemble' model; the model to train is 'unet-lite'"):
        load_initial_weights(create_model("unet-lite", in_channels=1, classes=5), "default", names)
    spec = init_spec("default", list(SPURS))  # landmark names pick the spur model
    assert spec["name"] == "unet-lite" and "classes" not in spec["kwargs"]
    spur = create_model(spec["name"], **spec["kwargs"], classes=2)
    load_initial_weights(spur, "default", list(SPURS))


def test_rebuild_command_makes_packed_synthetic_checkpoints(tmp_path, monkeypatch):
    """The command that made the shipped files, on a tiny budget: phantom, then each model on its own."""
    from antseg.pretrained.train import PretrainConfig, main, train_default

    monkeypatch.setattr(torch, "set_num_threads", lambda n: None)  # main() pins 1 thread: not for the test process

    with pytest.raises(ValueError, match="unknown model.*valid: seg, spurs"):
        train_default(tmp_path / "x", PretrainConfig(), models=["yolo"])
    with pytest.raises(ValueError, match="seg_members must be at least 1"):
        train_default(tmp_path / "x", PretrainConfig(seg_members=0), models=["seg"])
    args = ["--out", str(tmp_path / "pre"), "--n", "4", "--seg-epochs", "1", "--spur-epochs", "1",
            "--refine-steps", "2", "--workers", "1"]  # fmt: skip
    main([*args, "--models", ""])
    assert (tmp_path / "pre" / "phantom" / "dataset.json").is_file() and not (tmp_path / "pre" / "seg").exists()
    assert not (tmp_path / "pre" / "phantom-1").exists()  # the second member's draw is made for the segmentation
    main([*args, "--models", "seg"])
    first, second = (tmp_path / "pre" / p / "images" for p in ("phantom", "phantom-1"))
    assert sorted(f.name for f in first.iterdir()) and [f.read_bytes() for f in sorted(first.iterdir())] != [
        f.read_bytes() for f in sorted(second.iterdir())
    ]  # another seed, another draw
    main([*args, "--models", "spurs"])
    seg, spur = (
        read_checkpoint(tmp_path / "pre" / FILES["segmentation"]),
        read_checkpoint(tmp_path / "pre" / FILES["landmarks"]),
    )
    assert seg.meta.synthetic and spur.meta.synthetic and seg.meta.structures == list(PHANTOM_STRUCTURES)
    assert {v.dtype for v in seg.state_dict.values() if v.is_floating_point()} == {torch.float16}
    assert seg.model["name"] == "ensemble" and seg.model["kwargs"]["members"] == 2
    members = [read_checkpoint(tmp_path / "pre" / f / runs.BEST) for f in ("seg", "seg-1")]
    k = "net.model.2.0.conv.bias"
    for i, m in enumerate(members):  # each member's weights, packed as fp16
        assert torch.equal(seg.state_dict[f"nets.{i}.{k}"], m.state_dict[k].half())
    assert (tmp_path / "pre" / "summary-seg.json").is_file() and (tmp_path / "pre" / "summary-spurs.json").is_file()
