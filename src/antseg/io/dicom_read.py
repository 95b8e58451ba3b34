"""DICOM scans in: one frame at a time, windowed to 8 bits the way the file asks to be displayed, with one-line
errors naming the file.

A multi-frame file (a radial series in one object) is several scans. Frame ``k`` (1-based, as DICOM counts) of
``scan.dcm`` is named ``scan#00k.dcm`` (:func:`frame_path`): the name does not exist on disk, but
:func:`read_dicom` (and so :func:`antseg.io.images.read_image`) and :func:`antseg.io.scan_meta.scan_metadata`
accept it, and its stem is unique, so every scan gets its own output files. A file without a DICOM suffix
(``IM0001``) gets ``IM0001#001.dcm``.

pydicom is imported on first use. It decodes uncompressed, Deflated and RLE Lossless data itself, and JPEG
Baseline/Extended and JPEG 2000 through Pillow; JPEG-LS and High-Throughput JPEG 2000 need the ``dicom`` extra
(pyjpegls, pylibjpeg-openjpeg), JPEG Lossless (process 14) needs ``pylibjpeg-libjpeg`` or ``python-gdcm``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from antseg.errors import AntsegInputError

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

DICOM_SUFFIXES = (".dcm", ".dicom")
#: Deflated Explicit VR Little Endian: the whole data set is zlib-compressed, pixel data included.
DEFLATED = "1.2.840.10008.1.2.1.99"
_FRAME_NAME = re.compile(r"^(?P<base>.+)#(?P<frame>\d+)(?P<suffix>\.dcm|\.dicom)$", re.IGNORECASE)
#: Functional-group sequences of enhanced multi-frame objects whose item attributes describe a frame.
FRAME_GROUPS = ("PixelMeasuresSequence", "PixelValueTransformationSequence", "FrameVOILUTSequence",
                "FrameAnatomySequence", "FrameContentSequence")  # fmt: skip
#: pip names of pydicom's decoder plugins, where they differ from the requirement pydicom states.
_PIP_NAMES = {"gdcm": "python-gdcm"}


def is_dicom(path: str | Path) -> bool:
    """True for a ``.dcm`` / ``.dicom`` name (frame names included) or a file with the DICM marker at byte 128."""
    path = Path(path)
    if path.suffix.lower() in DICOM_SUFFIXES:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(132)
    except OSError:
        return False
    return head[128:132] == b"DICM"


def frame_path(path: str | Path, index: int, count: int) -> Path:
    """The scan name of frame ``index`` (0-based) of a ``count``-frame file: ``scan.dcm`` -> ``scan#001.dcm``."""
    path = Path(path)
    suffix = path.suffix if path.suffix.lower() in DICOM_SUFFIXES else ""
    stem = path.name[: len(path.name) - len(suffix)]
    width = max(3, len(str(count)))
    return path.with_name(f"{stem}#{index + 1:0{width}d}{suffix or '.dcm'}")


def split_frame(path: str | Path) -> tuple[Path, int | None]:
    """(file, frame index from 0) of a frame name made by :func:`frame_path`; (path, None) for any other path."""
    path = Path(path)
    m = _FRAME_NAME.match(path.name)
    if m is None or path.exists():
        return path, None
    for candidate in (path.with_name(m["base"] + m["suffix"]), path.with_name(m["base"])):
        if candidate.is_file():
            return candidate, int(m["frame"]) - 1
    return path, None


def _pydicom():
    import pydicom

    return pydicom


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 120 else text[:117] + "..."


def read_header(path: str | Path) -> Dataset:
    """Every attribute but the pixel data; AntsegInputError for a file that is not DICOM or is unreadable."""
    pydicom = _pydicom()
    path = Path(path)
    if not path.is_file():
        raise AntsegInputError(path, "does not exist" if not path.exists() else "is not a file")
    try:
        return pydicom.dcmread(path, stop_before_pixels=True)
    except pydicom.errors.InvalidDicomError:
        raise AntsegInputError(path, "not a DICOM file (no DICM marker at byte 128)") from None
    except OSError as exc:
        raise AntsegInputError(path, f"cannot read file ({exc.strerror or exc})") from None
    except Exception as exc:  # pydicom raises many kinds on a damaged header
        raise AntsegInputError(path, f"unreadable DICOM file, truncated or corrupt ({_short(exc)})") from None


