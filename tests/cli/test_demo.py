"""``antseg demo``: the quick demo runs every step of the pipeline (in CI); it never deletes a folder it did
not make."""

from __future__ import annotations

import re

import pytest
import yaml

from antseg.anatomy import MEASURES
from antseg.data.canonical import load_dataset
from antseg.io.tables import read_csv

#: The demo's steps, in order, as it logs them (name, then seconds).
STEPS = [
    "phantom as LabelMe (jpg + json)",
    "import labelme",
    "split 70/15/15 by patient",
    "validate",
    "phantom (frames, Supervisely, mp4)",
    "import supervisely --keep Cornea",
    "split 80/20 by video",
    "validate",
    "train",
    "evaluate on the test split",
    "train spur model",
    "evaluate spurs on the test split",
    "biometry of the test scans",
    "train cornea-lite",
    "phantom video (unseen eye)",
    "segment the video (PyTorch)",
]


def test_quick_demo_runs_every_step(tmp_path, cli):
    out = tmp_path / "demo"
    r = cli("demo", "--quick", "--out", out)
    assert r.code == 0, r.err
    assert re.findall(r"^  (\S.*?) +\d+\.\d s$", r.out, re.M) == STEPS
    flat = " ".join(r.out.split())  # rich wraps long lines at the terminal width
    assert "demo finished" in flat and flat.count("cases, valid (0 errors, 0 warnings)") == 2  # both datasets
    assert "| **Right Iris** |" in r.out  # the segmentation table
    assert "| Left |" in r.out and "| Right |" in r.out  # the spur table
    assert "| measure | from GT masks: MAE |" in r.out  # the biometry table
    saved = yaml.safe_load((out / "demo_config.yaml").read_text())
    assert saved["quick"] is True and saved["n_asoct"] == 12 and saved["size"] == [426, 200]
    assert saved["epochs"] == 2 and saved["spur_refine_steps"] == 20
    ds = load_dataset(out / "asoct")
    assert len(ds) == 12 and ds.manifest.reference_biometry == "biometry.csv"
    assert {(c.width, c.height) for c in ds} == {(426, 200)} and {c.split for c in ds} == {"train", "val", "test"}
    assert len(load_dataset(out / "surgical")) == 4
    assert (out / "runs" / "seg" / "best.pt").is_file() and (out / "runs" / "spur" / "spur.pt").is_file()
    assert (out / "runs" / "seg" / "eval-test" / "summary.csv").is_file()
    assert (out / "runs" / "spur" / "eval-test" / "landmarks_summary.csv").is_file()
    assert [row["measure"] for row in read_csv(out / "biometry-test" / "agreement.csv")] == MEASURES
    assert "| PyTorch | 25 |" in r.out  # the cornea video table: 1 s at 25 frames/s, every frame
    assert len(read_csv(out / "video" / "pytorch" / "frames.csv")) == 25
    assert (out / "runs" / "cornea" / "best.pt").is_file()


def test_demo_refuses_a_folder_it_did_not_make(tmp_path, cli):
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "precious.txt").write_text("x")
    r = cli("demo", "--quick", "--out", tmp_path / "other")
    assert r.code == 2 and "not made by antseg demo" in r.err and str(tmp_path / "other") in r.err
    assert sorted(p.name for p in (tmp_path / "other").iterdir()) == ["precious.txt"]


@pytest.mark.slow
def test_demo_runs(tmp_path, cli):
    r = cli("demo", "--out", tmp_path / "demo", "--n", "8", "--no-train")
    assert r.code == 0, r.err
    assert "demo finished" in r.out and (tmp_path / "demo" / "demo_config.yaml").is_file()
    r = cli("demo", "--out", tmp_path / "demo", "--n", "8", "--no-train")  # re-running replaces its own folder
    assert r.code == 0


def test_demo_help_says_what_it_does(cli):
    r = cli("demo", "--help")
    flat = " ".join(r.out.split())
    assert r.code == 0 and "validate them" not in flat
    for words in ("data, training, evaluation, biometry and a surgical video", "within its time budget"):
        assert words in flat
    assert "The whole pipeline on phantom data" in cli("--help").out  # the command list
