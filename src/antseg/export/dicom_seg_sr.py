"""DICOM out: per scan a Segmentation (one segment per structure) and a TID 1500 measurement report (every measure
with its UCUM unit and quality status), both referencing the source instance (and its frame), so a PACS shows
them beside the scan. Needs the ``dicom`` extra (highdicom), imported on first use.

The objects carry the source's patient and study attributes: a PACS files them by those. Structures and
measures without a standard code get codes of antseg's own coding scheme :data:`SCHEME` (``99`` marks a private
scheme, PS3.16 section 8).
"""

from __future__ import annotations

import copy
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import antseg
from antseg.anatomy import SIDES
from antseg.biometry.ranges import base_measure, label
from antseg.errors import AntsegInputError
from antseg.io.dicom_read import frame_view, number_of_frames, read_header, split_frame

#: antseg's private coding scheme designator (structures and measures without a standard code).
SCHEME = "99ANTSEG"
#: Secondary Capture: the SOP class highdicom is shown in place of the source's (see :func:`_source_for_seg`).
_SC = "1.2.840.10008.5.1.4.1.1.7"
#: Structure -> SNOMED CT (value, meaning) of its segmented property type; others get a :data:`SCHEME` code.
STRUCTURE_CODES = {
    "anterior_chamber": ("31636006", "Anterior chamber of eye"),
    "lens": ("78076003", "Lens"),
    "left_iris": ("41296002", "Iris"),
    "right_iris": ("41296002", "Iris"),
    "iris": ("41296002", "Iris"),
    "cornea": ("28726007", "Cornea"),
}
#: Patient and study attributes highdicom copies from the source (Type 2: present, may be empty).
TYPE_2_SOURCE = ("PatientID", "PatientName", "PatientBirthDate", "PatientSex", "StudyID", "StudyDate", "StudyTime",
                 "AccessionNumber", "ReferringPhysicianName")  # fmt: skip
#: Measures whose value depends on one side's scleral spur (ACW depends on both).
SPUR_MEASURES = ("aod", "tisa", "ara", "it750")
#: Quality status of a measure: its code value and meaning in :data:`SCHEME`.
STATUS = {
    "measured": "Measured, no quality warning",
    "check": "Measured with a quality warning: check it on the scan",
    "not measured": "Not measured",
}


def _hd():
    try:
        import highdicom
    except ImportError:
        raise AntsegInputError(
            None, "--dicom-out needs the dicom extra (highdicom): pip install 'antseg[dicom]'"
        ) from None
    return highdicom


def _code(value: str, meaning: str, scheme: str = SCHEME):
    from pydicom.sr.coding import Code

    return Code(value, scheme, meaning[:64])


def unit_code(column: str):
    """UCUM unit of a measure column: ``mm2`` for areas, ``mm`` for lengths."""
    return _code("mm2", "square millimeter", "UCUM") if "_mm2" in column else _code("mm", "millimeter", "UCUM")


def measure_code(column: str):
    return _code(column[:16], label(column))


def measure_status(column: str, values: dict, reasons: dict, warnings: list[str]) -> tuple[str, list[str]]:
    """(``measured`` / ``check`` / ``not measured``, the reasons) of one measure of a scan.

    Scan-wide warnings apply to every measure; a spur's warnings to the measures taken from that spur.
    """
    v = values.get(column, math.nan)
    if v is None or not math.isfinite(v):
        return "not measured", [reasons.get(column) or "not measured"]
    base, side = base_measure(column)
    uses = set(SIDES) if base == "acw_mm" else {side} if base.startswith(SPUR_MEASURES) else set()
    about = [w for w in warnings if any(w.startswith(f"{s} scleral spur") for s in SIDES)]
    mine = [w for w in warnings if w not in about or any(w.startswith(f"{s} scleral spur") for s in uses)]
    return ("check", mine) if mine else ("measured", [])


@dataclass
class DicomScan:
    """One analysed scan, as the writer needs it.

    Attributes:
        path: the scan (a DICOM file or a frame name ``scan#002.dcm``).
        masks: structure -> (H, W) binary mask.
        values, reasons: measure column -> value (NaN: not measured) and why not.
        warnings: the scan's quality warnings.
        spacing: (x, y) mm per pixel the measures were taken with.
        laterality: ``R`` / ``L`` / ``""``.
        statuses: measure column -> (``ok`` / ``check`` / ``not measured``, reasons), as the per-scan pipeline
            judged it; None: derived from ``reasons`` and ``warnings`` (:func:`measure_status`).
    """

    path: Path
    masks: dict[str, np.ndarray]
    values: dict[str, float]
    reasons: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    spacing: tuple[float, float] | None = None
    laterality: str = ""
    statuses: dict[str, tuple[str, list[str]]] | None = None


