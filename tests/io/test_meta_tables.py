"""``antseg.io.meta_tables``: every quirk of a hand-made ``--meta`` / ``--reference`` CSV is read to the exact
values, or refused with one message naming the file and the row."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from antseg.errors import AntsegInputError
from antseg.io.meta_tables import eye_code, read_meta, read_reference, read_table

#: file bytes -> the rows read_meta must give (key cell -> row).
META_READ: dict[str, tuple[bytes, dict[str, dict[str, str]]]] = {
    "plain": (b"image,patient_id,eye\na.png,P1,R\n", {"a.png": {"image": "a.png", "patient_id": "P1", "eye": "R"}}),
    "OD/OS": (
        b"image,patient_id,eye\na.png,P1,OD\nb.png,P1,os\n",
        {
            "a.png": {"image": "a.png", "patient_id": "P1", "eye": "R"},
            "b.png": {"image": "b.png", "patient_id": "P1", "eye": "L"},
        },
    ),  # fmt: skip
    "right/left": (
        b"image,patient_id,eye\na.png,P1,Right\nb.png,P1,LEFT\nc.png,P1,\n",
        {
            "a.png": {"image": "a.png", "patient_id": "P1", "eye": "R"},
            "b.png": {"image": "b.png", "patient_id": "P1", "eye": "L"},
            "c.png": {"image": "c.png", "patient_id": "P1", "eye": ""},
        },
    ),  # fmt: skip
    "UTF-8 BOM": (
        "\ufeffimage,patient_id,eye\na.png,P1,R\n".encode(),
        {"a.png": {"image": "a.png", "patient_id": "P1", "eye": "R"}},
    ),
    "Latin-1": (
        "image,patient_id,eye\na.png,Müller,L\n".encode("latin-1"),
        {"a.png": {"image": "a.png", "patient_id": "Müller", "eye": "L"}},
    ),
    "UTF-16 with tabs": (
        "image\tpatient_id\teye\r\na.png\tP1\tOS\r\n".encode("utf-16"),
        {"a.png": {"image": "a.png", "patient_id": "P1", "eye": "L"}},
    ),
    "semicolons, spaced header": (
        b"Image ; Patient ID;EYE\n a.png ;P1;r\n",
        {"a.png": {"image": "a.png", "patient_id": "P1", "eye": "R"}},
    ),
    "blank lines and trailing empty cells": (
        b"image,patient_id,eye,,\n\na.png,P1,R,,\n,,,,\n",
        {"a.png": {"image": "a.png", "patient_id": "P1", "eye": "R"}},
    ),
    "a row repeated identically": (
        b"image,patient_id,eye\na.png,P1,R\na.png,P1,R\n",
        {"a.png": {"image": "a.png", "patient_id": "P1", "eye": "R"}},
    ),
    "image with its folder": (  # fmt: skip
        b"image,patient_id\nC:\\scans\\a.png,P1\nscans/b.png,P2\n",
        {
            "a.png": {"image": "C:\\scans\\a.png", "patient_id": "P1"},
            "b.png": {"image": "scans/b.png", "patient_id": "P2"},
        },
    ),
    "quoted cells": (
        b'image,patient_id\n"a, b.png","P ""1"""\n',
        {"a, b.png": {"image": "a, b.png", "patient_id": 'P "1"'}},
    ),
}


@pytest.mark.parametrize("case", list(META_READ))
def test_meta_quirks_are_read_exactly(tmp_path, case):
    data, rows = META_READ[case]
    (tmp_path / "m.csv").write_bytes(data)
    assert read_meta(tmp_path / "m.csv").rows == rows


#: file bytes (None: no file; "dir": a folder) -> what the one-line error must hold.
META_REFUSED: dict[str, tuple[bytes | str | None, str]] = {
    "missing": (None, "--meta not found"),
    "a folder": ("dir", "--meta is a folder"),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not a text CSV file (binary data)"),
    "control characters": (b"image,patient_id\na.png,P\x01\n", "control character"),
    "not UTF-8 nor Windows-1252": (b"image,patient_id\na.png,P\x81\x8d\n", "neither UTF-8 nor Windows-1252"),
    "empty": (b"", "is empty"),
    "no key column": (b"file,patient_id\na.png,P1\n", "needs an 'image' (file name) or 'case_id'"),
    "no patient_id column": (b"image,eye\na.png,R\n", "needs a 'patient_id' column"),
    "short row": (b"image,patient_id,eye\na.png,P1,R\nb.png,P1\n", "row 3 has 2 cells but the header has 3"),
    "long row": (b"image,patient_id\na.png,P1,R\n", "row 2 has 3 cells but the header has 2"),
    "broken quote": (b'image,patient_id\n"a.png,P1\nb.png,P2\n', 'a quote (") is opened and never closed'),
    "text after a quote": (b'image,patient_id\n"a.png"x,P1\n', "line 2: not valid CSV"),
    "duplicate rows that disagree": (
        b"image,patient_id,eye\na.png,P1,R\nb.png,P1,R\na.png,P2,R\n",
        "row 4: image 'a.png' is listed twice (also row 2)",
    ),
    "unknown eye": (b"image,patient_id,eye\na.png,P1,OU\n", "row 2: eye 'OU' is not an eye"),
    "empty key": (b"image,patient_id\n,P1\n", "row 2: empty image"),
    "header twice the same": (b"image,patient_id,Patient ID\na.png,P1,P2\n", "'patient_id' appears twice"),
    "header with a hole": (b"image,,patient_id\na.png,x,P1\n", "column 2 of the header has no name"),
}


