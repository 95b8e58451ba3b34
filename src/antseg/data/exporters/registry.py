"""The exporter registry and shared helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir
from antseg.io.output_folder import existing_paths
from antseg.registry import Registry

if TYPE_CHECKING:
    from antseg.data.canonical import CanonicalDataset
    from antseg.data.schema import Case

Exporter = Callable[["CanonicalDataset", Path, str], None]
EXPORTERS: Registry[Exporter] = Registry("exporter")
for _name, _module in (("labelme", "labelme"), ("masks", "mask_folders"), ("supervisely", "supervisely"),
                       ("yolo-pose", "yolo_pose")):  # fmt: skip
    EXPORTERS.declare(_name, f"antseg.data.exporters.{_module}")


def write_image_as(ds: CanonicalDataset, case: Case, dst_stem: Path, image_format: str) -> Path:
    """Copy the case image (``keep``) or re-encode it as ``png``/``jpg``; returns the written path."""
    import cv2  # imported here: listing the exporters (``--help``) needs no OpenCV

    src = ds.root / case.image
    if image_format == "keep" or src.suffix.lower().lstrip(".") == image_format:
        dst = dst_stem.with_suffix(src.suffix)
        dst.write_bytes(src.read_bytes())
        return dst
    img = cv2.imread(str(src), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise AntsegInputError(src, "unreadable image")
    dst = dst_stem.with_suffix(".jpg" if image_format in ("jpg", "jpeg") else ".png")
    params = [cv2.IMWRITE_JPEG_QUALITY, 95] if dst.suffix == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, 1]
    cv2.imwrite(str(dst), img, params)
    return dst


def run_exporter(
    name: str, dataset: str | Path, out: str | Path, image_format: str = "keep", overwrite: bool = False
) -> Path:
    """Export the canonical ``dataset`` to format ``name`` in the folder ``out`` (all or nothing)."""
    from antseg.data.canonical import load_dataset

    try:
        fn = EXPORTERS.get(name)
    except KeyError as exc:
        raise AntsegInputError(None, str(exc.args[0])) from None
    if image_format not in ("keep", "png", "jpg", "jpeg"):
        raise AntsegInputError(None, f"image format must be keep, png or jpg, got {image_format!r}")
    ds = load_dataset(dataset)
    out = Path(out)
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(dataset)) as tmp:
        fn(ds, tmp, image_format)
    return out
