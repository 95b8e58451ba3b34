"""A manifest: a CSV file listing the scans of a run, one per row, for archives too large for a folder argument.

The file has a header line with a ``path`` column (``file``, ``image`` and ``scan`` are read as ``path`` too);
other columns are allowed and ignored here (``--meta`` can be the same file). A relative path is taken from the
manifest's own folder, so a manifest travels with its scans. The CSV quirks of spreadsheets (encodings,
separators, blank lines) are read as for every table antseg reads (:func:`antseg.io.meta_tables.read_table`).

Refused with a one-line error naming the manifest and the row: a path that does not exist, a path listed twice,
an empty path, a header without a path column.
"""

from __future__ import annotations

import os
from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.io.dicom_read import split_frame
from antseg.io.meta_tables import read_table

#: A file given as a scan with one of these suffixes is read as a manifest.
MANIFEST_SUFFIXES = (".csv",)
#: Header names of the column holding the scans' paths, in order of preference.
PATH_COLUMNS = ("path", "file", "image", "scan")


def is_manifest(path: Path) -> bool:
    """True when ``path`` names a manifest (a ``.csv`` file)."""
    return path.suffix.lower() in MANIFEST_SUFFIXES and path.is_file()


def read_manifest(path: str | Path) -> list[Path]:
    """The scans a manifest lists, in its order (relative paths resolved against its folder).

    Raises:
        AntsegInputError: naming the manifest, the row and the problem (see the module docstring).
    """
    path = Path(path)
    table = read_table(path, "manifest")
    column = next((c for c in PATH_COLUMNS if c in table.columns), None)
    if column is None:
        raise AntsegInputError(
            path, f"manifest needs a 'path' column (the scans' files); it has {', '.join(table.columns) or 'none'}"
        )
    if not table.rows:
        raise AntsegInputError(path, "manifest lists no scans")
    base = path.parent
    seen: dict[Path, int] = {}
    out: list[Path] = []
    for line, row in table.rows:
        cell = row.get(column, "")
        if not cell:
            raise AntsegInputError(path, f"row {line}: empty {column}")
        scan = Path(cell).expanduser()
        scan = scan if scan.is_absolute() else base / scan
        file = split_frame(scan)[0]  # ``scan#002.dcm``: one frame of a multi-frame DICOM
        if not file.is_file():
            what = "is a folder: list its scans" if file.is_dir() else "does not exist"
            raise AntsegInputError(path, f"row {line}: {cell} {what}")
        key = Path(os.path.normpath(os.path.abspath(scan)))
        if key in seen:
            raise AntsegInputError(path, f"row {line}: {cell} is listed twice (also row {seen[key]})")
        seen[key] = line
        out.append(scan)
    return out
