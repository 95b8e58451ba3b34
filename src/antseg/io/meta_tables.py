"""The tables users write themselves: ``--meta`` (scan -> patient, eye, group) and ``--reference`` (scan ->
measured values), as saved by spreadsheets. One reader for all of them: each quirk of real files is either read
correctly or refused in one line naming the file and the row.

Read correctly: UTF-8 with or without a byte-order mark, UTF-16 with one (Excel's "Unicode text"), Windows-1252 /
Latin-1 (older Excel exports); ``,``, ``;`` or tab as the separator (the header line decides; with ``;`` or tab a
decimal comma is read too); header names in any case, with spaces or hyphens (``Patient ID`` is ``patient_id``);
blank lines and trailing empty cells; eyes written R/L, OD/OS or right/left in any case; empty, ``NA`` or ``-``
cells in number columns (no value); an image given with its folder (only the file name is matched); a row repeated
identically.

Refused (:class:`~antseg.errors.AntsegInputError`): a missing file, a folder, binary data, an undecodable file, a
broken quote, a row with fewer or more cells than the header, a header without a key column (``image`` or
``case_id``), two rows for the same scan that disagree, an unknown eye, text or an implausible value in a number
column.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from antseg import checks
from antseg.anatomy import eye_of
from antseg.errors import AntsegInputError

#: The largest table read (bytes): a table of scans is far smaller.
MAX_TABLE_BYTES = 50 << 20
#: Cells that mean "no value" in a number column (compared lower-cased).
MISSING_CELLS = frozenset({"", "na", "n/a", "nan", "-", "--", "none", "null"})
#: The largest magnitude of a reference measure (mm or mm2): the anterior segment is about 12 mm across, so a value
#: beyond this is a unit or typing error (and would break the statistics).
MAX_REFERENCE_VALUE = 100.0
KEY_COLUMNS = ("image", "case_id")
SEPARATORS = (",", ";", "\t")


@dataclass
class Table:
    """A CSV file as read: ``columns`` (normalised names) and ``rows`` as (line number, column -> cell)."""

    path: Path
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]
    separator: str = ","


@dataclass
class KeyedTable:
    """One row per scan, keyed by ``image`` (a file name) or ``case_id`` (a file stem).

    Attributes:
        rows: the key cell -> the row (meta: text cells; reference: measure -> float, NaN where empty).
        index: ``rows`` reachable by the key and, for ``image`` keys, also by the file stem (when no other row
            has the same stem): what :meth:`find` looks in.
        lines: the key cell -> the line the row came from.
    """

    path: Path
    key: str
    rows: dict[str, dict] = field(default_factory=dict)
    index: dict[str, dict] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)

    def find(self, name: str | Path) -> dict | None:
        """The row of a scan, by its file name (``a.png``) or its stem (``a``)."""
        p = Path(str(name))
        return self.index.get(p.name) or self.index.get(p.stem)

    def match_warnings(self, scans: Sequence[Path | str], what: str, unmatched_means: str) -> list[str]:
        """Warnings when rows and scans do not match up: no scan has a row (``unmatched_means`` says what then
        happens), some scans have none, or rows name no scan (a typing error, or the wrong file)."""
        names = [Path(str(s)) for s in scans]
        hits = [n for n in names if self.find(n) is not None]
        out = []
        if names and not hits:
            out.append(
                f"{what} {self.path}: none of its {len(self.rows)} rows matches any of the {len(names)} scans "
                f"(by {self.key}): {unmatched_means}"
            )
            return out
        missing = [n.name for n in names if self.find(n) is None]
        if missing:
            out.append(f"{what} {self.path}: {len(missing)} of {len(names)} scans have no row ({_some(missing)})")
        used = {id(self.find(n)) for n in hits}
        unused = [k for k, r in self.rows.items() if id(r) not in used]
        if unused:
            out.append(f"{what} {self.path}: {len(unused)} rows match no scan ({_some(unused)})")
        return out


def _some(items: list[str], n: int = 3) -> str:
    return ", ".join(items[:n]) + (", ..." if len(items) > n else "")


# -- text ------------------------------------------------------------------------------------------------------


def _read_text(path: Path, what: str) -> str:
    if path.is_dir():
        raise AntsegInputError(path, f"{what} is a folder, not a CSV file")
    try:
        size = path.stat().st_size
        if size > MAX_TABLE_BYTES:
            raise AntsegInputError(path, f"{what} is {size >> 20} MiB: larger than a table of scans can be")
        data = path.read_bytes()
    except FileNotFoundError:
        raise AntsegInputError(path, f"{what} not found") from None
    except OSError as exc:
        raise AntsegInputError(path, f"{what} cannot be read ({exc.strerror or exc})") from None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise AntsegInputError(path, f"{what} is not a text CSV file (broken UTF-16)") from None
    elif b"\x00" in data:
        raise AntsegInputError(path, f"{what} is not a text CSV file (binary data)")
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("cp1252")  # Windows' Latin-1: what older spreadsheets save
            except UnicodeDecodeError:
                raise AntsegInputError(
                    path, f"{what} is not a text CSV file (neither UTF-8 nor Windows-1252/Latin-1)"
                ) from None
    bad = next((ch for ch in text if (ord(ch) < 32 and ch not in "\t\r\n") or ch == "\x7f"), None)
    if bad is not None:
        raise AntsegInputError(path, f"{what} is not a text CSV file (control character {bad!r})")
    return text


def _separator(text: str) -> str:
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    counts = {s: header.count(s) for s in SEPARATORS}
    best = max(SEPARATORS, key=lambda s: counts[s])
    return best if counts[best] else ","


def column_name(name: str) -> str:
    """A header cell as antseg names columns: ``" Patient ID"`` -> ``patient_id``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def read_table(path: str | Path, what: str = "table") -> Table:
    """A CSV file with a header line, read as the module docstring says.

    Args:
        what: the flag or role of the file (``--meta``), for the messages.
    """
    path = Path(path)
    text = _read_text(path, what)
    sep = _separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        header: list[str] | None = None
        rows: list[tuple[int, dict[str, str]]] = []
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue  # a blank line, or a row of empty cells
            if header is None:
                header = _header(path, what, cells)
                continue
            cells = _fit(path, reader.line_num, cells, len(header))
            rows.append((reader.line_num, {c: v.strip() for c, v in zip(header, cells, strict=False) if c}))
    except csv.Error as exc:
        why = {"unexpected end of data": 'a quote (") is opened and never closed'}.get(str(exc), str(exc))
        raise AntsegInputError(path, f"{what}: line {reader.line_num}: not valid CSV ({why})") from None
    if header is None:
        raise AntsegInputError(path, f"{what} is empty (no header line)")
    return Table(path, [c for c in header if c], rows, sep)


