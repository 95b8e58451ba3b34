"""Content fingerprints of files: what a resumed run compares to know it is using the same model."""

from __future__ import annotations

import hashlib
from pathlib import Path

from antseg.errors import AntsegInputError


def file_sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in 1 MiB blocks (a 500 MB checkpoint takes about half a second)."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    except OSError as exc:
        raise AntsegInputError(path, f"cannot be read ({exc.strerror or exc})") from None
    return h.hexdigest()
