"""DICOM test files, written with pydicom: no real patient data, every attribute made up here.

``make_dicom`` writes any pixel format (8/16-bit, signed or not, MONOCHROME1/2, RGB, palette, multi-frame) in any
transfer syntax pydicom (or OpenCV, for JPEG Baseline) can encode. Three exports shaped like the ones devices
write: :func:`visante_like` (modality OPT, a private SOP class, 1024 x 512, 16-bit signed MONOCHROME2, laterality
OD, no Pixel Spacing), :func:`casia_like` (a secondary capture with Pixel Spacing) and :func:`enhanced_radial`
(an enhanced multi-frame Ophthalmic Tomography series with Pixel Measures and Frame Laterality).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    SecondaryCaptureImageStorage,
    generate_uid,
)

#: Ophthalmic Tomography Image Storage.
OPT_STORAGE = "1.2.840.10008.5.1.4.1.1.77.1.5.4"
#: A private SOP class, made up for these tests (a device's own "raw OCT" class).
PRIVATE_SOP_CLASS = "1.2.826.0.1.3680043.9.7433.1.1"
#: Made-up identifiers: never a real person.
PATIENT = {"PatientID": "TEST-0042", "PatientName": "Test^Phantom", "PatientBirthDate": "19500101",
           "PatientSex": "O"}  # fmt: skip


def base_dataset(sop_class: str = SecondaryCaptureImageStorage, modality: str = "OT", **patient: str) -> Dataset:
    """The patient, study, series and instance attributes every test file shares."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.FrameOfReferenceUID = generate_uid()
    ds.Modality = modality
    ds.StudyDate, ds.StudyTime, ds.StudyID, ds.AccessionNumber = "20240102", "101500", "1", "A1"
    ds.SeriesNumber, ds.InstanceNumber = 1, 1
    ds.Manufacturer, ds.ReferringPhysicianName = "antseg tests", ""
    for k, v in {**PATIENT, **patient}.items():
        setattr(ds, k, v)
    return ds


def make_dicom(
    path: Path,
    pixels: np.ndarray,
    *,
    photometric: str | None = None,
    bits_stored: int | None = None,
    sop_class: str = SecondaryCaptureImageStorage,
    modality: str = "OT",
    spacing: tuple[float, float] | None = None,
    transfer_syntax: str = ExplicitVRLittleEndian,
    preamble: bool = True,
    **attributes,
) -> Path:
    """Write ``pixels`` ((H, W), (H, W, 3), (frames, H, W) or (frames, H, W, 3); its dtype sets the bit depth and
    signedness) as a DICOM file. ``spacing`` is (x, y) mm per pixel, written as Pixel Spacing (row, column);
    ``attributes`` are set last (``WindowCenter=...``, ``Laterality="R"``, ...)."""
    ds = base_dataset(sop_class, modality)
    colour = pixels.shape[-1] == 3 and pixels.ndim in (3, 4)  # so a (frames, H, 3) grey stack needs H != 3
    photometric = photometric or ("RGB" if colour else "MONOCHROME2")
    bits = bits_stored or 8 * pixels.dtype.itemsize
    ds.set_pixel_data(pixels, photometric if photometric != "PALETTE COLOR" else "MONOCHROME2", bits)
    if photometric == "PALETTE COLOR":
        ds.PhotometricInterpretation = photometric
    if spacing is not None:
        ds.PixelSpacing = [spacing[1], spacing[0]]
    for k, v in attributes.items():
        setattr(ds, k, v)
    if transfer_syntax == JPEGBaseline8Bit:
        _jpeg_baseline(ds, pixels)
    elif transfer_syntax != ExplicitVRLittleEndian:
        ds.compress(transfer_syntax, encoding_plugin="" if "1.2.4.8" not in transfer_syntax else "pyjpegls")
    ds.save_as(path, enforce_file_format=preamble)
    return path


def _jpeg_baseline(ds: Dataset, pixels: np.ndarray) -> None:
    """JPEG Baseline through OpenCV (pydicom has no JPEG encoder): one lossy frame per fragment."""
    frames = pixels if pixels.ndim == (4 if pixels.shape[-1] == 3 else 3) else pixels[None]
    colour = frames.shape[-1] == 3 and frames.ndim == 4
    encoded = []
    for f in frames:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR) if colour else f,
                               [cv2.IMWRITE_JPEG_QUALITY, 95])  # fmt: skip
        assert ok
        encoded.append(buf.tobytes())
    ds.PixelData = encapsulate(encoded)
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    if colour:
        ds.PhotometricInterpretation = "YBR_FULL_422"


