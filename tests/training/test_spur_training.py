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
