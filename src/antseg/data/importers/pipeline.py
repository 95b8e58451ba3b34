"""The import pipeline every importer shares: label policy, duplicate check, parallel materialisation.

An importer only *scans* its source into :class:`~antseg.data.importers.records.SourceCase` records (cheap, no
pixels); this module resolves labels, checks the whole source, then reads images, rasterises annotations and
writes the canonical dataset into a temporary folder that replaces ``out`` only when everything succeeded.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from collections.abc import Callable
from functools import partial
from pathlib import Path

import antseg
from antseg.anatomy import default_colour, structure_order
from antseg.data.canonical import write_dataset_files
from antseg.data.importers.materialize import map_cases, materialize
from antseg.data.importers.records import ImportOptions, ImportResult, SourceCase
from antseg.data.naming import CASIA_PATTERN, compile_patient_regex, match_name
from antseg.data.schema import Manifest, Structure
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_dir
from antseg.io.images import IMAGE_SUFFIXES
from antseg.io.meta_tables import read_meta
from antseg.io.output_folder import existing_paths

_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_case_id(stem: str) -> str:
    """A case id usable as a file name."""
    return _SAFE.sub("_", stem).strip("._") or "case"


def load_json(path: Path) -> dict:
    """A JSON object from an annotation file, or an input error naming the file."""
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AntsegInputError(path, f"malformed JSON (line {exc.lineno}: {exc.msg})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AntsegInputError(path, f"cannot read ({exc})") from None
    if not isinstance(d, dict):
        raise AntsegInputError(path, "malformed JSON (expected an object)")
    return d


def index_images(src: Path) -> dict[str, list[Path]]:
    """Image files under ``src`` by base name (a name may occur more than once)."""
    idx: dict[str, list[Path]] = {}
    for p in src.rglob("*"):
        if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file():
            idx.setdefault(p.stem, []).append(p)
    return idx


def apply_patient_regex(cases: list[SourceCase], regex: str) -> None:
    """Fill empty patient ids / eyes from the file name; the case id is the patient id otherwise."""
    rx = compile_patient_regex(regex) if regex else None
    for c in cases:
        m = match_name(c.case_id, rx) if rx else None
        if m and not c.patient_id:
            c.patient_id = m[0]
        if m and not c.eye:
            c.eye = m[1]
        c.patient_id = c.patient_id or c.case_id


def apply_meta(cases: list[SourceCase], meta: Path) -> list[str]:
    """Override patient/eye/group from a CSV keyed by ``case_id`` or ``image`` (file name), read by
    :func:`antseg.io.meta_tables.read_meta` (eyes as R/L, OD/OS or right/left); returns warnings when rows and
    cases do not match up."""
    table = read_meta(meta, "--meta", needs=("patient_id", "eye", "group"), optional=())
    for c in cases:
        r = table.find(c.case_id)
        if r:
            c.patient_id = r.get("patient_id") or c.patient_id
            c.eye = r.get("eye") or c.eye
            c.group = r.get("group") or c.group
    return table.match_warnings([c.case_id for c in cases], "--meta", "nothing was taken from it")


def check_duplicates(cases: list[SourceCase]) -> None:
    seen: dict[str, Path] = {}
    for c in cases:
        if c.case_id in seen:
            raise AntsegInputError(c.source, f"duplicate case id {c.case_id!r} (also from {seen[c.case_id]})")
        seen[c.case_id] = c.source


def label_kinds(cases: list[SourceCase]) -> tuple[dict[str, str], dict[str, str]]:
    """Each source label's first file and its kind (polygon or point); one label with both kinds is an error."""
    where: dict[str, str] = {}
    kinds: dict[str, str] = {}
    for c in cases:
        found = [(sh.label, sh.kind) for sh in c.shapes]
        found += [(lab, "polygon") for lab in c.mask_files] + [(lab, "point") for lab in c.points]
        for lab, kind in found:
            if lab in kinds and kinds[lab] != kind:
                raise AntsegInputError(c.source, f"label {lab!r} is a {kind} here but a {kinds[lab]} in {where[lab]}")
            where.setdefault(lab, str(c.source))
            kinds[lab] = kind
    return where, kinds


def run_import(
    importer: str,
    src: Path,
    out: Path,
    cases: list[SourceCase],
    vocabulary: dict[str, str],
    landmark_names: set[str],
    modality: str,
    opts: ImportOptions,
    progress: Callable[[int, int], None] | None = None,
    patient_regex: str = CASIA_PATTERN,
) -> ImportResult:
    """Turn scanned source cases into a canonical dataset at ``out`` (all or nothing).

    Args:
        vocabulary: normalised known label -> canonical name, for this source format.
        landmark_names: canonical names that are landmarks (points), not structures.
    """
    if not cases:
        raise AntsegInputError(src, "no cases found (empty or wrong folder layout)")
    meta_warnings = apply_meta(cases, opts.meta) if opts.meta else []
    apply_patient_regex(cases, patient_regex if opts.patient_regex is None else opts.patient_regex)
    check_duplicates(cases)
    where, kinds = label_kinds(cases)
    names = opts.policy.resolve_all(where, vocabulary)
    structures = structure_order({n for lab, n in names.items() if n and kinds[lab] != "point"})
    landmarks = sorted(
        {n for lab, n in names.items() if n and kinds[lab] == "point"} | (landmark_names & set(names.values()))
    )
    for lab, n in names.items():
        if n in landmarks and kinds[lab] != "point":
            raise AntsegInputError(where[lab], f"label {lab!r} is a polygon but {n!r} is a landmark")
    warnings: list[str] = list(meta_warnings)
    with atomic_dir(out, overwrite=opts.overwrite, inputs=existing_paths(src)) as tmp:
        (tmp / "images").mkdir()
        job = partial(
            materialize,
            root=tmp,
            names=names,
            structures=structures,
            landmarks=landmarks,
            spacing=opts.spacing,
            tol=opts.outside_tolerance_px,
        )
        rows = map_cases(job, cases, opts.workers, progress)
        groups = sorted({r.group for r in rows if r.group})
        manifest = Manifest(
            name=opts.name or out.name,
            modality=opts.modality or modality,
            structures=[Structure(n, i + 1, default_colour(n, i)) for i, n in enumerate(structures)],
            landmarks=landmarks,
            spacing_mm=opts.spacing,
            groups=groups,
            provenance={
                "importer": importer,
                "source": str(src.resolve()),
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "antseg_version": antseg.__version__,
                "label_map": {k: v for k, v in names.items()},
            },
        )
        write_dataset_files(tmp, manifest, rows)
    return ImportResult(out, len(rows), structures, landmarks, warnings)
