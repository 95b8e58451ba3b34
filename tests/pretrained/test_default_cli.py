"""The shipped default models from the command line: no training needed, and fine-tuning starts from them."""

from __future__ import annotations

import shutil

import pytest

from antseg.data.canonical import load_dataset
from antseg.io.tables import read_csv
from antseg.models import read_checkpoint


def test_predict_biometry_and_report_use_the_default_models(split_phantom, tmp_path, cli, monkeypatch):
    ds = load_dataset(split_phantom)
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(split_phantom / ds.cases[0].image, scans / "scan.png")
    monkeypatch.chdir(tmp_path)
    r = cli("predict", "default", scans / "scan.png", "--spurs", "default", "--device", "cpu")
    assert r.code == 0, r.err
    assert (tmp_path / "predictions" / "scan" / "cornea.png").is_file()
    rows = read_csv(tmp_path / "predictions" / "spurs.csv")
    assert len(rows) == 2 and all(float(r["moved_mm"]) >= 0 for r in rows)  # checked against the angle wall
    r = cli("biometry", scans, "--device", "cpu", "--spacing", "0.025")
    assert r.code == 0, r.err
    row = read_csv(tmp_path / "biometry" / "biometry.csv")[0]
    assert "acd_mm" in row and float(row["left_scleral_spur_moved_mm"]) >= 0 and row["acd_mm_status"]
    r = cli("report", scans, "--device", "cpu", "--spacing", "0.025", "--spur-wall", "0")
    assert r.code == 0, r.err
    assert read_csv(tmp_path / "report" / "scans.csv")[0]["left_scleral_spur_moved_mm"] == ""  # 0: not checked
    page = (tmp_path / "report" / "report.html").read_text()
    assert "trained on synthetic data only" in page and "Measured zero-shot on 8 real" in page  # the real figures


def test_train_seg_init_default(split_phantom, tmp_path, cli):
    r = cli("train", "seg", split_phantom, "--out", tmp_path / "ft", "--init", "default", "--epochs", "1",
            "--input-size", "128x64", "--device", "cpu")  # fmt: skip
    assert r.code == 0, r.err
    ck = read_checkpoint(tmp_path / "ft" / "best.pt")
    assert ck.model["name"] == "ensemble" and ck.model["kwargs"]["members"] == 2  # the shipped architecture
    assert ck.model["kwargs"]["member"] == "unet-lite" and ck.model["kwargs"]["member_args"]["coord_channels"] is True
    r = cli(
        "train", "seg", split_phantom, "--out", tmp_path / "bad", "--init", tmp_path / "missing.pt", "--epochs", "1"
    )
    assert r.code == 2 and "missing.pt" in r.err


@pytest.mark.parametrize("command", ["predict", "biometry", "report"])
def test_a_negative_spur_wall_is_refused(command, tmp_path, cli):
    scan = tmp_path / "scan.png"
    scan.write_bytes(b"")  # never read: the option is checked first
    args = ["predict", "default", scan, "--spurs", "default"] if command == "predict" else [command, scan]
    r = cli(*args, "--spur-wall", "-1", "--out", tmp_path / "o", "--device", "cpu")
    assert r.code == 2 and "--spur-wall" in r.err and "Traceback" not in r.err
    assert not (tmp_path / "o").exists()
