"""Which scans are one eye: meta rows, a user's pattern, CASIA names, numbered series, else one eye per scan."""

from __future__ import annotations

from pathlib import Path

import pytest

from antseg.data.naming import normalize_eye
from antseg.errors import AntsegInputError
from antseg.report.grouping import scan_eyes


def _eyes(names, **kw):
    return scan_eyes([Path(n) for n in names], **kw)


def test_casia_names_numbered_series_and_singletons():
    names = ["722_20230329_123031_R_CASIA2_001_000.jpg", "T0004-01.jpg", "T0004-02.jpg", "scan1.png", "eye_3.png"]
    assert _eyes(names) == [("722", "R"), ("T0004", ""), ("T0004", ""), ("scan1", ""), ("eye_3", "")]


def test_sixteen_radial_scans_are_one_eye():
    """The probe's case: T0003-01 ... T0003-16 gave 16 eyes of one scan each."""
    assert set(_eyes([f"T0003-{i:02d}.jpg" for i in range(1, 17)])) == {("T0003", "")}


def test_meta_and_user_pattern_win():
    meta = {"scan1.png": {"patient_id": "P9", "eye": "OS"}}
    assert _eyes(["scan1.png", "T0004-01.jpg"], meta=meta) == [("P9", "L"), ("T0004-01", "")]
    rx = r"^(?P<patient>\w+)_(?P<eye>OD|OS)_"
    assert _eyes(["A12_OD_1.png", "A12_OS_2.png"], eye_regex=rx) == [("A12", "R"), ("A12", "L")]
    with pytest.raises(AntsegInputError, match="--eye-regex"):
        _eyes(["a.png"], eye_regex=r"(no group)")
    with pytest.raises(AntsegInputError, match="not a valid regular expression"):
        _eyes(["a.png"], eye_regex=r"(?P<patient>")


@pytest.mark.parametrize(
    "text, eye",
    [("OD", "R"), ("os", "L"), ("Right", "R"), ("LEFT", "L"), ("r", "R"), ("L", "L"), ("O.D.", "R"), ("OU", ""),
     ("", ""), (None, "")],
)  # fmt: skip
def test_eye_spellings(text, eye):
    assert normalize_eye(text) == eye
