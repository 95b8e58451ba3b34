"""``antseg report``: per-scan analysis, per-eye summaries, the HTML page (rendered in headless Chromium)."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from antseg.data.canonical import load_dataset
from antseg.io.tables import read_csv
from antseg.report.analyse import ScanResult, patient_and_eye, quality_warnings
from antseg.report.eyes import is_narrow, summarise_eyes
from antseg.report.ranges import base_measure, flag


def _scan(name, patient, eye, **values):
    return ScanResult(Path(name), patient, eye, values, {}, {}, [], np.zeros((0, 0, 3), np.uint8))


def test_ranges_and_narrow_flags_exact():
    assert base_measure("aod500_mm_left") == ("aod500_mm", "left") and base_measure("acd_mm") == ("acd_mm", "")
    assert flag("acd_mm", 2.0) == "low" and flag("acd_mm", 3.0) == "" and flag("lv_mm", 0.9) == "high"
    assert flag("unknown_measure", 1e9) == ""
    assert is_narrow({"aod500_mm_left": 0.10}, "left", _th()) is True
    assert is_narrow({"aod500_mm_left": 0.30, "tisa500_mm2_left": 0.04}, "left", _th()) is True
    assert is_narrow({"aod500_mm_left": 0.30, "tisa500_mm2_left": 0.10}, "left", _th()) is False
    assert is_narrow({}, "right", _th()) is None


def _th():
    from antseg.biometry.dataset import AngleThresholds

    return AngleThresholds(0.15, 0.05)


def test_eye_summary_groups_by_patient_and_eye():
    scans = [
        _scan("a.png", "7", "R", acd_mm=2.0, aod500_mm_left=0.1),
        _scan("b.png", "7", "R", acd_mm=3.0, aod500_mm_left=0.3),
        _scan("c.png", "7", "L", acd_mm=math.nan),
    ]
    eyes = summarise_eyes(scans)
    assert [e.key for e in eyes] == ["7 R", "7 L"]
    st = eyes[0].stats["acd_mm"]
    assert st["mean"] == 2.5 and st["sd"] == pytest.approx(math.sqrt(0.5)) and st["n"] == 2 and st["flag"] == ""
    assert eyes[0].narrow["left"] == (1, 2) and eyes[0].narrow["right"] == (0, 0)
    assert eyes[1].stats["acd_mm"]["n"] == 0 and math.isnan(eyes[1].stats["acd_mm"]["mean"])


def test_patient_and_eye_from_names_and_meta():
    assert patient_and_eye(Path("722_20230329_123031_R_CASIA2_001_000.jpg")) == ("722", "R")
    assert patient_and_eye(Path("scan01.png")) == ("scan01", "")
    meta = {"scan01.png": {"patient_id": "P9", "eye": "l"}}
    assert patient_and_eye(Path("scan01.png"), meta) == ("P9", "L")


def test_quality_warnings():
    h, w = 100, 200
    grey = np.full((h, w), 20, np.uint8)
    ac = np.zeros((h, w), np.uint8)
    ac[30:60, 80:120] = 1
    spurs = {"left_scleral_spur": {"visible": True, "confidence": 0.6}, "right_scleral_spur": {"visible": False,
             "confidence": 0.2}}  # fmt: skip
    warn = quality_warnings(grey, {"anterior_chamber": ac}, spurs)
    assert warn == ["left scleral spur found with low confidence (0.60)",
                    "right scleral spur not found (presence 0.20): its angle is not measured"]  # fmt: skip
    off = np.zeros_like(ac)
    off[30:60, 0:40] = 1
    assert any("off-centre" in m for m in quality_warnings(grey, {"anterior_chamber": off}, {}))
    # A spur off the chamber: 0.6 mm from it warns, 0.4 mm does not; no spacing, no check.
    sp = (0.01, 0.01)
    far = {"left_scleral_spur": {"visible": True, "confidence": 0.9, "x": 20.0, "y": 45.0}}  # 60 px left of it
    assert quality_warnings(grey, {"anterior_chamber": ac}, far, sp) == [
        "left scleral spur lies 0.60 mm from the chamber, off the angle wall: check it"
    ]
    near = {"left_scleral_spur": {"visible": True, "confidence": 0.9, "x": 40.0, "y": 45.0}}  # 40 px left
    assert quality_warnings(grey, {"anterior_chamber": ac}, near, sp) == []
    assert quality_warnings(grey, {"anterior_chamber": ac}, far) == []
    below = {"left_scleral_spur": {"visible": True, "confidence": 0.9, "x": 80.0, "y": 99.0}}  # 40 rows under it
    assert "lies 0.40 mm" not in " ".join(quality_warnings(grey, {"anterior_chamber": ac}, below, sp))
    assert quality_warnings(grey, {"anterior_chamber": ac}, below, (0.02, 0.02))[0].startswith(
        "left scleral spur lies 0.80 mm"
    )  # the distance is in mm of each axis
    # A spur moved onto the angle wall says so (0.0: checked and not moved; NaN: not checked).
    moved = {"left_scleral_spur": {**near["left_scleral_spur"], "moved_mm": 0.42}}
    assert quality_warnings(grey, {"anterior_chamber": ac}, moved, sp) == [
        "left scleral spur was 0.42 mm off the angle wall: moved onto the wall, check it"
    ]
    for value in (0.0, float("nan")):
        kept = {"left_scleral_spur": {**near["left_scleral_spur"], "moved_mm": value}}
        assert quality_warnings(grey, {"anterior_chamber": ac}, kept, sp) == []
    colour = np.zeros((h, w, 3), np.uint8)
    colour[..., 0] = 200
    warn = quality_warnings(colour, {}, {})
    assert any("colour" in m for m in warn) and any("no anterior chamber" in m for m in warn)


@pytest.fixture(scope="module")
def report_run(tiny_run, tiny_spur_run, split_phantom, tmp_path_factory):
    """A report on 4 phantom scans: 3 of one eye (by meta CSV), 1 of another; reference values attached."""
    from antseg.report import make_report

    root = tmp_path_factory.mktemp("rep")
    ds = load_dataset(split_phantom)
    scans = root / "scans"
    scans.mkdir()
    names = []
    for c in ds.cases[:4]:
        shutil.copy(split_phantom / c.image, scans / Path(c.image).name)
        names.append(Path(c.image).name)
    (root / "meta.csv").write_text("image,patient_id,eye\n" + "".join(f"{n},P1,R\n" for n in names[:3]))
    ref = {r["case_id"]: r for r in read_csv(split_phantom / "biometry.csv")}
    (root / "ref.csv").write_text(
        "case_id,acd_mm,aod500_mm_left\n"
        + "".join(
            f"{Path(n).stem},{ref[Path(n).stem]['acd_mm']},{ref[Path(n).stem]['aod500_mm_left']}\n" for n in names
        )
    )
    _, spur_run = tiny_spur_run
    res = make_report([scans], root / "out", tiny_run, spur_run, meta=root / "meta.csv", reference=root / "ref.csv",
                      device="cpu")  # fmt: skip
    return root / "out", res, names


def test_report_files_tables_and_model_statement(report_run):
    out, res, names = report_run
    assert res["n_scans"] == 4 and res["n_eyes"] == 2 and res["seconds_per_scan"] > 0
    for f in ("report.html", "scans.csv", "eyes.csv", "report.json", "agreement.csv"):
        assert (out / f).is_file(), f
    assert sorted(p.name for p in (out / "overlays").iterdir()) == sorted(Path(n).stem + ".jpg" for n in names)
    rows = read_csv(out / "scans.csv")
    assert [r["image"] for r in rows] == sorted(names) and rows[0]["patient"] == "P1" and rows[0]["eye"] == "R"
    assert set(rows[0]) >= {"acd_mm", "aod500_mm_left", "left_scleral_spur_confidence", "narrow_angle_left"}
    eyes = read_csv(out / "eyes.csv")
    assert [(e["eye"], e["scans"]) for e in eyes] == [("P1 R", "3"), (eyes[1]["eye"], "1")]
    summary = json.loads((out / "report.json").read_text())
    assert summary["model"]["synthetic"] is True and summary["agreement"][0]["measure"] == "acd_mm"
    page = (out / "report.html").read_text()
    assert "Model trained on synthetic data only" in page and page.count('class="scan"') == 4
    assert "Measured zero-shot" not in page  # real-data figures belong to the shipped models only
    assert page.count("data:image/jpeg;base64,") == 4 and "Bland-Altman" in page and "typical adult range" in page


def test_report_cli_and_bad_input(report_run, tiny_run, tiny_spur_run, tmp_path, cli):
    _, spur_run = tiny_spur_run
    scans = report_run[0].parent / "scans"
    r = cli("report", scans, "--out", tmp_path / "r", "--weights", tiny_run, "--spurs", spur_run, "--device", "cpu")
    assert r.code == 0, r.err
    assert "report of 4 scans" in r.out and (tmp_path / "r" / "report.html").is_file()
    r = cli("report", tmp_path / "missing", "--out", tmp_path / "q", "--weights", tiny_run, "--spurs", spur_run)
    assert r.code == 2 and "missing" in r.err and not (tmp_path / "q").exists()


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_report_renders_in_headless_chromium(report_run, tmp_path):
    """The page renders: the DOM holds the eye table, the measure tables and the images, and the screenshot is
    a real page (not blank). CI installs Debian's chromium and sets ANTSEG_REQUIRE_CHROMIUM=1."""
    exe = _chromium()
    if exe is None:
        if os.environ.get("ANTSEG_REQUIRE_CHROMIUM"):
            pytest.fail("chromium is not installed (apt-get install chromium)")
        pytest.skip("chromium is not installed")
    page = (report_run[0] / "report.html").resolve()
    common = [exe, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run([*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    html = dom.stdout
    assert '<table class="eyes">' in html and html.count('<table class="measures">') == 2
    assert html.count("<img") >= 5 and "AS-OCT angle report" in html
    shot = tmp_path / "shot.png"
    r = subprocess.run([*common, f"--screenshot={shot}", "--window-size=1280,2000", page.as_uri()],
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0 and shot.is_file(), r.stderr[-2000:]
    import cv2

    img = cv2.imread(str(shot))
    assert img.shape[:2] == (2000, 1280)
    assert img.std() > 20  # text, tables and scans, not an empty page
    inked = (img.mean(axis=2) < 200).mean()
    assert 0.05 < inked < 0.95  # text, tables and scan overlays on a white page
