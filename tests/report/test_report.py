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

from antseg.anatomy import MEASURES
from antseg.biometry.ranges import base_measure, flag
from antseg.data.canonical import load_dataset
from antseg.io.tables import read_csv
from antseg.models import read_checkpoint, runs
from antseg.report.eyes import ReportScan, is_narrow, summarise_eyes
from antseg.report.run import synthetic_statement
from antseg.scan.result import CHECK, NOT_MEASURED, OK, Measure, ScanResult


def _scan(name, patient, eye, statuses=None, **values):
    """A report scan whose measures are ``values`` (NaN: not measured), ``ok`` unless ``statuses`` says."""
    measures = {}
    for m in MEASURES:
        v = values.get(m, math.nan)
        meas = Measure(v)
        if math.isnan(v):
            meas.drop("not in this test")
        elif (statuses or {}).get(m) == CHECK:
            meas.doubt("doubted in this test")
        measures[m] = meas
    res = ScanResult(name, np.zeros((0, 0), np.uint8), [], np.zeros((0, 0, 0), np.uint8), {}, measures, [], [], True,
                     (0.01, 0.01))  # fmt: skip
    return ReportScan(Path(name), patient, eye, res)


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
    assert st["mean"] == 2.5 and st["median"] == 2.5 and st["sd"] == pytest.approx(math.sqrt(0.5)) and st["n"] == 2
    assert st["flag"] == "" and st["status"] == OK
    assert eyes[0].narrow["left"] == (1, 2) and eyes[0].narrow["right"] == (0, 0)
    assert eyes[1].stats["acd_mm"]["n"] == 0 and math.isnan(eyes[1].stats["acd_mm"]["mean"])
    assert eyes[1].stats["acd_mm"]["status"] == NOT_MEASURED


def test_a_scan_far_from_its_eye_is_left_out():
    """Radial scans of one eye share ACD: the one 0.8 mm off is flagged and not summarised."""
    values = [2.30, 2.32, 2.31, 2.33, 1.50]
    scans = [_scan(f"{i}.png", "9", "L", acd_mm=v, acw_mm=12.0) for i, v in enumerate(values)]
    eye = summarise_eyes(scans)[0]
    assert [s.path.name for s in eye.used] == ["0.png", "1.png", "2.png", "3.png"]
    assert scans[4].left_out.startswith("ACD 1.50 mm lies 0.81 mm from this eye's median 2.31 mm")
    assert scans[4].warnings[-1] == scans[4].left_out
    assert eye.stats["acd_mm"]["n"] == 4 and eye.stats["acd_mm"]["median"] == pytest.approx(2.315)
    assert eye.stats["acw_mm"]["n"] == 4  # the whole scan is left out, not only its ACD
    two = [_scan(f"{i}.png", "9", "L", acd_mm=v) for i, v in enumerate([2.3, 1.5])]
    assert all(not s.left_out for s in summarise_eyes(two)[0].scans)  # too few scans to judge


def test_eye_summary_prefers_values_without_doubt():
    ok = [_scan("a.png", "1", "R", acd_mm=2.4), _scan("b.png", "1", "R", acd_mm=2.5)]
    doubted = _scan("c.png", "1", "R", statuses={"acd_mm": CHECK}, acd_mm=3.9)
    st = summarise_eyes([*ok, doubted])[0].stats["acd_mm"]
    assert (st["n"], st["status"], st["mean"]) == (2, OK, pytest.approx(2.45))
    st = summarise_eyes([_scan("d.png", "2", "R", statuses={"acd_mm": CHECK}, acd_mm=3.9)])[0].stats["acd_mm"]
    assert (st["n"], st["status"], st["mean"]) == (1, CHECK, 3.9)


