"""The segmentation trainer on a tiny phantom: the loss falls, the run folder, exact resume, no silent reuse."""

from __future__ import annotations

import csv

import pytest
import torch
from tests.conftest import TINY_SEG as TINY

from antseg.errors import AntsegInputError
from antseg.models import read_checkpoint
from antseg.training import TrainConfig, train_segmentation


def _rows(run):
    with open(run / "metrics.csv") as fh:
        return list(csv.DictReader(fh))


def test_training_lowers_the_loss_and_writes_the_run(tiny_run):
    rows = _rows(tiny_run)
    assert [int(r["epoch"]) for r in rows] == [1, 2, 3, 4]
    assert float(rows[-1]["train_loss"]) < float(rows[0]["train_loss"])
    for f in ("best.pt", "last.pt", "config.yaml", "metrics.csv", "curves.png"):
        assert (tiny_run / f).is_file(), f
    meta = read_checkpoint(tiny_run / "best.pt").meta
    assert meta.structures == ["anterior_chamber", "lens", "nucleus", "left_iris", "right_iris", "cornea"]
    assert meta.input_size == [64, 128] and meta.normalization == "image_zscore"
    assert meta.spacing_mm == [0.025, 0.025] and meta.in_channels == 1
    assert read_checkpoint(tiny_run / "best.pt").training is None
    assert read_checkpoint(tiny_run / "last.pt").training is not None


def test_resume_continues_exactly_where_it_stopped(split_phantom, tmp_path):
    full, part = tmp_path / "full", tmp_path / "part"
    train_segmentation(split_phantom, full, TrainConfig(epochs=3, **TINY), log=lambda s: None)
    train_segmentation(split_phantom, part, TrainConfig(epochs=3, time_budget_s=1e-6, **TINY), log=lambda s: None)
    assert [int(r["epoch"]) for r in _rows(part)] == [1]  # stopped by the budget after one epoch
    train_segmentation(split_phantom, part, TrainConfig(epochs=3, **TINY), resume=True, log=lambda s: None)
    a, b = _rows(full), _rows(part)
    assert [r["epoch"] for r in b] == ["1", "2", "3"]
    assert float(a[-1]["train_loss"]) == pytest.approx(float(b[-1]["train_loss"]), rel=1e-4)
    wa, wb = read_checkpoint(full / "last.pt").state_dict, read_checkpoint(part / "last.pt").state_dict
    for k in wa:
        assert torch.allclose(wa[k].float(), wb[k].float(), atol=1e-5), k


def test_existing_run_needs_resume(split_phantom, tiny_run):
    with pytest.raises(AntsegInputError, match="--resume"):
        train_segmentation(split_phantom, tiny_run, TrainConfig(epochs=1, **TINY), log=lambda s: None)


def test_an_epoch_that_would_end_past_the_budget_is_not_started(split_phantom, tmp_path, monkeypatch):
    """Each epoch takes 10 s on a fake clock and the budget is 25 s: two epochs (20 s), not a third ending at 30 s."""
    import types

    import antseg.training.trainer as trainer_module

    clock = {"t": 0.0}
    monkeypatch.setattr(trainer_module, "time", types.SimpleNamespace(perf_counter=lambda: clock["t"]))
    real_epoch = trainer_module.Trainer.train_epoch

    def slow_epoch(self, step_cb=None):
        clock["t"] += 10.0
        return real_epoch(self, step_cb)

    monkeypatch.setattr(trainer_module.Trainer, "train_epoch", slow_epoch)
    res = train_segmentation(split_phantom, tmp_path / "r", TrainConfig(epochs=10, time_budget_s=25, **TINY),
                             log=lambda s: None)  # fmt: skip
    assert res.epochs_done == 2 and res.stopped_by_budget and clock["t"] <= 25


def test_the_budget_counts_validation_time(split_phantom, tmp_path, monkeypatch):
    """Training takes 6 s and validation 6 s an epoch on a fake clock, budget 25 s: two epochs end at 24 s; a third
    would end at 36 s (judged by training time alone it would have started at 24 s)."""
    import types

    import antseg.training.trainer as trainer_module

    clock = {"t": 0.0}
    monkeypatch.setattr(trainer_module, "time", types.SimpleNamespace(perf_counter=lambda: clock["t"]))
    real_epoch, real_validate = trainer_module.Trainer.train_epoch, trainer_module.Trainer.validate

    def slow_epoch(self, step_cb=None):
        clock["t"] += 6.0
        return real_epoch(self, step_cb)

    def slow_validate(self, loader):
        clock["t"] += 6.0
        return real_validate(self, loader)

    monkeypatch.setattr(trainer_module.Trainer, "train_epoch", slow_epoch)
    monkeypatch.setattr(trainer_module.Trainer, "validate", slow_validate)
    res = train_segmentation(split_phantom, tmp_path / "r", TrainConfig(epochs=10, time_budget_s=25, **TINY),
                             log=lambda s: None)  # fmt: skip
    assert res.epochs_done == 2 and res.stopped_by_budget and clock["t"] == 24.0