def number_of_frames(ds: Dataset) -> int:
    try:
        return max(1, int(ds.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def check_image(path: Path, ds: Dataset, has_pixels: bool = True) -> None:
    """A DICOM that holds no image (a report, a key object, a presentation state) cannot be a scan."""
    if "SOPClassUID" not in ds:
        raise AntsegInputError(path, "unreadable DICOM file, truncated or corrupt (no SOP Class UID)")
    if not has_pixels or "Rows" not in ds or "Columns" not in ds:
        kind = getattr(getattr(ds, "SOPClassUID", None), "name", "") or "unknown SOP class"
        raise AntsegInputError(path, f"DICOM without pixel data ({kind}): not an image")


def expand_frames(path: str | Path) -> list[Path]:
    """The scans of one DICOM file: itself when it holds one frame, else one frame name per frame."""
    path = Path(path)
    ds = read_header(path)
    check_image(path, ds)
    n = number_of_frames(ds)
    return [path] if n == 1 else [frame_path(path, i, n) for i in range(n)]


def frame_view(ds: Dataset, index: int = 0) -> Dataset:
    """The attributes that describe frame ``index`` as one flat dataset: the top level, then the shared and the
    frame's own functional groups of an enhanced multi-frame object (Pixel Measures, Pixel Value
    Transformation, Frame VOI LUT, Frame Anatomy, Frame Content) on top."""
    from pydicom.dataset import Dataset

    view = Dataset()
    for elem in ds:
        if elem.keyword not in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence", "PixelData"):
            view.add(elem)
    groups = []
    if ds.get("SharedFunctionalGroupsSequence"):
        groups.append(ds.SharedFunctionalGroupsSequence[0])
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame and index < len(per_frame):
        groups.append(per_frame[index])
    for group in groups:
        for name in FRAME_GROUPS:
            items = group.get(name)
            if items:
                for elem in items[0]:
                    view.add(elem)
    return view


def check_decoder(path: Path, ds: Dataset) -> None:
    """Refuse a compressed transfer syntax no installed plugin decodes, saying what to install."""
    from pydicom.pixels import get_decoder

    tsyntax = getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", None)
    if tsyntax is None or (tsyntax.is_transfer_syntax and not tsyntax.is_encapsulated):
        return
    try:
        decoder = get_decoder(tsyntax)
    except NotImplementedError:
        what = f"compressed as {tsyntax.name or tsyntax}, which no pydicom plugin decodes"
        raise AntsegInputError(path, what) from None
    if decoder.is_available:
        return
    options = []
    for deps in decoder._unavailable.values():  # pydicom lists each plugin's requirements
        names = [re.split(r"[<>=!~ ]", d, maxsplit=1)[0] for d in deps]
        options.append(" ".join(_PIP_NAMES.get(n, n) for n in names))
    hint = f": pip install {' (or) '.join(options)}" if options else ""
    raise AntsegInputError(path, f"compressed as {tsyntax.name}, which needs a decoder plugin{hint}")


def read_dicom(path: str | Path, grayscale: bool = False) -> np.ndarray:
    """One scan of a DICOM file (or a frame name from :func:`expand_frames`), windowed to 8 bits.

    Grey images go through the Modality LUT (Rescale Slope/Intercept), then the VOI LUT or the window (Window
    Center/Width and VOI LUT Function, per frame for enhanced objects); without one, unsigned data of 8 bits or
    less is kept as stored and anything else is stretched from its lowest to its highest value. MONOCHROME1 is
    inverted. Colour (RGB, YBR, palette) becomes RGB with 8 bits per sample.

    Returns:
        uint8 array (H, W) if grayscale else (H, W, 3) RGB.
    """
    from pydicom.pixels import pixel_array

    file, index = split_frame(path)
    ds = read_header(file)
    check_image(file, ds)
    n = number_of_frames(ds)
    if index is None and n > 1:
        raise AntsegInputError(file, f"holds {n} frames: name one as {frame_path(file, 0, n).name} (and so on)")
    if index is not None and index >= n:
        raise AntsegInputError(path, f"no such frame: {file.name} holds {n}")
    check_decoder(file, ds)
    deflated = ds.file_meta.get("TransferSyntaxUID") == DEFLATED
    try:  # from the path, only the frame's bytes are read; a deflated file is inflated whole first
        arr = pixel_array(_pydicom().dcmread(file) if deflated else file, index=index if n > 1 else None)
    except Exception as exc:  # the decoders raise ValueError, RuntimeError, EOFError, ... on bad data
        if "no 'Pixel Data'" in str(exc):
            check_image(file, ds, has_pixels=False)
        raise AntsegInputError(file, f"cannot decode its pixel data, truncated or corrupt ({_short(exc)})") from None
    if not (arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] == 3)) or min(arr.shape[:2]) < 1:
        raise AntsegInputError(file, f"unexpected pixel array of shape {arr.shape}")
    return to_uint8(arr, frame_view(ds, index or 0), grayscale)