@pytest.mark.parametrize("case", list(META_REFUSED))
def test_meta_refusals_name_the_file(tmp_path, case):
    data, message = META_REFUSED[case]
    path = tmp_path / "m.csv"
    if data == "dir":
        path.mkdir()
    elif data is not None:
        path.write_bytes(data)
    with pytest.raises(AntsegInputError) as err:
        read_meta(path)
    assert err.value.path == str(path) and message in err.value.problem, err.value.problem


@pytest.mark.parametrize(
    "data, rows",
    [
        (b"case_id,acd_mm,aod500_mm_left,note\na,2.5,NA,x\nb,,0.3,\n",
         {"a": {"acd_mm": 2.5, "aod500_mm_left": math.nan}, "b": {"acd_mm": math.nan, "aod500_mm_left": 0.3}}),
        (b"case_id;ACD_mm\na;2,75\nb;-\n", {"a": {"acd_mm": 2.75}, "b": {"acd_mm": math.nan}}),
        (b"image,acd_mm\nx.png,-0.5\n", {"x.png": {"acd_mm": -0.5}}),
    ],
    ids=["NA and empty cells, other columns ignored", "semicolons and a decimal comma", "a negative value"],
)  # fmt: skip
def test_reference_read_exactly(tmp_path, data, rows):
    (tmp_path / "r.csv").write_bytes(data)
    got = read_reference(tmp_path / "r.csv", ["acd_mm", "aod500_mm_left"]).rows
    assert got.keys() == rows.keys()
    for k, row in rows.items():
        assert got[k].keys() == row.keys()
        for m, v in row.items():
            assert (math.isnan(v) and math.isnan(got[k][m])) or got[k][m] == v, (k, m, got[k][m])


@pytest.mark.parametrize(
    "data, message",
    [
        (b"case_id,acd_mm\na,abc\n", "row 2: acd_mm must be a number, got 'abc'"),
        (b"case_id,acd_mm\na,1e308\n", "row 2: acd_mm must be <= 100"),
        (b"case_id,acd_mm\na,-inf\n", "row 2: acd_mm must be a finite number"),
        (b"case_id,acd_mm\na,2,5\n", "row 2 has 3 cells but the header has 2"),  # a decimal comma with commas
        (b"case_id,acd\na,2.5\n", "none of the measure columns (acd_mm, aod500_mm_left)"),
        (b"case_id,acd_mm\na,2.5\na,2.6\n", "row 3: case_id 'a' is listed twice"),
    ],
    ids=["text", "1e308", "infinite", "decimal comma in a comma CSV", "no measure column", "two values for a case"],
)
def test_reference_refusals(tmp_path, data, message):
    (tmp_path / "r.csv").write_bytes(data)
    with pytest.raises(AntsegInputError) as err:
        read_reference(tmp_path / "r.csv", ["acd_mm", "aod500_mm_left"])
    assert message in err.value.problem and err.value.path == str(tmp_path / "r.csv"), err.value.problem


def test_find_by_name_or_stem_and_match_warnings(tmp_path):
    (tmp_path / "m.csv").write_text("image,patient_id\na.png,P1\nb.jpg,P2\nb.png,P3\nghost.png,P4\n")
    t = read_meta(tmp_path / "m.csv")
    assert t.find("a.png")["patient_id"] == "P1" and t.find(Path("x/a.png"))["patient_id"] == "P1"
    assert t.find("a")["patient_id"] == "P1"  # the stem, when no other row has it
    assert t.find("b.png")["patient_id"] == "P3" and t.find("b") is None  # b.jpg and b.png: the stem is ambiguous
    assert t.find("c.png") is None
    warnings = t.match_warnings([Path("a.png"), Path("b.png"), Path("c.png")], "--meta", "grouped by name")
    assert warnings == [
        f"--meta {tmp_path / 'm.csv'}: 1 of 3 scans have no row (c.png)",
        f"--meta {tmp_path / 'm.csv'}: 2 rows match no scan (b.jpg, ghost.png)",
    ]
    assert t.match_warnings([Path("z.png")], "--meta", "grouped by name") == [
        f"--meta {tmp_path / 'm.csv'}: none of its 4 rows matches any of the 1 scans (by image): grouped by name"
    ]
    (tmp_path / "c.csv").write_text("case_id,patient_id\na,P1\n")
    t = read_meta(tmp_path / "c.csv")
    assert t.key == "case_id" and t.find("a.png")["patient_id"] == "P1" and t.match_warnings(["a.png"], "m", "") == []


def test_eye_codes_and_table_separators(tmp_path):
    assert [eye_code(e) for e in ("R", "od", " Right ", "L", "OS", "left", "")] == ["R", "R", "R", "L", "L", "L", ""]
    with pytest.raises(AntsegInputError, match="'both' is not an eye"):
        eye_code("both")
    (tmp_path / "t.csv").write_text("a\tb\n1\t2\n")
    t = read_table(tmp_path / "t.csv")
    assert t.separator == "\t" and t.columns == ["a", "b"] and t.rows == [(2, {"a": "1", "b": "2"})]
