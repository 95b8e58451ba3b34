"""``antseg predict`` and ``antseg biometry`` on DICOM scans: a multi-frame file is one output per frame, areas in
mm2 use the file's spacing and stay empty without one (never another device's), biometry asks for --spacing."""

from __future__ import annotations

import numpy as np
from tests.io.dicom_files import casia_like, enhanced_radial, visante_like

from antseg.io.tables import read_csv


def test_predict_and_biometry_on_dicom(tiny_run, tiny_spur_run, tmp_path, cli):
    rng = np.random.default_rng(0)
    scans = tmp_path / "scans"
    scans.mkdir()
    casia_like(scans / "casia.dcm", rng.integers(0, 255, (60, 120), np.uint8), spacing=(0.02, 0.04))
    visante_like(scans / "visante.dcm", rng.integers(0, 255, (60, 120), np.uint8))
    enhanced_radial(scans / "radial.dcm", rng.integers(0, 4000, (2, 60, 120)).astype(np.uint16), spacing=(0.01, 0.01))
    r = cli("predict", tiny_run, scans, "--out", tmp_path / "pred", "--device", "cpu")
    assert r.code == 0, r.err
    assert "carry no pixel spacing" not in r.out  # DICOM files carry their own
    folders = sorted(p.name for p in (tmp_path / "pred").iterdir() if p.is_dir())
    assert folders == ["casia", "radial#001", "radial#002", "visante"]
    rows = read_csv(tmp_path / "pred" / "areas.csv")
    for row in rows:
        px = int(row["area_px"])
        expect = {"casia.dcm": f"{px * 0.02 * 0.04:.4f}", "visante.dcm": ""}.get(row["image"], f"{px * 1e-4:.4f}")
        assert row["area_mm2"] == expect, row
    spur_run = tiny_spur_run[1]
    base = ["biometry", scans, "--weights", tiny_run, "--spurs", spur_run, "--device", "cpu", "--out"]
    r = cli(*base, tmp_path / "bio")
    assert r.code == 2 and "visante.dcm: no pixel spacing in the file" in r.err and not (tmp_path / "bio").exists()
    r = cli(*base, tmp_path / "bio", "--spacing", "0.016")
    assert r.code == 0, r.err
    rows = read_csv(tmp_path / "bio" / "biometry.csv")
    assert [row["image"] for row in rows] == ["casia.dcm", "radial#001.dcm", "radial#002.dcm", "visante.dcm"]
    assert {(row["spacing_x_mm"], row["spacing_y_mm"], row["spacing_from"]) for row in rows} == {
        ("0.016", "0.016", "--spacing")
    }  # fmt: skip
    assert "carry no pixel spacing" not in r.out


def test_predict_on_images_says_the_spacing_is_the_models(tiny_run, tmp_path, cli):
    """PNG scans carry no spacing: their areas in mm2 use the model's, and the console says so (not with
    ``--spacing``)."""
    from antseg.io.images import write_png
    from antseg.models import read_checkpoint, runs

    scans = tmp_path / "scans"
    scans.mkdir()
    write_png(scans / "scan.png", np.random.default_rng(0).integers(0, 255, (60, 120), np.uint8))
    sp = read_checkpoint(runs.segmentation_checkpoint(tiny_run)).meta.spacing_mm
    r = cli("predict", tiny_run, scans, "--out", tmp_path / "p", "--device", "cpu")
    assert r.code == 0, r.err
    assert f"carry no pixel spacing: every length and area is measured with the segmentation model's {sp[0]:g}" in (
        " ".join(r.out.split())
    )
    r = cli("predict", tiny_run, scans, "--out", tmp_path / "q", "--device", "cpu", "--spacing", "0.02")
    assert r.code == 0, r.err
    assert "carry no pixel spacing" not in r.out
