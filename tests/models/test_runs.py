"""The run-folder resolver: which checkpoint a run folder (or a file) stands for, and what is missing."""

from __future__ import annotations

import shutil

import pytest
import torch

from antseg.errors import AntsegInputError
from antseg.models import CheckpointMeta, create_model, save_checkpoint
from antseg.models.runs import checkpoints_in, segmentation_checkpoint, spur_checkpoint


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """One segmentation and one spur (landmarks) checkpoint, to copy into run folders."""
    root = tmp_path_factory.mktemp("ck")
    torch.manual_seed(0)
    m = create_model("unet-lite", in_channels=1, classes=2, channels=(4, 8), num_res_units=0)
    seg = save_checkpoint(root / "seg.pt", m, CheckpointMeta(task="segmentation", structures=["a", "b"]))
    spur = save_checkpoint(root / "spur.pt", m, CheckpointMeta(task="landmarks", landmarks=["l", "r"]))
    return {"best.pt": seg, "last.pt": seg, "spur.pt": spur}


def _run(tmp_path, files, names):
    run = tmp_path / "run"
    run.mkdir()
    for n in names:
        shutil.copyfile(files[n], run / n)
    return run


class Missing(str):
    """An expected input error naming the run folder; the text is what it says is missing."""


# layout: (files in the folder, segmentation_checkpoint, spur_checkpoint, checkpoints_in)
CASES = {
    "best only": (["best.pt"], "best.pt", Missing("no spur.pt"), [("segmentation", "best.pt")]),
    "last only": (["last.pt"], "last.pt", Missing("no spur.pt"), [("segmentation", "last.pt")]),
    "best and last": (["best.pt", "last.pt"], "best.pt", Missing("no spur.pt"), [("segmentation", "best.pt")]),
    "spur only": (["spur.pt"], Missing("no best.pt or last.pt"), "spur.pt", [("landmarks", "spur.pt")]),
    "both": (
        ["best.pt", "last.pt", "spur.pt"],
        "best.pt",
        "spur.pt",
        [("segmentation", "best.pt"), ("landmarks", "spur.pt")],
    ),
    "none": ([], Missing("no best.pt or last.pt"), Missing("no spur.pt"), Missing("no best.pt, last.pt or spur.pt")),
}


def _check(fn, run, expected):
    if isinstance(expected, Missing):
        with pytest.raises(AntsegInputError) as e:
            fn(run)
        assert e.value.path == str(run) and e.value.problem == f"{expected} in this run folder"
    elif isinstance(expected, str):
        assert fn(run) == run / expected
    else:
        assert fn(run) == [(task, run / name) for task, name in expected]


@pytest.mark.parametrize("layout", sorted(CASES))
def test_run_folder(tmp_path, files, layout):
    names, seg, spur, found = CASES[layout]
    run = _run(tmp_path, files, names)
    _check(segmentation_checkpoint, run, seg)
    _check(spur_checkpoint, run, spur)
    _check(checkpoints_in, run, found)


def test_a_file_stands_for_itself(files, tmp_path):
    seg, spur = files["best.pt"], files["spur.pt"]
    assert segmentation_checkpoint(seg) == seg and spur_checkpoint(spur) == spur
    assert checkpoints_in(seg) == [("segmentation", seg)]
    assert checkpoints_in(spur) == [("landmarks", spur)]  # the task is read from the file
    missing = tmp_path / "gone.pt"
    assert segmentation_checkpoint(missing) == missing  # resolving does not read; loading reports it
    with pytest.raises(AntsegInputError, match="checkpoint not found"):
        checkpoints_in(missing)