def test_narrow_angles_are_counted_from_values_without_doubt_first():
    """As the measure summaries: a narrow angle is called from AOD500/TISA500 without doubt; when a side has only
    doubted values (spurs the checks doubt) the count comes from them and the page says so."""
    from antseg.report.html import eye_section

    doubt = {"aod500_mm_left": CHECK, "tisa500_mm2_left": CHECK}
    open_ok = _scan("a.png", "1", "R", aod500_mm_left=0.30, tisa500_mm2_left=0.12)
    narrow_ok = _scan("b.png", "1", "R", aod500_mm_left=0.10, tisa500_mm2_left=0.12)
    narrow_doubted = _scan("c.png", "1", "R", statuses=doubt, aod500_mm_left=0.004, tisa500_mm2_left=0.0)
    eye = summarise_eyes([open_ok, narrow_ok, narrow_doubted])[0]
    assert eye.narrow["left"] == (1, 2) and eye.narrow_status["left"] == OK
    assert eye.narrow["right"] == (0, 0) and eye.narrow_status["right"] == NOT_MEASURED
    previews = {f"{n}.png": b"" for n in "abcde"}
    assert "left angle: narrow in 1 of 2 scans</li>" in eye_section(eye, previews)
    eye = summarise_eyes([_scan("d.png", "2", "L", statuses=doubt, aod500_mm_left=0.004, tisa500_mm2_left=0.0)])[0]
    assert eye.narrow["left"] == (1, 1) and eye.narrow_status["left"] == CHECK
    assert ("left angle: narrow in 1 of 1 scans (from doubted values only: check this angle on the images)"
            in eye_section(eye, previews))  # fmt: skip
    half = _scan("e.png", "3", "L", statuses={"tisa500_mm2_left": CHECK}, aod500_mm_left=0.3, tisa500_mm2_left=0.01)
    eye = summarise_eyes([half])[0]  # AOD500 without doubt decides; the doubted TISA500 is not used
    assert eye.narrow["left"] == (0, 1) and eye.narrow_status["left"] == OK


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
    res = make_report([scans], root / "out", "default", "default", meta=root / "meta.csv", reference=root / "ref.csv",
                      device="cpu", spacing=ds.manifest.spacing_mm)  # fmt: skip
    return root / "out", res, names


def test_synthetic_statement_names_the_synthetic_models():
    assert synthetic_statement(False, False) == ("", "")
    assert synthetic_statement(True, True) == (
        "Both models were trained on synthetic data only.",
        "They have not been trained on real scans: check every number against the images.",
    )
    assert synthetic_statement(True, False)[0] == "The segmentation model was trained on synthetic data only."
    head, note = synthetic_statement(False, True)
    assert head == "The spur model was trained on synthetic data only."
    assert note.startswith("It has not been trained on real scans: check every spur, and the angle measures")


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
    assert {"acd_mm_median", "acd_mm_status", "scans_used"} <= set(eyes[0])
    assert {"acd_mm_status", "reasons", "repairs", "in_domain", "used_in_eye_summary"} <= set(rows[0])
    assert all(r["acd_mm_status"] in ("ok", "check", "not measured") for r in rows)
    assert (out / "scan_config.yaml").is_file()
    summary = json.loads((out / "report.json").read_text())
    assert summary["model"]["synthetic"] is True and summary["agreement"][0]["measure"] == "acd_mm"
    page = (out / "report.html").read_text()
    assert "Both models were trained on synthetic data only." in page and page.count('class="scan"') == 4
    assert "Measured zero-shot" in page or "No measured figures" in page  # the shipped models' card
    assert page.count("data:image/jpeg;base64,") == 4 and "Bland-Altman" in page and "typical adult range" in page


def test_report_cli_and_bad_input(report_run, tiny_run, tiny_spur_run, tmp_path, cli):
    _, spur_run = tiny_spur_run
    scans = report_run[0].parent / "scans"
    r = cli("report", scans, "--out", tmp_path / "r", "--weights", tiny_run, "--spurs", spur_run, "--device", "cpu")
    assert r.code == 0, r.err
    assert "report of 4 scans" in r.out and (tmp_path / "r" / "report.html").is_file()
    # PNG scans carry no spacing: the model's is used, and the console, the table and the page say so
    sp = read_checkpoint(runs.segmentation_checkpoint(tiny_run)).meta.spacing_mm
    note = f"carry no pixel spacing: every length and area is measured with the segmentation model's {sp[0]:g} x"
    assert note in " ".join(r.out.split())
    assert {row["spacing_from"] for row in read_csv(tmp_path / "r" / "scans.csv")} == {"model"}
    page = (tmp_path / "r" / "report.html").read_text()
    assert "<b>Pixel spacing assumed.</b> The scans carry no pixel spacing" in page and "give --spacing" in page
    assert "Pixel spacing assumed" not in (report_run[0] / "report.html").read_text()  # spacing given
    assert {row["spacing_from"] for row in read_csv(report_run[0] / "scans.csv")} == {"--spacing"}
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


def test_a_spacing_from_the_config_is_given_not_assumed(report_run, tiny_run, tiny_spur_run, tmp_path):
    """A spacing set in the YAML config (``--config``) is the user's, like ``--spacing``: no "assumed" note."""
    from antseg.report import make_report
    from antseg.scan import ScanConfig

    scans = report_run[0].parent / "scans"
    cfg = ScanConfig(spacing=(0.02, 0.02))
    make_report([scans], tmp_path / "r", tiny_run, tiny_spur_run[1], device="cpu", config=cfg)
    rows = read_csv(tmp_path / "r" / "scans.csv")
    assert {(r["spacing_x_mm"], r["spacing_from"]) for r in rows} == {("0.02", "--spacing")}
    assert "Pixel spacing assumed" not in (tmp_path / "r" / "report.html").read_text()
