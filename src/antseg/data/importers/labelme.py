"""LabelMe JSON importer: ``<root>/<Group>/Annotated Images/*.json`` beside ``<Group>/Original Images``."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from antseg.anatomy import ASOCT_LANDMARK_NAMES, ASOCT_VOCAB
from antseg.data.importers.pipeline import index_images, load_json, run_import, safe_case_id
from antseg.data.importers.records import ImportOptions, ImportResult, Shape, SourceCase
from antseg.data.importers.registry import IMPORTERS
from antseg.data.importers.schemas import LabelMeFile, parse
from antseg.data.prelabels import prelabels_beside, unchanged_cases
from antseg.errors import AntsegInputError


def resolve_image(jpath: Path, image_path: str | None, src: Path, index: dict[str, list[Path]]) -> Path | None:
    """Find the image a LabelMe JSON refers to.

    Order: ``imagePath`` relative to the JSON (it must stay inside ``src``); the same base name with
    .jpg/.jpeg/.png/.bmp beside the JSON or in a sibling ``Original Images`` folder; then anywhere
    under ``src`` if the base name is unique there.
    """
    root = src.resolve()
    stem = jpath.stem
    if image_path:
        norm = image_path.replace("\\", "/")
        stem = Path(norm).stem
        is_abs = norm.startswith("/") or re.match(r"^[A-Za-z]:/", norm)
        if not is_abs:
            try:
                cand = (jpath.parent / norm).resolve()
            except (OSError, ValueError):
                raise AntsegInputError(jpath, f"imagePath {image_path!r} is not a usable path") from None
            if not cand.is_relative_to(root):
                raise AntsegInputError(jpath, f"imagePath {image_path!r} escapes the source folder")
            if cand.is_file():
                return cand
    for folder in (jpath.parent, jpath.parent.parent / "Original Images", jpath.parent.parent / "images"):
        for suf in (".jpg", ".jpeg", ".png", ".bmp", ".JPG", ".PNG"):
            cand = folder / f"{stem}{suf}"
            if cand.is_file():
                return cand
    hits = index.get(stem, [])
    return hits[0] if len(hits) == 1 else None


def parse_shapes(jpath: Path, doc: LabelMeFile) -> tuple[list[Shape], dict[str, tuple[float, float] | None]]:
    """Polygons (and rectangles, as polygons) and points of a checked LabelMe file."""
    shapes: list[Shape] = []
    points: dict[str, tuple[float, float] | None] = {}
    for s in doc.shapes or []:
        label = s.label
        pts = np.asarray(s.points, np.float64).reshape(-1, 2)
        kind = s.shape_type or "polygon"
        if kind == "point":
            if label in points:
                raise AntsegInputError(jpath, f"two points labelled {label!r}")
            points[label] = (float(pts[0, 0]), float(pts[0, 1]))
        elif kind == "polygon":
            if len(pts) < 3:
                raise AntsegInputError(jpath, f"polygon {label!r} has fewer than 3 points")
            shapes.append(Shape(label, "polygon", pts))
        elif kind == "rectangle" and len(pts) == 2:
            (x0, y0), (x1, y1) = pts
            shapes.append(Shape(label, "polygon", np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]])))
        else:
            raise AntsegInputError(jpath, f"shape {label!r} has unsupported shape_type {kind!r}")
    return shapes, points


def scan_labelme(src: Path) -> list[SourceCase]:
    """Find every LabelMe JSON under ``src``; the top-level folder is the diagnosis group."""
    jsons = sorted(p for p in src.rglob("*.json") if p.is_file())
    index = index_images(src)
    cases: list[SourceCase] = []
    for jpath in jsons:
        d = load_json(jpath)
        if "shapes" not in d:
            raise AntsegInputError(jpath, "not a LabelMe file (no 'shapes')")
        doc = parse(LabelMeFile, d, jpath, "LabelMe")
        img = resolve_image(jpath, doc.imagePath, src, index)
        embedded = (jpath, "imageData") if img is None and doc.imageData else None
        if img is None and embedded is None:
            raise AntsegInputError(jpath, f"image not found (imagePath {doc.imagePath!r}, no imageData)")
        shapes, points = parse_shapes(jpath, doc)
        rel = jpath.relative_to(src)
        group = rel.parts[0] if len(rel.parts) > 1 else ""
        size = (doc.imageWidth, doc.imageHeight) if doc.imageWidth and doc.imageHeight else None
        stem = img.stem if img is not None else jpath.stem
        cases.append(
            SourceCase(
                case_id=safe_case_id(stem),
                source=jpath,
                image_path=img,
                embedded=embedded,
                shapes=shapes,
                points=points,
                group=group,
                declared_size=size,
            )
        )
    return cases


@IMPORTERS.register("labelme")
def import_labelme(src: Path, out: Path, opts: ImportOptions, progress=None) -> ImportResult:
    """Import LabelMe polygons (structures) and points (scleral spurs) of AS-OCT scans.

    Missing spur points become empty landmark cells, never a guessed point.
    """
    if not src.is_dir():
        raise AntsegInputError(src, "not a folder")
    cases = scan_labelme(src)
    res = run_import("labelme", src, out, cases, ASOCT_VOCAB, ASOCT_LANDMARK_NAMES, "asoct", opts, progress)
    pre = prelabels_beside(src)
    res.unchanged = unchanged_cases(res.out, pre) if pre is not None else []
    if res.unchanged:
        res.warnings.append(
            f"{len(res.unchanged)} of {res.n_cases} scans are the pre-labels 'antseg label' wrote ({pre}), unchanged: "
            "fine-tuning on them teaches the model its own output; train on the ones you corrected ('antseg adapt "
            "--labels' leaves the others out)"
        )
    return res
