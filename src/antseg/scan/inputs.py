"""The scans a command reads, each with its metadata and the pixel spacing it is measured with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.inference.inputs import collect_inputs
from antseg.io.scan_meta import NO_SPACING, ScanMeta, resolve_spacing, scan_metadata


@dataclass
class ScanInput:
    """One scan to process.

    Attributes:
        path: the file (or a frame of a multi-frame DICOM, ``scan#002.dcm``).
        meta: what the file says about itself (spacing, eye, pseudonymous patient for DICOM).
        spacing: (x, y) mm per pixel to measure with (None: unknown).
        notes: what the reader must be told about the spacing (an override of the file's own, ...).
    """

    path: Path
    meta: ScanMeta
    spacing: tuple[float, float] | None
    notes: list[str] = field(default_factory=list)


def scan_inputs(
    inputs: list[Path],
    given: tuple[float, float] | None,
    fallback: tuple[float, float] | None,
    need_spacing: bool = True,
    identifiers: bool = False,
) -> list[ScanInput]:
    """Every scan of ``inputs`` (files, folders, DICOM frames) with its spacing: ``given`` (``--spacing``), else the
    file's own (DICOM), else ``fallback`` (the model's) for an image file. Headers only: nothing is decoded.

    Args:
        need_spacing: refuse, before any work, a DICOM without spacing when none is given (measures need one).
        identifiers: read patient IDs, names and birth dates (otherwise a pseudonym).

    Raises:
        AntsegInputError: a missing input, two scans of one name, a DICOM without spacing (``need_spacing``).
    """
    out = []
    for f in collect_inputs([Path(p) for p in inputs]):
        meta = scan_metadata(f, identifiers=identifiers)
        spacing, notes = resolve_spacing(meta, given, fallback)
        out.append(ScanInput(f, meta, spacing, notes))
    missing = [s.path for s in out if s.meta.source == "dicom" and s.spacing is None]
    if missing and need_spacing:
        more = f" (and {len(missing) - 1} more scans)" if len(missing) > 1 else ""
        raise AntsegInputError(missing[0], NO_SPACING + more)
    return out