class DicomWriter:
    """Writes ``<stem>.seg.dcm`` and ``<stem>.sr.dcm`` per scan into ``folder`` (one SEG and one SR series per
    study)."""

    def __init__(self, folder: str | Path, model_name: str = "antseg") -> None:
        self.hd = _hd()
        self.folder = Path(folder)
        self.model_name = model_name[:64]
        self._series: dict[tuple[str, str], str] = {}
        self._numbers: dict[str, int] = {}

    scan = DicomScan  # ``writer.scan(...)``: a scan to write, for callers that import this module lazily

    def _series_uid(self, study: str, kind: str) -> str:
        return self._series.setdefault((study, kind), str(self.hd.UID()))

    def _instance_number(self, kind: str) -> int:
        self._numbers[kind] = self._numbers.get(kind, 0) + 1
        return self._numbers[kind]

    def write(self, scan: DicomScan) -> tuple[Path, Path]:
        """The SEG and the SR of one scan; AntsegInputError when its source is not a DICOM image."""
        file, index = split_frame(scan.path)
        ds = read_header(file)
        if "Rows" not in ds or "SOPInstanceUID" not in ds:
            raise AntsegInputError(scan.path, "--dicom-out needs a DICOM source image")
        frame = None if number_of_frames(ds) == 1 else (index or 0) + 1
        seg = self.segmentation(ds, frame, scan)
        sr = self.report(ds, frame, scan, seg)
        for obj in (seg, sr):
            obj.CodingSchemeIdentificationSequence = [_scheme()]
        stem = Path(scan.path).stem
        paths = (self.folder / f"{stem}.seg.dcm", self.folder / f"{stem}.sr.dcm")
        seg.save_as(paths[0])
        sr.save_as(paths[1])
        return paths

    def _common(self, ds, kind: str, number: int) -> dict:
        return {
            "series_instance_uid": self._series_uid(str(ds.StudyInstanceUID), kind),
            "series_number": number,
            "sop_instance_uid": str(self.hd.UID()),
            "instance_number": self._instance_number(kind),
            "manufacturer": "antseg",
        }

    def segmentation(self, ds, frame: int | None, scan: DicomScan):
        """A binary SEG of every structure, whose frame references the source instance (and ``frame``)."""
        hd = self.hd
        from pydicom.sr.codedict import codes

        names = list(scan.masks)
        if not names:
            raise AntsegInputError(scan.path, "--dicom-out: the model gave no structure to write")
        algorithm = hd.AlgorithmIdentificationSequence(
            name=self.model_name, version=antseg.__version__, family=codes.DCM.ArtificialIntelligence
        )
        descriptions = []
        for i, name in enumerate(names):
            value, meaning = STRUCTURE_CODES.get(name, (name[:16], name.replace("_", " ")))
            descriptions.append(
                hd.seg.SegmentDescription(
                    segment_number=i + 1, segment_label=name[:64],
                    segmented_property_category=codes.SCT.AnatomicalStructure,
                    segmented_property_type=_code(value, meaning, "SCT" if name in STRUCTURE_CODES else SCHEME),
                    algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC, algorithm_identification=algorithm,
                )
            )  # fmt: skip
        pixels = np.stack([np.asarray(scan.masks[n]) > 0 for n in names], axis=-1)[None]
        source = _source_for_seg(ds, frame)
        measures = None
        if "PixelSpacing" not in source and scan.spacing is not None:
            measures = hd.PixelMeasuresSequence(pixel_spacing=[scan.spacing[1], scan.spacing[0]], slice_thickness=1.0)
        seg = hd.seg.Segmentation(
            source_images=[source], pixel_array=pixels, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions, manufacturer_model_name=self.model_name,
            software_versions=antseg.__version__, device_serial_number="0", pixel_measures=measures,
            omit_empty_frames=False, content_label="ANTSEG", content_description="antseg segmentation",
            **self._common(ds, "seg", 900),
        )  # fmt: skip
        _fix_references(seg, ds, frame)
        if "PatientOrientation" not in seg:  # Type 2C without plane orientation: present, may be empty
            seg.PatientOrientation = ds.get("PatientOrientation") or ""
        return seg

    def report(self, ds, frame: int | None, scan: DicomScan, seg):
        """A TID 1500 measurement report: one measurement group per measure, with its quality status."""
        hd = self.hd
        from pydicom.sr.codedict import codes

        source = hd.sr.SourceImageForMeasurementGroup(
            referenced_sop_class_uid=str(ds.SOPClassUID), referenced_sop_instance_uid=str(ds.SOPInstanceUID),
            referenced_frame_numbers=None if frame is None else [frame],
        )  # fmt: skip
        side = {"R": codes.SCT.Right, "L": codes.SCT.Left}.get(scan.laterality)
        site = [hd.sr.FindingSite(anatomic_location=codes.SCT.AnteriorChamber, laterality=side)]
        algorithm = hd.sr.AlgorithmIdentification(name=self.model_name, version=antseg.__version__)
        groups = []
        for column in scan.values:
            if scan.statuses is not None and column in scan.statuses:
                status, why = scan.statuses[column]
                status = "measured" if status == "ok" else status
            else:
                status, why = measure_status(column, scan.values, scan.reasons, scan.warnings)
            evaluations = [hd.sr.QualitativeEvaluation(_code("quality", "Measurement quality status"),
                                                       _code(status.replace(" ", "-"), STATUS[status]))]  # fmt: skip
            evaluations += [hd.sr.QualitativeEvaluation(_code("reason", "Reason"), _reason_code(r)) for r in why]
            measurements = []
            if status != "not measured":
                measurements.append(
                    hd.sr.Measurement(
                        name=measure_code(column),
                        value=float(scan.values[column]),
                        unit=unit_code(column),
                        algorithm_id=algorithm,
                    )  # fmt: skip
                )
            groups.append(
                hd.sr.MeasurementsAndQualitativeEvaluations(
                    tracking_identifier=hd.sr.TrackingIdentifier(uid=hd.UID(), identifier=column),
                    finding_sites=site, algorithm_id=algorithm, measurements=measurements or None,
                    qualitative_evaluations=evaluations, source_images=[source],
                )
            )  # fmt: skip
        observer = hd.sr.ObserverContext(
            observer_type=codes.DCM.Device,
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=hd.UID(), name=self.model_name, manufacturer_name="antseg", model_name=antseg.__version__
            ),
        )
        content = hd.sr.MeasurementReport(
            observation_context=hd.sr.ObservationContext(observer_device_context=observer),
            procedure_reported=_code("OPT", "Ophthalmic Tomography", "DCM"), imaging_measurements=groups,
        )  # fmt: skip
        return hd.sr.EnhancedSR(
            evidence=[seg, _evidence(ds)], content=content[0], **self._common(ds, "sr", 901),
            is_complete=True, series_description="antseg measurements",
        )  # fmt: skip


