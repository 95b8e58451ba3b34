"""Patients and eyes from file names: the one home of the name patterns antseg knows.

- CASIA exports: ``722_20230329_123031_R_CASIA2_001_000.jpg`` -> patient ``722``, eye ``R``.
- A numbered series of one eye's radial scans: ``T0004-01.jpg`` ... ``T0004-16.jpg`` -> patient ``T0004`` (used
  only when at least two files share the prefix, so ``scan1.png`` alone stays its own eye).
- A user's own pattern: a regular expression with a ``(?P<patient>...)`` group and optionally ``(?P<eye>...)``.
"""

from __future__ import annotations

import re

from antseg.anatomy import eye_of
from antseg.errors import AntsegInputError

#: CASIA file names: ``722_20230329_123031_R_CASIA2_001_000.jpg`` -> patient 722, eye R.
CASIA_PATTERN = r"^(?P<patient>[^_]+)_\d{8}_\d{6}_(?P<eye>[LR])_"
#: A numbered series: ``T0004-01`` -> ``T0004`` (the scan number is 1-3 digits after ``-``, ``_`` or a space).
SERIES_PATTERN = re.compile(r"^(?P<patient>.*?[^-_ ])[-_ ](?P<scan>\d{1,3})$")


def normalize_eye(text: str | None) -> str:
    """``R`` or ``L`` for the usual ways of writing an eye (:func:`antseg.anatomy.eye_of`); ``""`` for an empty or
    unknown value (``OU``, ``both``, ...): a name that does not say which eye leaves it open."""
    return eye_of(text) or ""


def compile_patient_regex(regex: str, flag: str = "--patient-regex") -> re.Pattern[str]:
    """A user's name pattern: a valid regular expression with a ``(?P<patient>...)`` group."""
    try:
        rx = re.compile(regex)
    except re.error as exc:
        raise AntsegInputError(None, f"{flag} {regex!r} is not a valid regular expression ({exc})") from None
    if "patient" not in rx.groupindex:
        raise AntsegInputError(None, f"{flag} {regex!r} needs a (?P<patient>...) group")
    return rx


def match_name(name: str, rx: re.Pattern[str]) -> tuple[str, str] | None:
    """(patient, eye) from ``name`` by ``rx`` (eye normalised), or None when it does not match."""
    m = rx.search(name)
    if not m or not m.groupdict().get("patient"):
        return None
    return m["patient"], normalize_eye(m.groupdict().get("eye"))


CASIA = re.compile(CASIA_PATTERN)
