"""``antseg train seg`` then ``antseg evaluate``: YAML config with flag overrides, unknown recipes."""

from __future__ import annotations

import yaml


def test_train_evaluate_cli_end_to_end(split_phantom, tmp_path, cli):
    cfg = tmp_path / "train.yaml"
    cfg.write_text(
        "model: unet-lite\nmodel_args: {channels: [8, 16], num_res_units: 0}\ninput_size: [64, 128]\nepochs: 1\n"
    )
    r = cli("train", "seg", split_phantom, "--out", tmp_path / "run", "--config", cfg, "--lr", "0.002")
    assert r.code == 0, r.err
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())
    assert saved["lr"] == 0.002 and saved["epochs"] == 1 and saved["model"] == "unet-lite"
    r = cli("evaluate", tmp_path / "run", split_phantom, "--out", tmp_path / "ev", "--split", "val")
    assert r.code == 0 and "Anterior Chamber" in r.out
    r = cli("train", "seg", split_phantom, "--out", tmp_path / "r2", "--recipe", "nope")
    assert r.code == 2 and "valid: asoct-transresunet" in r.err
