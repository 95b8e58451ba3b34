"""The one table writer: CSV and JSON files (atomic), CSV text, and CSV reading."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from antseg.io.atomic import atomic_write_text
from antseg.io.output_folder import fix_mode


def columns_of(rows: Iterable[dict]) -> list[str]:
    """Every key of ``rows``, in order of first appearance."""
    cols: list[str] = []
    for r in rows:
        cols += [k for k in r if k not in cols]
    return cols


def _cell(v: Any, blank_nan: bool) -> Any:
    return "" if blank_nan and isinstance(v, float) and math.isnan(v) else v


def csv_text(rows: list[dict], columns: list[str] | None = None, blank_nan: bool = False) -> str:
    """CSV text with a header row; ``columns`` defaults to every key of ``rows`` (missing cells are empty).

    Args:
        blank_nan: write NaN (a value that could not be measured) as an empty cell instead of ``nan``.
    """
    cols = columns if columns is not None else columns_of(rows)
    if not cols:
        return ""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", restval="")
    w.writeheader()
    for r in rows:
        w.writerow({k: _cell(v, blank_nan) for k, v in r.items()})
    return buf.getvalue()


def write_csv(path: str | Path, rows: list[dict], columns: list[str] | None = None, blank_nan: bool = False) -> None:
    """Write ``rows`` as CSV atomically (an empty file when there are neither rows nor columns)."""
    atomic_write_text(path, csv_text(rows, columns, blank_nan))


@contextlib.contextmanager
def _atomic_text_file(path: str | Path) -> Iterator[io.TextIOBase]:
    """A text file handle whose contents replace ``path`` atomically when the block ends without error."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            yield fh
        fix_mode(tmp, folder=False)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def stream_csv(path: str | Path, rows: Iterable[dict], columns: list[str], blank_nan: bool = False) -> int:
    """Write rows one at a time (memory stays flat however many there are), atomically; returns the row count."""
    n = 0
    with _atomic_text_file(path) as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n", restval="", extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(v, blank_nan) for k, v in r.items()})
            n += 1
    return n


def stream_json_list(path: str | Path, items: Iterable[Any]) -> int:
    """Write a JSON list one item at a time (NaN written as null), atomically; returns the item count."""
    n = 0
    with _atomic_text_file(path) as fh:
        fh.write("[")
        for item in items:
            fh.write(("," if n else "") + "\n  " + json.dumps(json_safe(item)))
            n += 1
        fh.write("\n]\n" if n else "]\n")
    return n


def read_csv(path: str | Path) -> list[dict[str, str]]:
    """Rows of a CSV file with a header, as strings."""
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def json_safe(v: Any) -> Any:
    """NaN -> None (JSON has no NaN), recursively through dicts, lists and tuples."""
    if isinstance(v, float) and math.isnan(v):
        return None
    if isinstance(v, dict):
        return {k: json_safe(x) for k, x in v.items()}
    if isinstance(v, list | tuple):
        return [json_safe(x) for x in v]
    return v


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as indented JSON atomically (NaN written as null)."""
    atomic_write_text(path, json.dumps(json_safe(obj), indent=2) + "\n")