def _header(path: Path, what: str, cells: list[str]) -> list[str]:
    names = [column_name(c) for c in cells]
    while names and not names[-1]:
        names.pop()  # trailing empty header cells (a spreadsheet's unused columns)
    seen: set[str] = set()
    for i, n in enumerate(names):
        if not n:
            raise AntsegInputError(path, f"{what}: column {i + 1} of the header has no name")
        if n in seen:
            raise AntsegInputError(path, f"{what}: column {n!r} appears twice in the header")
        seen.add(n)
    return names


def _fit(path: Path, line: int, cells: list[str], n: int) -> list[str]:
    """The row's cells, one per column: trailing empty cells beyond the header are dropped; a row with fewer or
    more cells is refused (which cell is missing cannot be known)."""
    while len(cells) > n and not cells[-1].strip():
        cells = cells[:-1]
    if len(cells) != n:
        raise AntsegInputError(path, f"row {line} has {len(cells)} cells but the header has {n}")
    return cells


# -- keyed tables ----------------------------------------------------------------------------------------------


def _key_column(table: Table, what: str) -> str:
    key = next((k for k in KEY_COLUMNS if k in table.columns), None)
    if key is None:
        raise AntsegInputError(
            table.path, f"{what} needs an 'image' (file name) or 'case_id' (file stem) column; it has "
            f"{', '.join(table.columns) or 'none'}"
        )  # fmt: skip
    return key


