"""Supervisely JSON importer (Cataract-1K): ``<video>/ann/<frame>.png.json`` beside ``<video>/img/<frame>.png``."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from antseg.anatomy import ASOCT_VOCAB, CORNEA, PUPIL, SURGICAL_VOCAB
from antseg.data.importers.pipeline import index_images, load_json, run_import, safe_case_id
from antseg.data.importers.records import ImportOptions, ImportResult, Shape, SourceCase
from antseg.data.importers.registry import IMPORTERS
from antseg.data.importers.schemas import SuperviselyFile, parse
from antseg.errors import AntsegInputError

#: Cataract-1K frame names ``case5013_01.png``: the video (``case5013``) is the patient.
VIDEO_REGEX = r"^(?P<patient>case_?\d+)"


def _ring(jpath: Path, label: str, pts: list) -> np.ndarray:
    arr = np.asarray(pts, np.float64).reshape(-1, 2)
    if len(arr) < 3:
        raise AntsegInputError(jpath, f"polygon {label!r} has fewer than 3 points")
    return arr


def parse_supervisely(jpath: Path, d: dict) -> tuple[list[Shape], tuple[int, int] | None]:
    """Polygons (exterior + interior holes) of one Supervisely annotation, and its declared (w, h)."""
    doc = parse(SuperviselyFile, d, jpath, "Supervisely")
    declared = (doc.size.width, doc.size.height) if doc.size else None
    shapes = []
    for i, obj in enumerate(doc.objects):
        label = obj.classTitle
        if obj.geometryType != "polygon":
            raise AntsegInputError(jpath, f"object {label!r} has unsupported geometryType {obj.geometryType!r}")
        if obj.points is None:
            raise AntsegInputError(jpath, f"malformed Supervisely file: objects[{i}].points: Field required")
        ext = _ring(jpath, label, obj.points.exterior)
        holes = [_ring(jpath, label, h) for h in obj.points.interior]
        shapes.append(Shape(label, "polygon", ext, holes, rule="cv2"))
    return shapes, declared


def scan_supervisely(src: Path) -> list[SourceCase]:
    anns = sorted(p for p in src.rglob("*.json") if p.is_file() and p.name not in ("meta.json", "key_id_map.json"))
    index = index_images(src)
    cases = []
    for jpath in anns:
        d = load_json(jpath)
        if "objects" not in d:
            raise AntsegInputError(jpath, "not a Supervisely annotation (no 'objects')")
        shapes, declared = parse_supervisely(jpath, d)
        img_name = jpath.name[: -len(".json")]
        stem = Path(img_name).stem
        cands = [jpath.parent.parent / "img" / img_name, jpath.parent / img_name]
        img = next((c for c in cands if c.is_file()), None)
        if img is None:
            hits = index.get(stem, [])
            img = hits[0] if len(hits) == 1 else None
        if img is None:
            raise AntsegInputError(jpath, f"image {img_name!r} not found (looked in ../img/ and beside it)")
        video = jpath.parent.parent.name if jpath.parent.name == "ann" else ""
        cases.append(
            SourceCase(
                case_id=safe_case_id(stem),
                source=jpath,
                image_path=img,
                shapes=shapes,
                declared_size=declared,
                extra={"video": video} if video else {},
            )
        )
    return cases


def missing_anatomy(cases: list[SourceCase], opts: ImportOptions, structures: list[str]) -> list[str]:
    """Warnings for frames that label the limbus disc (Cornea) but not the pupil, or the pupil but not the disc,
    when both are imported: their empty mask would teach a model that the structure is absent there."""
    if not {CORNEA, PUPIL} <= set(structures):
        return []
    vocab = {**ASOCT_VOCAB, **SURGICAL_VOCAB}
    out = []
    for has, lacks in ((CORNEA, PUPIL), (PUPIL, CORNEA)):
        ids = []
        for c in cases:
            names = {opts.policy.resolve(sh.label, vocab) for sh in c.shapes}
            if has in names and lacks not in names:
                ids.append(c.case_id)
        if ids:
            eg = ", ".join(ids[:3]) + (", ..." if len(ids) > 3 else "")
            out.append(f"{len(ids)} frame(s) have a {has} polygon but no {lacks} polygon: their {lacks} mask is "
                       f"empty ({eg}); check them, or drop them before training")  # fmt: skip
    return out


@IMPORTERS.register("supervisely")
def import_supervisely(src: Path, out: Path, opts: ImportOptions, progress=None) -> ImportResult:
    """Import Supervisely polygons (with holes); frames of one video share a patient id (split by video).

    Cataract-1K's anatomy: ``--keep Cornea --keep Pupil`` imports the limbus-bounded disc and the pupil (what
    antseg's surgical model segments); a frame with one of them and not the other is reported.
    """
    if not src.is_dir():
        raise AntsegInputError(src, "not a folder")
    cases = scan_supervisely(src)
    res = run_import(
        "supervisely",
        src,
        out,
        cases,
        {**ASOCT_VOCAB, **SURGICAL_VOCAB},  # AS-OCT names too: `data export supervisely` writes them
        set(),
        "surgical",
        opts,
        progress,
        patient_regex=VIDEO_REGEX,
    )
    res.warnings.extend(missing_anatomy(cases, opts, res.structures))
    return res
