"""Which scans belong to one eye: from ``--meta``, ``--eye-regex``, CASIA names, or a numbered series."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from antseg.data.naming import CASIA, SERIES_PATTERN, compile_patient_regex, match_name, normalize_eye


def scan_eyes(
    files: list[Path], meta: dict[str, dict[str, str]] | None = None, eye_regex: str | None = None,
    own: list[tuple[str, str] | None] | None = None,
) -> list[tuple[str, str]]:  # fmt: skip
    """(patient, eye) of each scan, eye ``R``/``L``/``""``. The first rule that applies wins:

    1. a ``meta`` row (keyed by file name or stem) with a ``patient_id`` (and ``eye``);
    2. what the file says of itself (``own``, per file: a DICOM's patient and laterality, or None);
    3. ``eye_regex`` (``(?P<patient>...)`` and optionally ``(?P<eye>...)``) on the file stem;
    4. a CASIA export name;
    5. a numbered series (``T0004-01``, ``T0004-02``: patient ``T0004``) when at least two scans share it;
    6. otherwise the scan is its own eye (its stem).
    """
    rx = compile_patient_regex(eye_regex, "--eye-regex") if eye_regex else None
    series = [SERIES_PATTERN.match(f.stem) for f in files]
    shared = Counter(m["patient"] for m in series if m)
    out = []
    for k, (f, s) in enumerate(zip(files, series, strict=True)):
        row = (meta or {}).get(f.name) or (meta or {}).get(f.stem)
        if row and row.get("patient_id"):
            out.append((row["patient_id"], normalize_eye(row.get("eye"))))
            continue
        if own is not None and own[k] is not None:
            out.append(own[k])
            continue
        found = (match_name(f.stem, rx) if rx else None) or match_name(f.name, CASIA)
        if found is None and s and shared[s["patient"]] > 1:
            found = (s["patient"], "")
        out.append(found or (f.stem, ""))
    return out