def _keyed(table: Table, what: str, rows: Iterable[tuple[int, str, dict]]) -> KeyedTable:
    """Rows (line, key cell, parsed row) -> a keyed table; a repeated key must repeat the same row."""
    key = _key_column(table, what)
    out = KeyedTable(table.path, key)
    for line, k, row in rows:
        if not k:
            raise AntsegInputError(table.path, f"row {line}: empty {key}")
        if k in out.rows:
            if _same(out.rows[k], row):
                continue
            raise AntsegInputError(
                table.path, f"row {line}: {key} {k!r} is listed twice (also row {out.lines[k]}) with other values"
            )
        out.rows[k], out.lines[k] = row, line
    stems: dict[str, list[str]] = {}
    for k in out.rows:
        stems.setdefault(Path(k).stem, []).append(k)
    for k, row in out.rows.items():
        out.index[k] = row
    if key == "image":
        for stem, ks in stems.items():
            if len(ks) == 1 and stem not in out.index:
                out.index[stem] = out.rows[ks[0]]
    return out


def _same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        a[k] == b[k] or (isinstance(a[k], float) and math.isnan(a[k]) and math.isnan(b[k])) for k in a
    )


def _key_cell(row: dict[str, str], key: str) -> str:
    cell = row.get(key, "")
    return cell.replace("\\", "/").rsplit("/", 1)[-1] if key == "image" else cell


def eye_code(value: str, path: Path | None = None, where: str = "eye") -> str:
    """``R`` or ``L`` for an eye written R/L, OD/OS, right/left (any case); ``""`` for an empty cell."""
    eye = eye_of(value)
    if eye is None:
        raise AntsegInputError(path, f"{where} {value!r} is not an eye: write R/L, OD/OS or right/left")
    return eye


def read_meta(
    path: str | Path, what: str = "--meta", needs: Sequence[str] = ("patient_id",), optional: Sequence[str] = ("eye",)
) -> KeyedTable:
    """Scan -> {"patient_id", "eye" (``R``/``L``/``""``), "group", ...} (text cells, stripped).

    Args:
        needs: columns the table must have (any one of them, when several are listed).
        optional: columns read when present (named in the error when ``needs`` are missing).
    """
    table = read_table(path, what)
    key = _key_column(table, what)
    if needs and not any(c in table.columns for c in needs):
        cols = " or ".join(repr(c) for c in needs)
        also = f" (and optionally {', '.join(optional)})" if optional else ""
        raise AntsegInputError(table.path, f"{what} needs a {cols} column{also}; it has {', '.join(table.columns)}")

    def parsed(line: int, row: dict[str, str]) -> dict[str, str]:
        if "eye" in row:
            row = {**row, "eye": eye_code(row["eye"], table.path, f"row {line}: eye")}
        return row

    return _keyed(table, what, ((ln, _key_cell(r, key), parsed(ln, r)) for ln, r in table.rows))


def read_reference(path: str | Path, measures: Sequence[str], what: str = "--reference") -> KeyedTable:
    """Scan -> {measure: value} for the ``measures`` columns the table has (NaN where a cell is empty or ``NA``).

    Each value must be a number within +-:data:`MAX_REFERENCE_VALUE` (mm or mm2); with ``;`` or tab as the
    separator a decimal comma is read as well.
    """
    table = read_table(path, what)
    key = _key_column(table, what)
    cols = [m for m in measures if m in table.columns]
    if not cols:
        raise AntsegInputError(
            table.path, f"{what} has none of the measure columns ({', '.join(measures)}): nothing to compare"
        )
    comma = table.separator != ","

    def value(line: int, col: str, cell: str) -> float:
        if cell.lower() in MISSING_CELLS:
            return math.nan
        text = cell.replace(",", ".") if comma else cell
        return checks.number(text, f"row {line}: {col}", path=table.path, minimum=-MAX_REFERENCE_VALUE,
                             maximum=MAX_REFERENCE_VALUE)  # fmt: skip

    rows = ((ln, _key_cell(r, key), {c: value(ln, c, r[c]) for c in cols}) for ln, r in table.rows)
    return _keyed(table, what, rows)
