"""Dataset validation: every problem a training run would trip over, found before it starts."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image

from antseg import checks
from antseg.anatomy import DIAGNOSIS_GROUPS, MEASURES
from antseg.data.canonical import CanonicalDataset, load_dataset
from antseg.data.schema import MODALITIES, SPLITS
from antseg.errors import AntsegInputError
from antseg.io.images import read_mask_png
from antseg.io.meta_tables import read_reference

ERROR, WARNING = "error", "warning"


@dataclass
class Finding:
    level: str  # "error" | "warning"
    check: str  # short name of the check
    case_id: str
    message: str


@dataclass
class ValidationReport:
    dataset: Path
    n_cases: int
    findings: list[Finding] = field(default_factory=list)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == ERROR]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == WARNING]

    @property
    def ok(self) -> bool:
        return not self.errors

    def counts(self) -> dict[tuple[str, str], int]:
        return dict(Counter((f.level, f.check) for f in self.findings))

    def add(self, level: str, check: str, case_id: str, message: str) -> None:
        self.findings.append(Finding(level, check, case_id, message))


def _check_image(path: Path) -> tuple[int, int] | str:
    """(width, height) of a fully decodable image, or the problem."""
    try:
        with Image.open(path) as im:
            size = im.size
            im.draft("L", (max(1, size[0] // 8), max(1, size[1] // 8)))  # fast JPEG decode, still checks data
            im.load()
        return size
    except FileNotFoundError:
        return "image file missing"
    except Exception as exc:  # PIL raises OSError, SyntaxError, ValueError... for broken files
        return f"unreadable image ({exc})"


def validate_dataset(path: str | Path, containment: dict[str, str] | None = None) -> ValidationReport:
    """Check a canonical dataset: files, sizes, masks, landmarks, duplicates, splits and patient leakage.

    Args:
        containment: inner structure -> outer structure that must contain it (default nucleus -> lens).
    Returns:
        a report; ``report.ok`` is False when any error was found.
    """
    ds = load_dataset(path)
    rep = ValidationReport(Path(path), len(ds))
    m = ds.manifest
    if m.modality not in MODALITIES:
        rep.add(ERROR, "manifest", "", f"modality {m.modality!r} is not one of {', '.join(MODALITIES)}")
    ids = [s.id for s in m.structures]
    if len(set(ids)) != len(ids) or any(not 1 <= i <= 16 for i in ids):
        rep.add(ERROR, "manifest", "", f"structure ids must be unique and within 1..16, got {ids}")
    if not ds.cases:
        rep.add(ERROR, "empty", "", "the dataset has no cases")
    if m.spacing_mm is not None and not _good_spacing(m.spacing_mm):
        rep.add(ERROR, "spacing", "", f"dataset.json: spacing_mm {m.spacing_mm} is not two finite positive numbers")
    _check_cases(ds, rep, containment if containment is not None else {"nucleus": "lens"})
    _check_splits(ds, rep)
    _check_reference(ds, rep)
    return rep


def _check_cases(ds: CanonicalDataset, rep: ValidationReport, containment: dict[str, str]) -> None:
    seen_ids: set[str] = set()
    hashes: dict[str, str] = {}
    names = ds.structures
    max_bit = max((s.id for s in ds.manifest.structures), default=0)
    for c in ds.cases:
        if c.case_id in seen_ids:
            rep.add(ERROR, "duplicate", c.case_id, "duplicate case id")
        seen_ids.add(c.case_id)
        ipath = ds.root / c.image
        size = _check_image(ipath)
        if isinstance(size, str):
            rep.add(ERROR, "image", c.case_id, f"{c.image}: {size}")
            continue
        if size != (c.width, c.height):
            rep.add(ERROR, "size", c.case_id, f"image is {size[0]}x{size[1]}, cases.csv says {c.width}x{c.height}")
        digest = hashlib.blake2b(ipath.read_bytes(), digest_size=16).hexdigest()
        if digest in hashes:
            rep.add(ERROR, "duplicate", c.case_id, f"same image bytes as case {hashes[digest]}")
        hashes.setdefault(digest, c.case_id)
        if c.spacing is not None and not _good_spacing(c.spacing):
            rep.add(ERROR, "spacing", c.case_id, f"pixel spacing {c.spacing} is not two finite positive numbers")
        for name, pt in c.landmarks.items():
            if pt is not None and not (-0.5 <= pt[0] <= c.width - 0.5 and -0.5 <= pt[1] <= c.height - 0.5):
                rep.add(ERROR, "landmark", c.case_id, f"{name} ({pt[0]:g}, {pt[1]:g}) lies outside the image")
        if c.mask:
            _check_mask(ds, c, rep, names, max_bit, containment)
        elif names:
            rep.add(WARNING, "mask", c.case_id, "no mask file (all structures empty)")


def _check_mask(ds, c, rep: ValidationReport, names: list[str], max_bit: int, containment: dict[str, str]) -> None:
    mpath = ds.root / c.mask
    if not mpath.is_file():
        rep.add(ERROR, "mask", c.case_id, f"{c.mask}: mask file missing")
        return
    try:
        packed = read_mask_png(mpath)
    except Exception:
        rep.add(ERROR, "mask", c.case_id, f"{c.mask}: unreadable mask")
        return
    if packed.shape != (c.height, c.width):
        rep.add(
            ERROR,
            "size",
            c.case_id,
            f"mask is {packed.shape[1]}x{packed.shape[0]}, image is {c.width}x{c.height}",
        )
        return
    if max_bit < packed.dtype.itemsize * 8 and int(packed.max()) >> max_bit:
        rep.add(ERROR, "mask", c.case_id, f"{c.mask}: has bits beyond the {max_bit} declared structures")
    masks = ds.load_masks(c)
    areas = masks.reshape(len(names), -1).sum(axis=1)
    for name, area in zip(names, areas, strict=True):
        if area == 0:
            rep.add(WARNING, "empty", c.case_id, f"structure {name!r} is empty")
    for inner, outer in containment.items():
        if inner in names and outer in names:
            mi, mo = masks[names.index(inner)], masks[names.index(outer)]
            out = int((mi & (1 - mo)).sum())
            if mi.sum() and out > 0.01 * mi.sum():
                rep.add(WARNING, "anatomy", c.case_id, f"{out} px of {inner!r} lie outside {outer!r}")


def _check_splits(ds: CanonicalDataset, rep: ValidationReport) -> None:
    parts: dict[str, set[str]] = defaultdict(set)
    folds: dict[str, set[int]] = defaultdict(set)
    for c in ds.cases:
        if c.split not in SPLITS:
            rep.add(ERROR, "split", c.case_id, f"split {c.split!r} is not one of train, val, test")
        if c.split:
            parts[c.patient_id].add(c.split)
        if c.fold is not None:
            folds[c.patient_id].add(c.fold)
        if c.group and c.group not in DIAGNOSIS_GROUPS and ds.manifest.modality == "asoct":
            rep.add(WARNING, "group", c.case_id, f"unknown diagnosis group {c.group!r}")
    for pid, s in parts.items():
        if len(s) > 1:
            rep.add(ERROR, "leakage", pid, f"patient {pid!r} is in several splits: {', '.join(sorted(s))}")
    for pid, f in folds.items():
        if len(f) > 1:
            rep.add(ERROR, "leakage", pid, f"patient {pid!r} is in several folds: {sorted(f)}")
    if any(c.split for c in ds.cases) and any(not c.split for c in ds.cases):
        rep.add(WARNING, "split", "", "some cases have a split and others none")


def _check_reference(ds: CanonicalDataset, rep: ValidationReport) -> None:
    ref = ds.manifest.reference_biometry
    if not ref:
        return
    try:
        table = read_reference(ds.root / ref, MEASURES, "reference biometry")
    except AntsegInputError as exc:
        rep.add(ERROR, "reference", "", f"{ref}: {exc.problem}")
        return
    known = {c.case_id for c in ds.cases}
    for key in table.rows:
        if key not in known and Path(key).stem not in known:
            rep.add(ERROR, "reference", key, f"{ref}: case not in cases.csv")


def _good_spacing(sp: tuple[float, float]) -> bool:
    try:
        checks.spacing(sp)
    except AntsegInputError:
        return False
    return True
