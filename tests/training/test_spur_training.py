"""Two-stage scleral-spur training on a tiny phantom, then evaluation and prediction with the result."""

from __future__ import annotations

from antseg.data.canonical import load_dataset


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


def test_refiner_trains_with_very_few_steps(asoct_phantom):
    """OneCycleLR needs a warm-up phase; fewer than 10 steps use a constant rate instead of dividing by zero."""
    from antseg.data.canonical import load_dataset
    from antseg.training.spurs import SpurConfig, train_refiner

    ds = load_dataset(asoct_phantom)
    spur = SpurConfig(refine_steps=2, refine_batch=2, crop=32, refine_jitter=4)
    model, rows = train_refiner(ds, ds.cases[:2], ds.landmarks, spur, seed=0, device="cpu", log=lambda s: None)
    assert rows[-1]["step"] == 2 and not model.training


def test_time_budget_bounds_both_stages(split_phantom, tmp_path):
    """A tiny ``time_budget_s`` stops stage 1 after its first epoch and the refiner after its first step, however
    many epochs and steps were asked for (``antseg train spur --time-budget``, the demo's spur step)."""
    from tests.conftest import TINY_SEG

    from antseg.io.tables import read_csv
    from antseg.training import TrainConfig
    from antseg.training.spurs import SpurConfig, train_spurs

    cfg = TrainConfig(**{**TINY_SEG, "epochs": 1000, "time_budget_s": 1e-6})
    lines: list[str] = []
    res = train_spurs(
        split_phantom, tmp_path / "run", cfg, SpurConfig(refine_steps=10**6, refine_batch=2, crop=32),
        log=lines.append,
    )  # fmt: skip
    assert res["stage1"].epochs_done == 1 and res["stage1"].stopped_by_budget
    assert len(read_csv(tmp_path / "run" / "stage1" / "metrics.csv")) == 1
    assert "refiner: time budget spent after 1 of 1000000 steps" in lines
    assert [r["step"] for r in read_csv(tmp_path / "run" / "refine_metrics.csv")] == ["1"]  # where it stopped
    assert (tmp_path / "run" / "spur.pt").is_file()


def test_a_frozen_stage1_is_the_init_models_and_the_refiner_alone_learns(tiny_spur_run, tmp_path):
    import pytest
    import torch

    from antseg.errors import AntsegInputError
    from antseg.models import read_checkpoint
    from antseg.training import TrainConfig
    from antseg.training.spurs import SpurConfig, train_spurs

    ds, run = tiny_spur_run
    cfg = TrainConfig(model="unet-lite", model_args={"channels": (8, 16, 32), "num_res_units": 1}, input_size=(64, 128),
                      epochs=2, lr=3e-3, threads=2, init=str(run / "spur.pt"))  # fmt: skip
    spur = SpurConfig(refine_steps=5, refine_batch=4, crop=48, refine_jitter=8, freeze_stage1=True)
    res = train_spurs(ds, tmp_path / "ft", cfg, spur, log=lambda s: None)
    assert res["stage1"] is None and not (tmp_path / "ft" / "stage1" / "metrics.csv").exists()
    before, after = read_checkpoint(run / "spur.pt"), read_checkpoint(res["checkpoint"])
    assert before.state_dict.keys() == after.state_dict.keys()
    assert all(torch.equal(before.state_dict[k], after.state_dict[k]) for k in before.state_dict)
    assert after.meta.landmarks == before.meta.landmarks and after.meta.crop == 48
    assert after.meta.dataset == load_dataset(ds).manifest.name  # what it was fine-tuned on, not the init's
    old, new = before.refiner["state_dict"], after.refiner["state_dict"]
    moved = [k for k in old if not torch.equal(old[k], new[k])]
    assert moved  # the refiner was fine-tuned
    with pytest.raises(AntsegInputError, match="freeze_stage1 keeps the stage 1"):
        train_spurs(ds, tmp_path / "none", TrainConfig(**{**cfg.__dict__, "init": None}), spur, log=lambda s: None)