def to_uint8(arr: np.ndarray, view: Dataset, grayscale: bool = False) -> np.ndarray:
    """Decoded stored values of one frame -> uint8 grey (H, W) or RGB (H, W, 3) (see :func:`read_dicom`)."""
    import cv2
    from pydicom.pixels import apply_color_lut

    photometric = str(view.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    stored = int(view.get("BitsStored") or 8)
    if photometric == "PALETTE COLOR":
        arr = apply_color_lut(arr, view)
        stored = 8 * arr.dtype.itemsize  # the LUT's entries fill their type
    if arr.ndim == 3:
        rgb = arr if arr.dtype == np.uint8 else np.clip(arr.astype(np.int64) >> max(0, stored - 8), 0, 255)
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY) if grayscale else rgb
    grey = window(arr, view)
    if photometric == "MONOCHROME1":
        grey = 255 - grey
    return grey if grayscale else np.repeat(grey[..., None], 3, axis=2)


def window(arr: np.ndarray, view: Dataset) -> np.ndarray:
    """Grey stored values -> uint8 display values: Modality LUT, then VOI LUT or window, else the value range."""
    from pydicom.dataset import Dataset
    from pydicom.pixels import apply_modality_lut, apply_voi, apply_windowing

    rescaled = "RescaleSlope" in view or "ModalityLUTSequence" in view
    values = apply_modality_lut(arr, view) if rescaled else arr
    if view.get("VOILUTSequence"):
        lut = apply_voi(values, view).astype(np.float64)
        top = 2 ** int(view.VOILUTSequence[0].LUTDescriptor[2]) - 1
        return np.clip(np.rint(lut * (255.0 / top)), 0, 255).astype(np.uint8)
    center, width = _first(view.get("WindowCenter")), _first(view.get("WindowWidth"))
    if center is not None and width is not None and width > 0:
        plain = Dataset()  # the window alone, onto 0..255: the output range follows BitsStored 8, unsigned
        plain.PhotometricInterpretation, plain.BitsStored, plain.PixelRepresentation = "MONOCHROME2", 8, 0
        plain.WindowCenter, plain.WindowWidth = center, max(width, 1.0)
        plain.VOILUTFunction = str(view.get("VOILUTFunction") or "LINEAR")
        try:
            out = apply_windowing(values.astype(np.float64), plain)
            return np.clip(np.rint(out), 0, 255).astype(np.uint8)
        except ValueError:
            pass  # an unknown VOI LUT Function: fall back to the value range below
    if values.dtype == np.uint8 or (not rescaled and values.dtype.kind == "u" and values.max(initial=0) <= 255
                                     and int(view.get("BitsStored") or 8) <= 8):  # fmt: skip
        return values.astype(np.uint8)
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        return np.zeros(values.shape, np.uint8)
    return np.rint((values.astype(np.float64) - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def _first(value) -> float | None:
    """The first of a multi-valued Window Center/Width (the default view), as a float; None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str | bytes | int | float):
        value = value[0] if len(value) else None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
