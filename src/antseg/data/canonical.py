"""Read and write the canonical dataset folder: ``dataset.json``, ``cases.csv``, ``images/``, ``masks/``."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.data.masks import pack_masks, unpack_masks
from antseg.data.schema import BASE_COLUMNS, Case, Manifest
from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_write_text
from antseg.io.images import read_image, read_mask_png, write_png
from antseg.io.tables import csv_text

MANIFEST = "dataset.json"
CASES = "cases.csv"


def write_mask(root: Path, case_id: str, masks: np.ndarray) -> str:
    """Write the (N, H, W) binary masks of a case as ``masks/<case_id>.png``; returns the relative path."""
    rel = f"masks/{case_id}.png"
    (root / "masks").mkdir(exist_ok=True)
    write_png(root / rel, pack_masks(masks))
    return rel


def cases_to_csv(cases: list[Case], landmarks: list[str]) -> str:
    """Serialise cases to CSV text (fixed base columns, landmark x/y columns, then extra columns)."""
    extra_cols: list[str] = []
    for c in cases:
        extra_cols += [k for k in c.extra if k not in extra_cols]
    cols = BASE_COLUMNS + [f"{n}_{a}" for n in landmarks for a in "xy"] + extra_cols
    return csv_text([c.to_row(landmarks) for c in cases], cols)


def write_dataset_files(root: Path, manifest: Manifest, cases: list[Case]) -> None:
    """Write ``dataset.json`` and ``cases.csv`` into ``root`` (each atomically)."""
    atomic_write_text(root / MANIFEST, json.dumps(manifest.to_json(), indent=2) + "\n")
    atomic_write_text(root / CASES, cases_to_csv(cases, manifest.landmarks))


def _parse_case(row: dict[str, str], landmarks: list[str], path: Path, line: int) -> Case:
    try:
        lms: dict[str, tuple[float, float] | None] = {}
        for n in landmarks:
            x, y = row.get(f"{n}_x", ""), row.get(f"{n}_y", "")
            lms[n] = (float(x), float(y)) if x != "" and y != "" else None
        sx, sy = row.get("spacing_x", ""), row.get("spacing_y", "")
        known = set(BASE_COLUMNS) | {f"{n}_{a}" for n in landmarks for a in "xy"}
        for n in landmarks:
            if ((row.get(f"{n}_x") or "") == "") != ((row.get(f"{n}_y") or "") == ""):
                raise ValueError(f"{n} has one of x and y: give both or neither")
        return Case(
            case_id=checks.file_name(row["case_id"], "case_id", f"{path}: line {line}"),
            patient_id=row["patient_id"],
            image=checks.relative_path(row["image"], "image", f"{path}: line {line}"),
            width=int(row["width"]),
            height=int(row["height"]),
            mask=checks.relative_path(row["mask"], "mask", f"{path}: line {line}") if row.get("mask") else "",
            eye=row.get("eye", ""),
            group=row.get("group", ""),
            split=row.get("split", ""),
            fold=int(row["fold"]) if row.get("fold") else None,
            spacing=(float(sx), float(sy)) if sx and sy else None,
            landmarks=lms,
            extra={k: v for k, v in row.items() if k not in known and k is not None},
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise AntsegInputError(path, f"line {line}: malformed row ({exc})") from None


@dataclass
class CanonicalDataset:
    """A canonical dataset on disk.

    Attributes:
        root: the dataset folder.
        manifest: parsed ``dataset.json``.
        cases: rows of ``cases.csv`` in file order.
    """

    root: Path
    manifest: Manifest
    cases: list[Case] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[Case]:
        return iter(self.cases)

    @property
    def structures(self) -> list[str]:
        return self.manifest.structure_names

    @property
    def landmarks(self) -> list[str]:
        return self.manifest.landmarks

    def subset(self, split: str | None = None, fold: int | None = None, exclude_fold: bool = False) -> list[Case]:
        """Cases of one split, or of one fold (``exclude_fold`` gives the training part of that fold)."""
        out = self.cases
        if split is not None:
            out = [c for c in out if c.split == split]
        if fold is not None:
            out = [c for c in out if (c.fold == fold) != exclude_fold and c.fold is not None]
        return out

    def case(self, case_id: str) -> Case:
        for c in self.cases:
            if c.case_id == case_id:
                return c
        raise KeyError(case_id)

    def spacing(self, case: Case) -> tuple[float, float] | None:
        """Pixel spacing (x, y) in mm of a case: its own, else the dataset's, else None."""
        return case.spacing or self.manifest.spacing_mm

    def load_image(self, case: Case, grayscale: bool = False) -> np.ndarray:
        """The case's image: (H, W) uint8 if grayscale else (H, W, 3) RGB uint8."""
        return read_image(self.root / case.image, grayscale=grayscale)

    def load_masks(self, case: Case) -> np.ndarray:
        """The case's structure masks (N, H, W) uint8 in {0, 1}, in ``self.structures`` order.

        A case without a mask file gives all-zero masks.
        """
        n = len(self.manifest.structures)
        if not case.mask:
            return np.zeros((n, case.height, case.width), np.uint8)
        packed = read_mask_png(self.root / case.mask)
        ids = [s.id for s in self.manifest.structures]
        full = unpack_masks(packed, max(ids, default=0))
        return full[[i - 1 for i in ids]]

    def save(self) -> None:
        """Rewrite ``dataset.json`` and ``cases.csv`` (atomically) after changing cases or manifest."""
        write_dataset_files(self.root, self.manifest, self.cases)


def load_dataset(path: str | Path) -> CanonicalDataset:
    """Load a canonical dataset folder (``dataset.json`` + ``cases.csv``).

    Raises:
        AntsegInputError: when the folder, the manifest or the table is missing or malformed.
    """
    root = Path(path)
    if not root.is_dir():
        raise AntsegInputError(root, "not a dataset folder")
    mpath = root / MANIFEST
    try:
        doc = json.loads(mpath.read_text(encoding="utf-8"))
        if not isinstance(doc, dict):
            raise ValueError(f"a JSON object is needed, not {type(doc).__name__}")
        manifest = Manifest.from_json(doc)
    except FileNotFoundError:
        raise AntsegInputError(mpath, "missing (not a canonical dataset)") from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError, UnicodeDecodeError) as exc:
        raise AntsegInputError(mpath, f"malformed manifest ({exc})") from None
    cpath = root / CASES
    try:
        with open(cpath, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except FileNotFoundError:
        raise AntsegInputError(cpath, "missing") from None
    cases = [_parse_case(r, manifest.landmarks, cpath, i + 2) for i, r in enumerate(rows)]
    return CanonicalDataset(root=root, manifest=manifest, cases=cases)
