"""Per-structure binary PNG layout (0/255): ``images/`` and one folder per structure."""

from __future__ import annotations

from pathlib import Path

from antseg.data.canonical import CanonicalDataset
from antseg.data.exporters.registry import EXPORTERS, write_image_as
from antseg.io.images import write_png


@EXPORTERS.register("masks")
def export_masks(ds: CanonicalDataset, out: Path, image_format: str) -> None:
    """Lossless: importing the result with the ``masks`` importer gives back the same masks."""
    (out / "images").mkdir()
    for name in ds.structures:
        (out / name).mkdir()
    for case in ds:
        write_image_as(ds, case, out / "images" / case.case_id, image_format)
        masks = ds.load_masks(case)
        for k, name in enumerate(ds.structures):
            write_png(out / name / f"{case.case_id}.png", masks[k] * 255)
