"""Scan metadata: spacing (x, y) from Pixel Spacing (row, column) or Pixel Measures, laterality, a pseudonymous
patient unless identifiers are asked for, and the spacing precedence of ``--spacing``, the file and the model."""

from __future__ import annotations

import numpy as np
from tests.io.dicom_files import PATIENT, casia_like, enhanced_radial, make_dicom, visante_like

from antseg.io.dicom_read import expand_frames
from antseg.io.images import write_png
from antseg.io.scan_meta import NO_SPACING, ScanMeta, resolve_spacing, scan_metadata

IMG = np.zeros((40, 64), np.uint8)


def test_visante_export_has_no_spacing_and_says_so(tmp_path):
    meta = scan_metadata(visante_like(tmp_path / "od.dcm", IMG))
    assert meta.source == "dicom" and meta.spacing_mm is None and meta.spacing_from == ""
    assert meta.warnings == (f"od.dcm: {NO_SPACING}",)
    assert meta.laterality == "R" and meta.modality == "OPT" and meta.frame is None and meta.frames == 1
    # no identifier unless asked: a pseudonym groups the patient's scans
    assert meta.patient_id == meta.patient_name == meta.birth_date == meta.study_uid == meta.sop_instance_uid == ""
    assert meta.patient.startswith("pt-") and len(meta.patient) == 13 and "0042" not in meta.patient
    other = scan_metadata(visante_like(tmp_path / "os.dcm", IMG, Laterality="L"))
    assert other.patient == meta.patient and other.laterality == "L"
    named = scan_metadata(tmp_path / "od.dcm", identifiers=True)
    assert (named.patient, named.patient_name, named.birth_date) == ("TEST-0042", "Test^Phantom", "19500101")
    assert named.sop_instance_uid and named.study_uid and named.series_uid


def test_spacing_is_x_then_y(tmp_path):
    meta = scan_metadata(casia_like(tmp_path / "c.dcm", IMG, spacing=(0.01, 0.02)))
    assert meta.spacing_mm == (0.01, 0.02) and meta.spacing_from == "Pixel Spacing" and meta.warnings == ()
    assert meta.laterality == "L"  # Image Laterality


def test_enhanced_frames_take_pixel_measures_and_frame_laterality(tmp_path):
    frames = expand_frames(enhanced_radial(tmp_path / "e.dcm", spacing=(0.015, 0.008), laterality="R"))
    metas = [scan_metadata(f) for f in frames]
    assert [m.frame for m in metas] == [1, 2, 3] and {m.frames for m in metas} == {3}
    assert {m.spacing_mm for m in metas} == {(0.015, 0.008)} and metas[0].spacing_from == "Pixel Measures"
    assert {m.laterality for m in metas} == {"R"} and len({m.patient for m in metas}) == 1
    bare = scan_metadata(expand_frames(enhanced_radial(tmp_path / "b.dcm", spacing=None))[1])
    assert bare.spacing_mm is None and bare.warnings == (f"b#002.dcm: {NO_SPACING}",)


def test_unusable_spacing_and_missing_patient(tmp_path):
    bad = make_dicom(tmp_path / "bad.dcm", IMG, PixelSpacing=[0, 0.01])
    assert scan_metadata(bad).spacing_mm is None and "invalid Pixel Spacing" in scan_metadata(bad).warnings[0]
    anon = make_dicom(tmp_path / "anon.dcm", IMG, PatientID="", ImageLaterality="B")
    meta = scan_metadata(anon)
    assert meta.patient.startswith("st-") and meta.laterality == ""  # the study groups it; B is no single eye
    assert PATIENT["PatientID"] not in repr(scan_metadata(anon))


def test_image_files_have_no_metadata(tmp_path):
    write_png(tmp_path / "a.png", IMG)
    assert scan_metadata(tmp_path / "a.png") == ScanMeta(source="file")


def test_spacing_precedence():
    dicom = ScanMeta(source="dicom", spacing_mm=(0.01, 0.02), spacing_from="Pixel Spacing")
    bare = ScanMeta(source="dicom")
    image = ScanMeta(source="file")
    model = (0.0075, 0.0075)
    assert resolve_spacing(dicom, None, model) == ((0.01, 0.02), [])
    assert resolve_spacing(bare, None, model) == (None, [])  # never another device's spacing for a DICOM
    assert resolve_spacing(image, None, model) == (model, [])
    assert resolve_spacing(image, (0.02, 0.02), model) == ((0.02, 0.02), [])
    assert resolve_spacing(dicom, (0.01, 0.02), model) == ((0.01, 0.02), [])
    sp, notes = resolve_spacing(dicom, (0.03, 0.03), model)
    assert sp == (0.03, 0.03)
    assert notes == ["--spacing 0.03 x 0.03 mm/px overrides the file's Pixel Spacing 0.01 x 0.02 mm/px"]
    sp, notes = resolve_spacing(bare, (0.016, 0.016), model)
    assert sp == (0.016, 0.016)
    assert notes == ["no pixel spacing in the file: measured with --spacing 0.016 x 0.016 mm/px"]
