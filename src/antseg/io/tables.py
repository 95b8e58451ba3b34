"""The one table writer: CSV and JSON files (atomic), CSV text, and CSV reading."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from antseg.io.atomic import atomic_write_text


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
