"""DICOM out: SEG and TID 1500 SR per scan, read back with highdicom (same masks, values, units, statuses and
references), checked with dciodvfy (dicom3tools) where it is installed, and the quality status rules."""

from __future__ import annotations

import math
import shutil
import subprocess
import sys

import numpy as np
import pytest
from tests.io.dicom_files import enhanced_radial, visante_like

from antseg.anatomy import MEASURES
from antseg.errors import AntsegInputError
from antseg.export.dicom_seg_sr import DicomScan, DicomWriter, measure_status, read_measurements
from antseg.io.dicom_read import expand_frames, read_header

hd = pytest.importorskip("highdicom")

WARN = ["left scleral spur found with low confidence (0.60)", "anatomy off-centre: the chamber's centre is 15% ..."]


def _scan(path, h, w, laterality="R"):
    masks = {n: np.zeros((h, w), np.uint8) for n in ("anterior_chamber", "lens", "nucleus", "left_iris")}
    masks["anterior_chamber"][5:15, 10:40] = 1
    masks["lens"][20:30, 15:35] = 1
    masks["nucleus"][22:28, 20:30] = 1  # inside the lens: segments may overlap
    values = {m: (0.125 * (i + 1) if i % 4 else math.nan) for i, m in enumerate(MEASURES)}
    reasons = {m: "left scleral spur not visible" for m, v in values.items() if math.isnan(v)}
    return DicomScan(path, masks, values, reasons, [WARN[0]], (0.016, 0.016), laterality)


def _dciodvfy_errors(path) -> list[str]:
    r = subprocess.run(["dciodvfy", str(path)], capture_output=True, text=True, timeout=60)
    return [ln for ln in (r.stdout + r.stderr).splitlines() if ln.startswith("Error")]


@pytest.mark.parametrize("kind", ["visante", "enhanced frame 2"])
def test_seg_and_sr_round_trip(tmp_path, kind):
    if kind == "visante":  # private SOP class, no Pixel Spacing
        source = visante_like(tmp_path / "od.dcm", np.zeros((40, 64), np.uint8))
        scan, frame = _scan(source, 40, 64), None
    else:
        source = enhanced_radial(tmp_path / "radial.dcm")
        scan, frame = _scan(expand_frames(source)[1], 128, 256, "L"), 2
    src = read_header(source)
    out = tmp_path / "out"
    out.mkdir()
    seg_path, sr_path = DicomWriter(out).write(scan)
    assert seg_path.name == f"{scan.path.stem}.seg.dcm" and sr_path.name == f"{scan.path.stem}.sr.dcm"

    seg = hd.seg.segread(seg_path)
    assert [s.SegmentLabel for s in seg.SegmentSequence] == list(scan.masks)
    types = [s.SegmentedPropertyTypeCodeSequence[0] for s in seg.SegmentSequence]
    assert [(t.CodingSchemeDesignator, t.CodeValue) for t in types] == [
        ("SCT", "31636006"), ("SCT", "78076003"), ("99ANTSEG", "nucleus"), ("SCT", "41296002")
    ]  # fmt: skip
    assert seg.PatientID == src.PatientID and seg.StudyInstanceUID == src.StudyInstanceUID
    ref = seg.PerFrameFunctionalGroupsSequence[0].DerivationImageSequence[0].SourceImageSequence[0]
    assert ref.ReferencedSOPInstanceUID == src.SOPInstanceUID and ref.ReferencedSOPClassUID == src.SOPClassUID
    assert ref.get("ReferencedFrameNumber") == frame
    pixels = seg.get_pixels_by_source_instance(
        source_sop_instance_uids=[src.SOPInstanceUID], segment_numbers=[1, 2, 3, 4], ignore_spatial_locations=True
    ) if frame is None else seg.get_pixels_by_source_frame(
        source_sop_instance_uid=src.SOPInstanceUID, source_frame_numbers=[frame], segment_numbers=[1, 2, 3, 4],
        ignore_spatial_locations=True, assert_missing_frames_are_empty=False,
    )  # fmt: skip
    assert np.array_equal(pixels[0], np.stack([m > 0 for m in scan.masks.values()], axis=-1))

    back = read_measurements(sr_path)
    assert list(back) == MEASURES
    for m, v in scan.values.items():
        got = back[m]
        assert got["frames"] == ([] if frame is None else [frame])
        if math.isnan(v):
            assert got == {**got, "value": None, "status": "not measured", "reasons": [scan.reasons[m]]}
            continue
        assert got["value"] == pytest.approx(v, abs=1e-12) and got["unit"] == ("mm2" if "_mm2" in m else "mm")
        status, why = measure_status(m, scan.values, scan.reasons, scan.warnings)
        assert (got["status"], got["reasons"]) == (status, why)
    assert back["aod500_mm_left"]["status"] == "check" and back["aod500_mm_right"]["status"] == "measured"
    sr = hd.sr.srread(sr_path)
    evidence = {i.ReferencedSOPInstanceUID for s in sr.CurrentRequestedProcedureEvidenceSequence
                for r in s.ReferencedSeriesSequence for i in r.ReferencedSOPSequence}  # fmt: skip
    assert evidence == {src.SOPInstanceUID, seg.SOPInstanceUID} and sr.PatientID == src.PatientID
    site = sr.content.get_image_measurement_groups()[0].finding_sites[0]
    assert site.laterality.value == ("24028007" if scan.laterality == "R" else "7771000")
    if shutil.which("dciodvfy"):
        assert _dciodvfy_errors(seg_path) == [] and _dciodvfy_errors(sr_path) == []


def test_measure_status_rules():
    values = {"acd_mm": 3.0, "acw_mm": 11.5, "aod500_mm_left": 0.3, "aod500_mm_right": 0.4, "iris_area_mm2_left": 1.5,
              "lv_mm": math.nan}  # fmt: skip
    reasons = {"lv_mm": "lens not found"}
    spur = ["left scleral spur was 0.42 mm off the angle wall: moved onto the wall, check it"]
    assert measure_status("lv_mm", values, reasons, spur) == ("not measured", ["lens not found"])
    assert measure_status("acd_mm", values, reasons, spur) == ("measured", [])  # the spur does not enter ACD
    assert measure_status("aod500_mm_left", values, reasons, spur) == ("check", spur)
    assert measure_status("aod500_mm_right", values, reasons, spur) == ("measured", [])
    assert measure_status("acw_mm", values, reasons, spur) == ("check", spur)  # spur to spur
    assert measure_status("iris_area_mm2_left", values, reasons, spur) == ("measured", [])
    scan_wide = ["image is mostly bright: it may not be an AS-OCT B-scan"]
    assert measure_status("acd_mm", values, reasons, scan_wide + spur) == ("check", scan_wide)


def test_without_highdicom_the_error_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "highdicom", None)
    with pytest.raises(AntsegInputError, match=r"pip install 'antseg\[dicom\]'"):
        DicomWriter(tmp_path)
