"""The demo's training stages are bounded by their budgets, whatever their epochs and steps (``antseg demo``)."""

from __future__ import annotations

import pytest

from antseg.demo_pipeline import DemoConfig, run_demo
from antseg.io.tables import read_csv


@pytest.mark.slow  # about 50 s of CPU: three trainings, three evaluations, a video (the bound itself is
# tested fast in tests/training: test_trainer's budget test and test_spur_training's)
def test_tiny_budgets_bound_every_training_stage(tmp_path):
    """With budgets of a microsecond, each training stage stops after its first epoch (the spur refiner after its
    first step) although thousands were asked for, and the demo still ends with its evaluation tables."""
    cfg = DemoConfig(
        out=tmp_path / "demo", n_asoct=8, size=(426, 200), videos=2, frames_per_video=2, video_seconds=0.5,
        epochs=1000, train_budget_s=1e-6, spur_epochs=1000, spur_budget_s=1e-6, spur_refine_steps=10**6,
        cornea=True, cornea_budget_s=1e-6, cornea_video_seconds=0.2, cornea_onnx=False,
    )  # fmt: skip
    lines: list[str] = []
    res = run_demo(cfg, log=lines.append)
    runs = tmp_path / "demo" / "runs"
    for stage in ("seg", "spur/stage1", "cornea"):
        assert len(read_csv(runs / stage / "metrics.csv")) == 1, stage
    assert [r["step"] for r in read_csv(runs / "spur" / "refine_metrics.csv")] == ["1"]
    assert res.evaluation and res.spur_evaluation and res.biometry and res.cornea["epochs"] == 1
    assert {"train", "train spur model", "train cornea-lite"} <= set(res.timings)