def oct_like(h: int = 512, w: int = 1024, seed: int = 0) -> np.ndarray:
    """A B-scan-like float image in [0, 1]: dark background, a bright curved band and speckle."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    band = np.exp(-(((yy - (0.3 * h + 0.2 * h * ((xx - w / 2) / (w / 2)) ** 2)) / (0.03 * h)) ** 2))
    return np.clip(0.1 + 0.8 * band + 0.05 * rng.standard_normal((h, w)), 0, 1)


def visante_like(path: Path, image: np.ndarray | None = None, **attributes) -> Path:
    """A Zeiss Visante-like export: OPT, a private SOP class, 1024 x 512, 16-bit signed MONOCHROME2, OD, no Pixel
    Spacing. ``image`` (uint8, any size) replaces the made-up B-scan, stored as value * 40 - 3000."""
    img = (oct_like() * 255).astype(np.uint8) if image is None else image
    stored = (img.astype(np.int32) * 40 - 3000).astype(np.int16)
    attributes = {"Laterality": "R", "Manufacturer": "Carl Zeiss Meditec (made up)", **attributes}
    return make_dicom(path, stored, sop_class=PRIVATE_SOP_CLASS, modality="OPT", **attributes)


def casia_like(path: Path, image: np.ndarray | None = None, spacing=(0.0075, 0.0075), **attributes) -> Path:
    """A CASIA-like secondary capture: 8-bit MONOCHROME2 with Pixel Spacing and Image Laterality."""
    img = (oct_like(998, 2130) * 255).astype(np.uint8) if image is None else image
    attributes.setdefault("ImageLaterality", "L")
    return make_dicom(path, img, modality="OPT", spacing=spacing, ConversionType="WSD", **attributes)


def enhanced_radial(
    path: Path,
    frames: np.ndarray | None = None,
    spacing: tuple[float, float] | None = (0.015, 0.008),
    laterality: str = "L",
    windows: list[tuple[float, float]] | None = None,
) -> Path:
    """An enhanced multi-frame Ophthalmic Tomography radial series: 16-bit unsigned, Pixel Measures (x, y mm) and
    Frame Laterality in the shared functional groups, a Frame Content item (and optionally a window) per frame."""
    if frames is None:
        frames = np.stack([(oct_like(128, 256, seed=i) * 4000).astype(np.uint16) for i in range(3)])
    ds = base_dataset(OPT_STORAGE, "OPT")
    ds.set_pixel_data(frames, "MONOCHROME2", 16)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    shared = Dataset()
    if spacing is not None:
        measures = Dataset()
        measures.PixelSpacing, measures.SliceThickness = [spacing[1], spacing[0]], 0.01
        shared.PixelMeasuresSequence = [measures]
    anatomy = Dataset()
    anatomy.FrameLaterality = laterality
    anatomy.AnatomicRegionSequence = [Dataset()]
    anatomy.AnatomicRegionSequence[0].update(
        {"CodeValue": "81745001", "CodingSchemeDesignator": "SCT", "CodeMeaning": "Eye"}
    )
    shared.FrameAnatomySequence = [anatomy]
    ds.SharedFunctionalGroupsSequence = [shared]
    per_frame = []
    for i in range(len(frames)):
        item, content = Dataset(), Dataset()
        content.FrameAcquisitionNumber, content.StackID, content.InStackPositionNumber = i + 1, "1", i + 1
        item.FrameContentSequence = [content]
        if windows:
            voi = Dataset()
            voi.WindowCenter, voi.WindowWidth = windows[i]
            item.FrameVOILUTSequence = [voi]
        per_frame.append(item)
    ds.PerFrameFunctionalGroupsSequence = per_frame
    ds.save_as(path, enforce_file_format=True)
    return path


def no_pixels(path: Path) -> Path:
    """A DICOM that holds no image: a Basic Text SR header."""
    ds = base_dataset("1.2.840.10008.5.1.4.1.1.88.11", "SR")
    ds.save_as(path, enforce_file_format=True)
    return path


def undecodable(path: Path, transfer_syntax: str) -> Path:
    """An 8-bit scan whose pixel data claims ``transfer_syntax`` (its bytes are not a real code stream)."""
    ds = base_dataset(OPT_STORAGE, "OPT")
    ds.set_pixel_data(np.zeros((32, 64), np.uint8), "MONOCHROME2", 8)
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xc3" + bytes(60)])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = transfer_syntax
    ds.save_as(path, enforce_file_format=True)
    return path
