"""What a scan's file says about it: pixel spacing, eye, patient, study. One call per input: :func:`scan_metadata`.

For a DICOM it reads the header only (no pixels). Pixel spacing comes from Pixel Spacing, per frame from the
Pixel Measures functional group of an enhanced multi-frame object; the eye from Frame Laterality, Image
Laterality or Laterality. Patient and study identifiers are read only when asked (``identifiers=True``); the
patient is otherwise a pseudonym that groups a patient's scans. An image file (PNG, JPEG, ...) carries none of this.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

from antseg.io.dicom_read import frame_view, is_dicom, number_of_frames, read_header, split_frame

#: The text of a DICOM's missing spacing, shared by every caller that refuses or warns about it.
NO_SPACING = "no pixel spacing in the file (Pixel Spacing, Pixel Measures): give --spacing (mm per pixel)"


@dataclass(frozen=True)
class ScanMeta:
    """Metadata of one scan.

    Attributes:
        source: ``"dicom"`` or ``"file"`` (an image file: nothing below is known).
        spacing_mm: (x, y) mm per pixel (DICOM Pixel Spacing is (row, column), i.e. (y, x)), or None.
        spacing_from: the attribute it came from (``Pixel Spacing`` or ``Pixel Measures``), or ``""``.
        laterality: ``R``, ``L`` or ``""`` (both, unpaired or not recorded).
        frame: 1-based frame number in a multi-frame file, None for a single-frame one.
        frames: number of frames of the file.
        patient_key: groups scans by patient without naming them: ``pt-`` and 10 hex digits of a SHA-256 of
            the Patient ID (and its issuer), else ``st-`` and the same of the Study Instance UID, else the file's
            stem. A pseudonym, not an anonymisation: anyone with the ID can compute it.
        patient_id, patient_name, birth_date, study_uid, series_uid, sop_instance_uid: identifiers, filled only
            with ``identifiers=True`` (else ``""``).
        modality, sop_class: e.g. ``OPT`` and ``Ophthalmic Tomography Image Storage``.
        warnings: what a reader must know (a missing or invalid spacing), each naming the file.
    """

    source: str
    spacing_mm: tuple[float, float] | None = None
    spacing_from: str = ""
    laterality: str = ""
    frame: int | None = None
    frames: int = 1
    patient_key: str = ""
    patient_id: str = ""
    patient_name: str = ""
    birth_date: str = ""
    study_uid: str = ""
    series_uid: str = ""
    sop_instance_uid: str = ""
    modality: str = ""
    sop_class: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def patient(self) -> str:
        """The patient as reports show it: the Patient ID when identifiers were asked for, else the pseudonym."""
        return self.patient_id or self.patient_key


def scan_metadata(path: str | Path, identifiers: bool = False) -> ScanMeta:
    """Metadata of one scan: a DICOM file, a frame name (``scan#002.dcm``) or an image file.

    Args:
        identifiers: also fill patient ID, name, birth date and the study, series and instance UIDs.

    Raises:
        AntsegInputError: a DICOM that cannot be read (see :func:`antseg.io.dicom_read.read_header`).
    """
    file, index = split_frame(path)
    if not is_dicom(file):
        return ScanMeta(source="file")
    ds = read_header(file)
    view = frame_view(ds, index or 0)
    spacing, spacing_from, warnings = _spacing(view, _in_groups(ds, index or 0, "PixelMeasuresSequence"))
    warnings = tuple(f"{Path(path).name}: {w}" for w in warnings)
    ids = {}
    if identifiers:
        ids = {
            "patient_id": str(ds.get("PatientID") or ""),
            "patient_name": str(ds.get("PatientName") or ""),
            "birth_date": str(ds.get("PatientBirthDate") or ""),
            "study_uid": str(ds.get("StudyInstanceUID") or ""),
            "series_uid": str(ds.get("SeriesInstanceUID") or ""),
            "sop_instance_uid": str(ds.get("SOPInstanceUID") or ""),
        }
    sop = ds.get("SOPClassUID")
    return ScanMeta(
        source="dicom", spacing_mm=spacing, spacing_from=spacing_from, laterality=laterality(view),
        frame=None if index is None else index + 1, frames=number_of_frames(ds), patient_key=_patient_key(ds, file),
        modality=str(ds.get("Modality") or ""), sop_class=str(getattr(sop, "name", "") or sop or ""),
        warnings=warnings, **ids,
    )  # fmt: skip


def _in_groups(ds, index: int, name: str) -> bool:
    """Whether the shared or frame ``index``'s own functional groups hold the sequence ``name``."""
    shared, per = ds.get("SharedFunctionalGroupsSequence"), ds.get("PerFrameFunctionalGroupsSequence")
    items = ([shared[0]] if shared else []) + ([per[index]] if per and index < len(per) else [])
    return any(item.get(name) for item in items)


def _spacing(view, from_groups: bool) -> tuple[tuple[float, float] | None, str, list[str]]:
    value = view.get("PixelSpacing")
    if value is None:
        return None, "", [NO_SPACING]
    try:
        row, col = (float(v) for v in value)
    except (TypeError, ValueError):
        return None, "", [f"invalid Pixel Spacing {value!r}: give --spacing (mm per pixel)"]
    if not all(math.isfinite(v) and v > 0 for v in (row, col)):
        return None, "", [f"invalid Pixel Spacing {list(value)!r}: give --spacing (mm per pixel)"]
    return (col, row), "Pixel Measures" if from_groups else "Pixel Spacing", []


def laterality(view) -> str:
    """``R`` / ``L`` from Frame Laterality, Image Laterality or Laterality (in that order), else ``""``."""
    for key in ("FrameLaterality", "ImageLaterality", "Laterality"):
        value = str(view.get(key) or "").strip().upper()
        if value in ("R", "L"):
            return value
        if value:  # B (both) or U (unpaired): said, but not one eye
            return ""
    return ""


def _patient_key(ds, file: Path) -> str:
    pid = str(ds.get("PatientID") or "").strip()
    if pid:
        issuer = str(ds.get("IssuerOfPatientID") or "").strip()
        return "pt-" + hashlib.sha256(f"{issuer}|{pid}".encode()).hexdigest()[:10]
    study = str(ds.get("StudyInstanceUID") or "").strip()
    if study:
        return "st-" + hashlib.sha256(study.encode()).hexdigest()[:10]
    return file.stem


def resolve_spacing(
    meta: ScanMeta, given: tuple[float, float] | None, fallback: tuple[float, float] | None
) -> tuple[tuple[float, float] | None, list[str]]:
    """The spacing to measure a scan with, and what the reader must be told about it.

    ``given`` (``--spacing``) wins, then the file's own spacing, then ``fallback`` (the model's) for an image
    file only: a DICOM without spacing gets None (the caller refuses it), never another device's spacing.
    """
    notes = []
    if given is not None:
        if meta.spacing_mm is not None and not all(math.isclose(a, b, rel_tol=0.01) for a, b in
                                                   zip(given, meta.spacing_mm, strict=True)):  # fmt: skip
            notes.append(
                f"--spacing {given[0]:g} x {given[1]:g} mm/px overrides the file's {meta.spacing_from} "
                f"{meta.spacing_mm[0]:g} x {meta.spacing_mm[1]:g} mm/px"
            )
        elif meta.source == "dicom" and meta.spacing_mm is None:
            notes.append(f"no pixel spacing in the file: measured with --spacing {given[0]:g} x {given[1]:g} mm/px")
        return given, notes
    if meta.spacing_mm is not None:
        return meta.spacing_mm, notes
    return (None if meta.source == "dicom" else fallback), notes
