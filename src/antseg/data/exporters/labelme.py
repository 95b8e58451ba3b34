"""LabelMe layout of the reference AS-OCT project: ``<Group>/Original Images`` + ``<Group>/Annotated Images``."""

from __future__ import annotations

import json
from pathlib import Path

from antseg.data.canonical import CanonicalDataset
from antseg.data.exporters.registry import EXPORTERS, write_image_as
from antseg.data.masks import mask_to_polygons

GROUP_FOLDERS = {"normal": "Normal", "cataract": "Cataract", "pacg": "PACG", "pacg_cataract": "PACG_Cataract"}


@EXPORTERS.register("labelme")
def export_labelme(ds: CanonicalDataset, out: Path, image_format: str) -> None:
    """Polygons are the masks' outer pixel contours; landmarks become points (absent ones are left out)."""
    for case in ds:
        group = GROUP_FOLDERS.get(case.group, case.group or "Ungrouped")
        img_dir, ann_dir = out / group / "Original Images", out / group / "Annotated Images"
        img_dir.mkdir(parents=True, exist_ok=True)
        ann_dir.mkdir(parents=True, exist_ok=True)
        img = write_image_as(ds, case, img_dir / case.case_id, image_format)
        shapes = []
        masks = ds.load_masks(case)
        for k, name in enumerate(ds.structures):
            for exterior, _holes in mask_to_polygons(masks[k]):
                shapes.append(_shape(name, exterior.tolist(), "polygon"))
        for name in ds.landmarks:
            pt = case.landmarks.get(name)
            if pt is not None:
                shapes.append(_shape(name, [[pt[0], pt[1]]], "point"))
        doc = {
            "version": "5.4.1",
            "flags": {},
            "shapes": shapes,
            "imagePath": f"../Original Images/{img.name}",
            "imageData": None,
            "imageHeight": case.height,
            "imageWidth": case.width,
        }
        (ann_dir / f"{case.case_id}.json").write_text(json.dumps(doc))


def _shape(label: str, points: list, kind: str) -> dict:
    return {
        "label": label,
        "points": points,
        "group_id": None,
        "description": "",
        "shape_type": kind,
        "flags": {},
    }
