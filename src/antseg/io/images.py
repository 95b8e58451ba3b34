"""Image I/O through OpenCV, with one-line errors naming the file."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

from antseg.errors import AntsegInputError
from antseg.io.dicom_read import is_dicom, read_dicom
from antseg.io.quiet import native_stderr_silenced

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


def to_grey(image: np.ndarray) -> np.ndarray:
    """The one colour-to-grey conversion of antseg: (H, W, 3) RGB uint8 -> (H, W) luma (ITU-R BT.601 weights, as
    OpenCV and JPEG's Y channel use); a grey image is returned as it is. Every model input and every check that
    looks at grey levels goes through here, so the same file gives the same grey image everywhere."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[..., 0]
    return cv2.cvtColor(np.ascontiguousarray(image[..., :3]), cv2.COLOR_RGB2GRAY)


def decode_image(data: bytes, source: str | Path, grayscale: bool = False) -> np.ndarray:
    """Decode encoded image bytes; ``source`` names the origin in errors.

    Returns:
        uint8 array (H, W) if grayscale (through :func:`to_grey`) else (H, W, 3) RGB.
    """
    with native_stderr_silenced():  # libpng writes its own error line to stderr
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR) if data else None
    if arr is None:
        raise AntsegInputError(source, "unreadable image (not an image or truncated)")
    arr = cv2.cvtColor(arr, cv2.COLOR_BGR2RGB)
    return to_grey(arr) if grayscale else arr


def read_image(path: str | Path, grayscale: bool = False) -> np.ndarray:
    """Read an image file, or a DICOM scan windowed to 8 bits (:func:`antseg.io.dicom_read.read_dicom`: a
    ``.dcm`` / ``.dicom`` file, a frame name ``scan#001.dcm``, or any file with the DICOM marker).

    Returns:
        uint8 array (H, W) if grayscale else (H, W, 3) RGB.
    """
    path = Path(path)
    if is_dicom(path):
        return read_dicom(path, grayscale)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise AntsegInputError(path, f"cannot read file ({exc.strerror or exc})") from None
    return decode_image(data, path, grayscale)


def image_size(path: str | Path) -> tuple[int, int]:
    """Width and height of an image (or a DICOM scan) from its header, without decoding the pixels."""
    if is_dicom(path):
        from antseg.io.dicom_read import check_image, read_header, split_frame

        file = split_frame(path)[0]
        ds = read_header(file)
        check_image(file, ds)
        return int(ds.Columns), int(ds.Rows)
    try:
        with Image.open(path) as im:
            return int(im.width), int(im.height)
    except (OSError, UnidentifiedImageError):
        raise AntsegInputError(path, "unreadable image (not an image or truncated)") from None


def read_mask_png(path: str | Path) -> np.ndarray:
    """Read a single-channel 8- or 16-bit PNG unchanged (H, W)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise AntsegInputError(path, f"cannot read mask image ({exc.strerror or exc})") from None
    with native_stderr_silenced():
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED) if data else None
    if arr is None:
        raise AntsegInputError(path, "unreadable mask image")
    if arr.ndim == 3:
        arr = arr[..., 0]
    return arr


def write_png(path: str | Path, arr: np.ndarray, compression: int = 1) -> None:
    """Write a uint8/uint16 array (H, W) or RGB (H, W, 3) as PNG; RGB input is converted to BGR for cv2."""
    if arr.ndim == 3:
        arr = cv2.cvtColor(arr, cv2.COLOR_RGB2BGR)
    if not cv2.imwrite(str(path), arr, [cv2.IMWRITE_PNG_COMPRESSION, compression]):
        raise AntsegInputError(path, "could not write image")
