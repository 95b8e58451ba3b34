"""The spur predictor refuses checkpoints it cannot use, with one clear line."""

from __future__ import annotations

from antseg.data.canonical import load_dataset


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
