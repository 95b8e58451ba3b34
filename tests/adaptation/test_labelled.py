"""Fine-tuning on corrected scans: what the two trainings are asked to do (the trainings themselves are stubbed)."""

from __future__ import annotations

import pytest

from antseg.adaptation.config import AdaptConfig
from antseg.adaptation.labelled import fine_tune_on_labels


@pytest.fixture
def calls(monkeypatch, tmp_path):
    """Records the configs ``fine_tune_on_labels`` gives the segmentation and spur trainings."""
    import antseg.training as training
    import antseg.training.spurs as spurs
    from antseg.training.trainer import TrainResult

    seen: dict = {}

    def seg(data, run, cfg, log=print):
        seen["seg"] = cfg
        return TrainResult(run=run, best_epoch=1, best_score=0.5, epochs_done=1, seconds=1.0, stopped_by_budget=False)

    def spur(data, run, cfg, spur_cfg=None, log=print):
        seen["spur"], seen["refiner"] = cfg, spur_cfg
        return {"checkpoint": tmp_path / "spur.pt"}

    monkeypatch.setattr(training, "train_segmentation", seg)
    monkeypatch.setattr(spurs, "train_spurs", spur)
    return seen


def test_spur_model_is_fine_tuned_at_the_fine_tuning_rate(asoct_phantom, tmp_path, calls):
    cfg = AdaptConfig(lr=3e-4, seed=5)
    rec = fine_tune_on_labels("default", "default", asoct_phantom, tmp_path / "w", cfg, 60.0, log=lambda s: None)
    assert rec["spurs"] == str(tmp_path / "spur.pt") and rec["scans"] == 12
    # Both stages at the adaptation's rate, not training's 2e-3: one scan would otherwise teach where its spurs lie.
    assert calls["spur"].lr == 3e-4 and calls["refiner"].refine_lr == 3e-4
    assert calls["spur"].init == "default" and calls["spur"].seed == 5
    assert calls["seg"].init == "default"
    assert not calls["refiner"].freeze_stage1  # both stages learn (measured: freezing stage 1 did worse here)


def test_without_spur_points_only_the_segmentation_is_fine_tuned(asoct_phantom, tmp_path, calls):
    import shutil

    from antseg.data.canonical import load_dataset

    shutil.copytree(asoct_phantom, tmp_path / "copy")
    ds = load_dataset(tmp_path / "copy")
    for c in ds.cases:
        c.landmarks = {n: None for n in c.landmarks}
    ds.save()
    rec = fine_tune_on_labels("default", "default", ds.root, tmp_path / "w", AdaptConfig(), 60.0, log=lambda s: None)
    assert rec["spurs"] is None and "spur" not in calls
    assert calls["seg"].time_budget_s == pytest.approx(60.0)  # the whole budget: no spur model to share it with


@pytest.fixture
def doubts(monkeypatch):
    """Stubs the pipeline's count: the model before gets ``before``, the fine-tuned one ``after``."""
    import antseg.adaptation.labelled as labelled
    from antseg.adaptation.spur_guard import SpurDoubts

    seen: dict = {"before": SpurDoubts(8, 2, 0), "after": SpurDoubts(8, 2, 0), "scans": []}

    def count(seg, spur, scans, spacing, device="cpu"):
        seen["scans"].append([f.name for f in scans])
        return seen["before"] if spur == "default" else seen["after"]

    monkeypatch.setattr(labelled, "count_doubts", count)
    return seen


def _scans(tmp_path, names):
    for n in names:
        (tmp_path / n).write_bytes(b"")
    return [tmp_path / n for n in names]


@pytest.mark.parametrize(
    ("after", "kept"),
    [((8, 2, 0), True), ((8, 1, 0), True), ((8, 3, 0), False), ((8, 2, 1), False)],
    ids=["as sure", "surer", "more unsure", "one astray"],
)
def test_the_fine_tuned_spur_model_is_kept_only_when_as_consistent(asoct_phantom, tmp_path, calls, doubts, after,
                                                                   kept):  # fmt: skip
    from antseg.adaptation.spur_guard import SpurDoubts
    from antseg.data.canonical import load_dataset

    doubts["after"] = SpurDoubts(*after)
    corrected = [c.case_id for c in load_dataset(asoct_phantom).cases]
    scans = _scans(tmp_path, [f"{corrected[0]}.png", "new_1.png", "new_2.png"])
    notes: list[str] = []
    rec = fine_tune_on_labels("default", "default", asoct_phantom, tmp_path / "w", AdaptConfig(), 60.0,
                              log=notes.append, scans=scans)  # fmt: skip
    assert doubts["scans"] == [["new_1.png", "new_2.png"]] * 2  # a corrected scan does not judge its own model
    assert rec["spur_check"]["kept"] is kept and rec["spur_check"]["scans"] == 2
    assert rec["spur_check"]["before"] == {"spurs": 8, "unsure": 2, "astray": 0}
    assert (rec["spurs"] is not None) is kept
    assert any("is not kept" in n for n in notes) is not kept


def test_without_other_scans_the_spur_model_is_not_checked(asoct_phantom, tmp_path, calls, doubts):
    rec = fine_tune_on_labels("default", "default", asoct_phantom, tmp_path / "w", AdaptConfig(), 60.0,
                              log=lambda s: None, scans=[])  # fmt: skip
    assert rec["spurs"] is not None and "spur_check" not in rec and doubts["scans"] == []
