"""Input discovery for prediction: image files from files and folders."""

from __future__ import annotations

from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.io.images import IMAGE_SUFFIXES


def collect_inputs(inputs: list[Path]) -> list[Path]:
    """Image files from files and folders (folders: their images, sorted; not recursive)."""
    files: list[Path] = []
    for p in inputs:
        if p.is_dir():
            found = sorted(f for f in p.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
            if not found:
                raise AntsegInputError(p, "folder holds no images")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise AntsegInputError(p, "does not exist")
    return files
