"""``antseg report`` on DICOM exports: spacing, eye and patient from the files, the refusal of a DICOM without
spacing (and the ``--spacing`` route), pseudonyms unless ``--show-identifiers``, and ``--dicom-out``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.io.dicom_files import casia_like, enhanced_radial, visante_like

from antseg.data.canonical import load_dataset
from antseg.errors import AntsegInputError
from antseg.io.scan_meta import NO_SPACING
from antseg.io.tables import read_csv


@pytest.fixture(scope="module")
def exports(split_phantom, tmp_path_factory):
    """Phantom scans as device exports: two Visante-like (no spacing, OD), a CASIA-like secondary capture (OS,
    with spacing) and a 2-frame enhanced radial series (OS, Pixel Measures)."""
    ds = load_dataset(split_phantom)
    sx, sy = ds.spacing(ds.cases[0])
    imgs = [ds.load_image(c, grayscale=True) for c in ds.cases[:4]]
    root = tmp_path_factory.mktemp("dicom")
    (root / "visante").mkdir()
    (root / "with_spacing").mkdir()
    visante_like(root / "visante" / "od1.dcm", imgs[0])
    visante_like(root / "visante" / "od2.dcm", imgs[1])
    casia_like(root / "with_spacing" / "casia.dcm", imgs[2], spacing=(sx, sy), PatientID="TEST-0007")
    enhanced_radial(root / "with_spacing" / "radial.dcm", np.stack([imgs[3], imgs[2]]).astype(np.uint16) * 16,
                    spacing=(sx, sy), laterality="L")  # fmt: skip
    return root, (sx, sy)


def test_dicom_without_spacing_is_refused_before_any_work(exports, tiny_run, tiny_spur_run, tmp_path):
    from antseg.report import make_report

    root, _ = exports
    with pytest.raises(AntsegInputError) as err:
        make_report([root / "visante"], tmp_path / "r", tiny_run, tiny_spur_run[1], device="cpu")
    assert str(err.value) == f"{root / 'visante' / 'od1.dcm'}: {NO_SPACING} (and 1 more scans)"
    assert not (tmp_path / "r").exists()


def test_report_takes_spacing_eye_and_patient_from_the_files(exports, tiny_run, tiny_spur_run, tmp_path):
    pytest.importorskip("highdicom")  # --dicom-out: the dicom extra
    from antseg.export.dicom_seg_sr import read_measurements
    from antseg.report import make_report

    root, (sx, sy) = exports
    res = make_report([root / "with_spacing"], tmp_path / "r", tiny_run, tiny_spur_run[1], device="cpu",
                      dicom_out=tmp_path / "pacs")  # fmt: skip
    assert res["n_scans"] == 3 and res["n_eyes"] == 2
    rows = read_csv(tmp_path / "r" / "scans.csv")
    assert [r["image"] for r in rows] == ["casia.dcm", "radial#001.dcm", "radial#002.dcm"]
    assert {(float(r["spacing_x_mm"]), float(r["spacing_y_mm"])) for r in rows} == {(sx, sy)}
    assert [r["spacing_from"] for r in rows] == ["Pixel Spacing", "Pixel Measures", "Pixel Measures"]
    assert [r["eye"] for r in rows] == ["L", "L", "L"] and rows[1]["patient"] == rows[2]["patient"]
    assert all(r["patient"].startswith("pt-") for r in rows) and rows[0]["patient"] != rows[1]["patient"]
    assert "patient_name" not in rows[0]
    text = "".join(p.read_text(errors="ignore") for p in (tmp_path / "r").glob("*.*") if p.suffix != ".html")
    assert "TEST-0042" not in text and "Phantom" not in text and "19500101" not in text
    eyes = read_csv(tmp_path / "r" / "eyes.csv")
    assert sorted(e["scans"] for e in eyes) == ["1", "2"]
    written = sorted(p.name for p in (tmp_path / "pacs").iterdir() if not p.name.startswith("."))
    assert written == sorted(f"{s}.{k}.dcm" for s in ("casia", "radial#001", "radial#002") for k in ("seg", "sr"))
    back = read_measurements(tmp_path / "pacs" / "radial#002.sr.dcm")
    for m, v in back.items():
        csv = rows[2][m]
        assert (v["value"] is None) == (csv == "") and (csv == "" or math.isclose(v["value"], float(csv), rel_tol=1e-9))
    assert {v["frames"][0] for v in back.values()} == {2}


def test_cli_spacing_route_and_identifiers(exports, tiny_run, tiny_spur_run, tmp_path, cli):
    root, _ = exports
    base = ["report", root / "visante", "--weights", tiny_run, "--spurs", tiny_spur_run[1], "--device", "cpu"]
    r = cli(*base, "--out", tmp_path / "r")
    assert r.code == 2 and "od1.dcm" in r.err and "--spacing" in r.err and not (tmp_path / "r").exists()
    r = cli(*base, "--out", tmp_path / "r", "--spacing", "0.016", "--show-identifiers")
    assert r.code == 0, r.err
    rows = read_csv(tmp_path / "r" / "scans.csv")
    assert {(r["patient"], r["eye"], r["patient_name"], r["birth_date"]) for r in rows} == {
        ("TEST-0042", "R", "Test^Phantom", "19500101")
    }
    assert all("no pixel spacing in the file: measured with --spacing 0.016 x 0.016 mm/px" in r["warnings"]
               for r in rows)  # fmt: skip
    assert {r["spacing_from"] for r in rows} == {"--spacing"}
