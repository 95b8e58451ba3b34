"""Supervisely layout (Cataract-1K): ``<patient>/img/<frame>.png`` and ``<patient>/ann/<frame>.png.json``."""

from __future__ import annotations

import json
from pathlib import Path

from antseg.data.canonical import CanonicalDataset
from antseg.data.exporters.registry import EXPORTERS, write_image_as
from antseg.data.masks import mask_to_polygons


def class_title(name: str) -> str:
    return name.replace("_", " ").title()


@EXPORTERS.register("supervisely")
def export_supervisely(ds: CanonicalDataset, out: Path, image_format: str) -> None:
    """One folder per patient (video); polygons with holes from the masks' contours."""
    for case in ds:
        folder = out / (case.patient_id or "dataset")
        (folder / "img").mkdir(parents=True, exist_ok=True)
        (folder / "ann").mkdir(exist_ok=True)
        img = write_image_as(ds, case, folder / "img" / case.case_id, image_format)
        masks = ds.load_masks(case)
        objects = []
        for k, name in enumerate(ds.structures):
            for exterior, holes in mask_to_polygons(masks[k]):
                objects.append(
                    {
                        "classTitle": class_title(name),
                        "geometryType": "polygon",
                        "tags": [],
                        "points": {"exterior": exterior.tolist(), "interior": [h.tolist() for h in holes]},
                    }
                )
        doc = {
            "description": "",
            "tags": [],
            "size": {"height": case.height, "width": case.width},
            "objects": objects,
        }
        (folder / "ann" / f"{img.name}.json").write_text(json.dumps(doc))
