"""AGE challenge spur table importer (CSV or XLSX: ``ASOCT_Name, Left_Label, X1, Y1, Right_Label, X2, Y2``)."""

from __future__ import annotations

import csv
from pathlib import Path

from antseg import checks
from antseg.anatomy import ASOCT_LANDMARK_NAMES, ASOCT_VOCAB, spur_name
from antseg.data.importers.pipeline import index_images, run_import, safe_case_id
from antseg.data.importers.records import ImportOptions, ImportResult, SourceCase
from antseg.data.importers.registry import IMPORTERS
from antseg.errors import AntsegInputError

COLUMNS = ("ASOCT_Name", "Left_Label", "X1", "Y1", "Right_Label", "X2", "Y2")


def read_table(path: Path) -> list[tuple[int, dict[str, str]]]:
    """Rows of a CSV or XLSX table as (line number, {header: text}); every row must have every column."""
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        try:
            import openpyxl

            wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
            rows = [["" if v is None else str(v) for v in r] for r in wb.active.iter_rows(values_only=True)]
            wb.close()
        except Exception as exc:  # openpyxl raises many types for broken files
            raise AntsegInputError(path, f"unreadable spreadsheet ({type(exc).__name__})") from None
    else:
        try:
            with open(path, newline="", encoding="utf-8-sig") as fh:
                rows = list(csv.reader(fh))
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            raise AntsegInputError(path, f"cannot read as CSV ({exc})") from None
    numbered = [(i, r) for i, r in enumerate(rows, start=1) if any(c.strip() for c in r)]
    if not numbered:
        raise AntsegInputError(path, "empty table")
    head = [h.strip() for h in numbered[0][1]]
    missing = [c for c in COLUMNS if c not in head]
    if missing:
        raise AntsegInputError(path, f"missing column(s): {', '.join(missing)}")
    out = []
    for line, r in numbered[1:]:
        if len(r) < len(head) or any(c.strip() for c in r[len(head) :]):
            raise AntsegInputError(path, f"row {line}: has {len(r)} fields, the header has {len(head)}")
        out.append((line, dict(zip(head, r, strict=False))))
    return out


def _coord(path: Path, line: int, column: str, v: str) -> float:
    """A coordinate cell: a finite number (-1 and other negatives mean "not visible")."""
    return checks.number(v, f"row {line}: {column}", path=path)


def find_table(src: Path) -> Path:
    if src.is_file():
        return src
    tables = sorted(p for ext in ("*.csv", "*.xlsx") for p in src.rglob(ext))
    if len(tables) != 1:
        raise AntsegInputError(src, f"expected one .csv/.xlsx label table, found {len(tables)}")
    return tables[0]


@IMPORTERS.register("age")
def import_age(src: Path, out: Path, opts: ImportOptions, progress=None) -> ImportResult:
    """Import AGE spur labels: ``-1`` coordinates mean "spur not visible" and become empty cells.

    ``src`` is the folder holding the images and the table (or the table itself, images beside it).
    ``Left_Label``/``Right_Label`` (angle-closure grades) are kept as extra columns.
    """
    table = find_table(src)
    root = src if src.is_dir() else src.parent
    index = index_images(root)
    cases = []
    for i, r in read_table(table):
        name = (r.get("ASOCT_Name") or "").strip()
        if not name:
            raise AntsegInputError(table, f"row {i}: empty ASOCT_Name")
        hits = index.get(Path(name).stem, [])
        if len(hits) != 1:
            raise AntsegInputError(table, f"row {i}: image {name!r} {'not found' if not hits else 'is ambiguous'}")
        pts: dict[str, tuple[float, float] | None] = {}
        for side, xc, yc in (("left", "X1", "Y1"), ("right", "X2", "Y2")):
            x, y = _coord(table, i, xc, r[xc]), _coord(table, i, yc, r[yc])
            pts[spur_name(side)] = None if x < 0 or y < 0 else (x, y)
        cases.append(
            SourceCase(
                case_id=safe_case_id(Path(name).stem),
                source=hits[0],
                image_path=hits[0],
                points=pts,
                extra={
                    "left_angle_label": r["Left_Label"].strip(),
                    "right_angle_label": r["Right_Label"].strip(),
                },
            )
        )
    return run_import("age", root, out, cases, ASOCT_VOCAB, ASOCT_LANDMARK_NAMES, "asoct", opts, progress)
