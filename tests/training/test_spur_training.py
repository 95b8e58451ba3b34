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