def _scheme():
    from pydicom.dataset import Dataset

    item = Dataset()
    item.CodingSchemeDesignator, item.CodingSchemeName = SCHEME, "antseg structures, measures and quality"
    item.CodingSchemeResponsibleOrganization = "antseg"
    return item


def _reason_code(text: str):
    """A reason as a code of :data:`SCHEME`: a stable value from its text, the text (cut to 64) as meaning."""
    return _code("R" + hashlib.sha1(text.encode()).hexdigest()[:8], text)


def _header_copy(ds):
    from pydicom.dataset import Dataset

    out = Dataset()
    for elem in ds:
        if elem.keyword != "PixelData":
            out.add(elem)
    out.file_meta = ds.file_meta
    return out


def _evidence(ds):
    """The source as SR evidence: highdicom needs only its identifiers."""
    return _header_copy(ds)


def _source_for_seg(ds, frame: int | None):
    """The source as highdicom should see it: one frame, no frame of reference (B-scans have no plane positions
    for highdicom to use) and a SOP class it knows (secondary capture). :func:`_fix_references` then writes the
    source's own SOP class and frame number into the SEG's references."""
    view = copy.deepcopy(frame_view(ds, frame - 1) if frame else _header_copy(ds))  # its elements are ds's own
    for key in ("NumberOfFrames", "FrameOfReferenceUID", "ImagePositionPatient", "ImageOrientationPatient",
                "PositionReferenceIndicator", "SliceLocation", "FrameIncrementPointer"):  # fmt: skip
        if key in view:
            delattr(view, key)
    view.SOPClassUID = _SC
    for key in TYPE_2_SOURCE:  # highdicom reads them; an export may leave them out
        if key not in view:
            setattr(view, key, "")
    return view


def _fix_references(seg, ds, frame: int | None) -> None:
    """Every reference to the source in ``seg``: its real SOP class, and the frame for a multi-frame source."""
    uid, sop_class = str(ds.SOPInstanceUID), str(ds.SOPClassUID)

    def walk(dataset, derivation: bool) -> None:
        for elem in dataset:
            if elem.VR == "SQ":
                for item in elem.value:
                    if str(item.get("ReferencedSOPInstanceUID", "")) == uid:
                        item.ReferencedSOPClassUID = sop_class
                        if frame is not None and derivation and elem.keyword == "SourceImageSequence":
                            item.ReferencedFrameNumber = frame
                    walk(item, elem.keyword == "DerivationImageSequence")

    walk(seg, False)


def read_measurements(path: str | Path) -> dict[str, dict]:
    """A report written by :class:`DicomWriter`, read back with highdicom: measure column -> {"value" (None when
    not measured), "unit" (UCUM), "status", "reasons", "frames" (referenced source frames)}."""
    sr = _hd().sr.srread(path)
    out = {}
    for group in sr.content.get_image_measurement_groups():
        found = group.get_measurements()
        evaluations = group.get_qualitative_evaluations()
        status = [e.value.meaning for e in evaluations if e.name.value == "quality"]
        status_key = next((k for k, v in STATUS.items() if status and v == status[0]), "")
        sources = group.source_images
        out[group.tracking_identifier] = {
            "value": float(found[0].value) if found else None,
            "unit": found[0].unit.value if found else None,
            "status": status_key,
            "reasons": [e.value.meaning for e in evaluations if e.name.value == "reason"],
            "frames": [f for s in sources for f in (s.referenced_frame_numbers or [])],
        }
    return out
