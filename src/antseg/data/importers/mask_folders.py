"""Per-structure binary PNG folders: ``images/`` plus one folder per structure with the same base names."""

from __future__ import annotations

from pathlib import Path

from antseg.anatomy import ASOCT_LANDMARK_NAMES, ASOCT_VOCAB, SURGICAL_VOCAB
from antseg.data.importers.pipeline import run_import, safe_case_id
from antseg.data.importers.records import ImportOptions, ImportResult, SourceCase
from antseg.data.importers.registry import IMPORTERS
from antseg.errors import AntsegInputError
from antseg.io.images import IMAGE_SUFFIXES

IMAGE_FOLDERS = ("images", "image", "imgs")


def scan_masks(src: Path) -> tuple[list[SourceCase], int]:
    """Pair every image in ``src/images`` with the same-named file in each structure folder.

    Returns:
        the cases and the number of (image, structure) pairs without a mask file (taken as empty).
    """
    img_dir = next((src / d for d in IMAGE_FOLDERS if (src / d).is_dir()), None)
    if img_dir is None:
        raise AntsegInputError(src, f"no images folder (expected one of: {', '.join(IMAGE_FOLDERS)})")
    struct_dirs = sorted(p for p in src.iterdir() if p.is_dir() and p != img_dir and not p.name.startswith("."))
    if not struct_dirs:
        raise AntsegInputError(src, "no structure folders beside the images folder")
    files = {d.name: {p.stem: p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES} for d in struct_dirs}
    images = sorted(p for p in img_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    missing = 0
    cases = []
    for img in images:
        mf = {}
        for label, table in files.items():
            if img.stem in table:
                mf[label] = table[img.stem]
            else:
                missing += 1
        cases.append(SourceCase(case_id=safe_case_id(img.stem), source=img, image_path=img, mask_files=mf))
    stems = {p.stem for p in images}
    for table in files.values():
        orphans = sorted(set(table) - stems)
        if orphans:
            raise AntsegInputError(table[orphans[0]], f"mask without an image in {img_dir.name}/")
    return cases, missing


@IMPORTERS.register("masks")
def import_masks(src: Path, out: Path, opts: ImportOptions, progress=None) -> ImportResult:
    """Import per-structure binary masks (0/255 or 0/1); overlapping structures are kept as they are."""
    if not src.is_dir():
        raise AntsegInputError(src, "not a folder")
    cases, missing = scan_masks(src)
    vocab = {**ASOCT_VOCAB, **SURGICAL_VOCAB}
    res = run_import("masks", src, out, cases, vocab, ASOCT_LANDMARK_NAMES, "asoct", opts, progress)
    if missing:
        res.warnings.append(f"{missing} image/structure pairs had no mask file and were taken as empty")
    return res
