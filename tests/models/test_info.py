"""``model_info`` and ``antseg info``: what a checkpoint is, in words, and for the shipped models their card."""

from __future__ import annotations

from antseg.models import CheckpointMeta, create_model, save_checkpoint
from antseg.models.info import architecture, model_info


def test_architecture_in_words():
    assert architecture({"name": "unet-lite", "kwargs": {}}) == "unet-lite"
    spec = {"name": "ensemble", "kwargs": {"member": "unet-lite", "members": 3}}
    assert architecture(spec) == "ensemble of 3 unet-lite"


def test_the_shipped_models_say_what_they_are_and_what_they_measured():
    res = model_info("default")
    arch = {ck["task"]: ck["architecture"] for ck in res["checkpoints"]}
    assert arch == {"segmentation": "ensemble of 2 unet-lite", "landmarks": "unet-lite"}
    assert all(ck["synthetic"] for ck in res["checkpoints"])
    assert res["card"] is not None and "Measured zero-shot" in res["summary"]


def test_a_checkpoint_of_ones_own_has_no_card(tmp_path):
    model = create_model("unet-lite", in_channels=1, classes=2, channels=(4, 8), num_res_units=1)
    path = save_checkpoint(tmp_path / "m.pt", model, CheckpointMeta(structures=["a", "b"]))
    res = model_info(path)
    assert [ck["architecture"] for ck in res["checkpoints"]] == ["unet-lite"]
    assert res["card"] is None and res["summary"] == ""


def test_info_cli_prints_the_architecture_and_the_card(cli):
    r = cli("info", "default")
    assert r.code == 0
    assert "ensemble of 2 unet-lite, input 512x256" in r.out and "Measured zero-shot" in r.out
