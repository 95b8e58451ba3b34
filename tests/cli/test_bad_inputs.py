"""Bad input to ``antseg data ...``, table by table: every row must give exit 2, one line on stderr naming the
file (or the flag), no traceback, and no output (see :func:`tests.cli.refusal.assert_refused`).

Each source starts valid (two cases; ``b`` is the one spoilt) and one mutation makes it bad.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from tests.cli.refusal import Bad, assert_refused, run_main
from tests.conftest import SQUARE_CASE, make_labelme_tree

from antseg.io.images import write_png


@pytest.fixture
def run_cli(capfd):
    return lambda args: run_main(capfd, args)


def corrupt_png(path: Path, how: str) -> None:
    """``truncated``: OpenCV logs a [ WARN ] line; ``bad-data``: libpng prints its own error line."""
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 3])
    else:
        start = data.index(b"IDAT") + 20
        path.write_bytes(data[:start] + bytes(b ^ 0x5A for b in data[start : start + 40]) + data[start + 40 :])


class Raw(str):
    """Text that replaces a whole annotation file (a mutation returns it instead of editing the document)."""


def _written(path: Path, doc: dict, result: object) -> None:
    path.write_text(result if isinstance(result, Raw) else json.dumps(doc))  # json.dumps writes NaN as NaN


# -- LabelMe ---------------------------------------------------------------------------------------------------


def _lm(edit: Callable[[dict], object]) -> Callable[[Path], Path]:
    """A mutation of ``b.json``: ``edit`` changes the parsed document in place (or returns raw text)."""

    def mutate(src: Path) -> Path:
        jpath = src / "Normal" / "Annotated Images" / "b.json"
        doc = json.loads(jpath.read_text())
        _written(jpath, doc, edit(doc))
        return jpath

    return mutate


def _set(doc: dict, path: tuple, value) -> None:
    node = doc
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value


def _image(how: str) -> Callable[[Path], Path]:
    def mutate(src: Path) -> Path:
        img = src / "Normal" / "Original Images" / "b.png"
        corrupt_png(img, how)
        return img

    return mutate


LABELME: dict[str, tuple[Callable[[Path], Path], str]] = {
    "NaN coordinate": (_lm(lambda d: _set(d, ("shapes", 1, "points", 2, 0), math.nan)), "finite number"),
    "infinite coordinate": (_lm(lambda d: _set(d, ("shapes", 0, "points", 0, 1), math.inf)), "finite number"),
    "coordinate as text": (_lm(lambda d: _set(d, ("shapes", 0, "points", 0, 0), "12")), "valid number"),
    "coordinate as true": (_lm(lambda d: _set(d, ("shapes", 0, "points", 0, 0), True)), "valid number"),
    "point with 3 values": (_lm(lambda d: _set(d, ("shapes", 0, "points", 0), [1, 2, 3])), "points[0]"),
    "points as a dict": (_lm(lambda d: _set(d, ("shapes", 0, "points"), {"x": 1})), "shapes[0].points"),
    "shapes as a dict": (_lm(lambda d: _set(d, ("shapes",), {"a": 1})), "shapes"),
    "imageWidth as text": (_lm(lambda d: _set(d, ("imageWidth",), "wide")), "imageWidth"),
    "imageWidth 0": (_lm(lambda d: _set(d, ("imageWidth",), 0)), "imageWidth"),
    "label missing": (_lm(lambda d: d["shapes"][0].pop("label")), "shapes[0].label"),
    "label a number": (_lm(lambda d: _set(d, ("shapes", 0, "label"), 5)), "shapes[0].label"),
    "circle shape": (_lm(lambda d: _set(d, ("shapes", 0, "shape_type"), "circle")), "unsupported shape_type"),
    "polygon label used as a point": (
        _lm(lambda d: _set(d, ("shapes", 1), {"label": "lens", "points": [[3, 3]], "shape_type": "point"})),
        "is a point here but a polygon in",
    ),
    "polygon of 2 points": (_lm(lambda d: _set(d, ("shapes", 0, "points"), [[1, 1], [2, 2]])), "fewer than 3"),
    "imagePath with NUL": (_lm(lambda d: _set(d, ("imagePath",), "../Original Images/b\x00.png")), "imagePath"),
    "imageData not an image": (
        _lm(lambda d: d.update(imagePath="gone.png", imageData="bm90IGFuIGltYWdl")),
        "unreadable image",
    ),
    "truncated JSON": (_lm(lambda d: Raw(json.dumps(d)[:50])), "malformed JSON"),
    "JSON list": (_lm(lambda d: Raw("[1, 2]")), "expected an object"),
    "truncated PNG": (_image("truncated"), "unreadable image"),
    "corrupt PNG data": (_image("bad-data"), "unreadable image"),
}


@pytest.mark.parametrize("case", list(LABELME))
def test_labelme_bad_file(tmp_path, run_cli, case):
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", SQUARE_CASE), "b": ("Normal", SQUARE_CASE)})
    mutate, message = LABELME[case]
    bad_file = mutate(src)
    bad = Bad(["data", "import", "labelme", src, tmp_path / "out", "--workers", "1"], tmp_path / "out",
              bad_file.name, [message])  # fmt: skip
    assert_refused(run_cli(bad.args), bad)


LABELME_FLAGS: dict[str, tuple[list[str], str]] = {
    "regex syntax": (["--patient-regex", "(?P<patient>[0-9+"], "not a valid regular expression"),
    "regex without patient": (["--patient-regex", "[0-9]+"], "(?P<patient>...)"),
    "spacing 0": (["--spacing", "0"], "positive"),
    "spacing -1": (["--spacing", "-1,0.01"], "positive"),
    "spacing nan": (["--spacing", "nan"], "finite"),
    "spacing inf": (["--spacing", "0.01,inf"], "finite"),
    "spacing 3 values": (["--spacing", "0.1,0.2,0.3"], "needs 2 values"),
    "workers -1": (["--workers", "-1"], ">= 0"),
    "modality": (["--modality", "mri"], "asoct, surgical"),
    "map without =": (["--map", "lens"], "OLD=NEW"),
    "meta missing": (["--meta", "{tmp}/nope.csv"], "nope.csv"),
    "meta binary": (["--meta", "{tmp}/meta.csv"], "meta.csv"),
    "meta rows that disagree": (["--meta", "{tmp}/twice.csv"], "twice.csv"),
    "meta unknown eye": (["--meta", "{tmp}/eye.csv"], "eye.csv"),
    "meta without patient, eye or group": (["--meta", "{tmp}/nothing.csv"], "nothing.csv"),
}


@pytest.mark.parametrize("case", list(LABELME_FLAGS))
def test_labelme_bad_flag(tmp_path, run_cli, case):
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", SQUARE_CASE)})
    (tmp_path / "meta.csv").write_bytes(b"\xff\xfe\x00\x81 not text")
    (tmp_path / "twice.csv").write_text("case_id,patient_id\na,P1\na,P2\n")
    (tmp_path / "eye.csv").write_text("case_id,eye\na,centre\n")
    (tmp_path / "nothing.csv").write_text("case_id,notes\na,fine\n")
    flags, names = LABELME_FLAGS[case]
    flags = [f.format(tmp=tmp_path) for f in flags]
    bad = Bad(["data", "import", "labelme", src, tmp_path / "out", "--workers", "1", *flags], tmp_path / "out", names)
    assert_refused(run_cli(bad.args), bad)


# -- Supervisely -----------------------------------------------------------------------------------------------

RING = {
    "classTitle": "Cornea",
    "geometryType": "polygon",
    "points": {"exterior": [[5, 5], [25, 5], [25, 25], [5, 25]], "interior": [[[10, 10], [19, 10], [19, 19]]]},
}


def supervisely_tree(root: Path) -> Path:
    for frame in ("case5013_01.png", "case5013_02.png"):
        (root / "case_5013" / "img").mkdir(parents=True, exist_ok=True)
        (root / "case_5013" / "ann").mkdir(exist_ok=True)
        write_png(root / "case_5013" / "img" / frame, np.random.default_rng(1).integers(0, 255, (30, 40, 3), np.uint8))
        doc = {
            "description": "",
            "tags": [],
            "size": {"height": 30, "width": 40},
            "objects": [json.loads(json.dumps(RING))],
        }
        (root / "case_5013" / "ann" / f"{frame}.json").write_text(json.dumps(doc))
    return root


SUPERVISELY: dict[str, tuple[Callable[[dict], object], str]] = {
    "objects as a dict": (lambda d: _set(d, ("objects",), {"0": RING}), "objects"),
    "width as text": (lambda d: _set(d, ("size", "width"), "forty"), "size.width"),
    "height negative": (lambda d: _set(d, ("size", "height"), -30), "size.height"),
    "points as a list": (lambda d: _set(d, ("objects", 0, "points"), [[5, 5], [25, 5], [25, 25]]), "points"),
    "NaN in exterior": (lambda d: _set(d, ("objects", 0, "points", "exterior", 1, 0), math.nan), "finite number"),
    "inf in a hole": (lambda d: _set(d, ("objects", 0, "points", "interior", 0, 0, 1), -math.inf), "finite"),
    "hole not a ring": (lambda d: _set(d, ("objects", 0, "points", "interior"), [1, 2]), "interior[0]"),
    "classTitle missing": (lambda d: d["objects"][0].pop("classTitle"), "classTitle"),
    "exterior of 2 points": (lambda d: _set(d, ("objects", 0, "points", "exterior"), [[1, 1], [2, 2]]), "fewer"),
    "bitmap geometry": (lambda d: _set(d, ("objects", 0, "geometryType"), "bitmap"), "unsupported geometryType"),
    "no points": (lambda d: d["objects"][0].pop("points"), "points"),
    "truncated JSON": (lambda d: Raw(json.dumps(d)[:30]), "malformed JSON"),
}


@pytest.mark.parametrize("case", list(SUPERVISELY) + ["corrupt frame"])
def test_supervisely_bad_file(tmp_path, run_cli, case):
    src = supervisely_tree(tmp_path / "src")
    if case == "corrupt frame":
        bad_file, message = src / "case_5013" / "img" / "case5013_02.png", "unreadable image"
        corrupt_png(bad_file, "bad-data")
    else:
        bad_file = src / "case_5013" / "ann" / "case5013_02.png.json"
        edit, message = SUPERVISELY[case]
        doc = json.loads(bad_file.read_text())
        _written(bad_file, doc, edit(doc))
    bad = Bad(["data", "import", "supervisely", src, tmp_path / "out", "--workers", "1"], tmp_path / "out",
              bad_file.name, [message])  # fmt: skip
    assert_refused(run_cli(bad.args), bad)


# -- AGE table -------------------------------------------------------------------------------------------------

HEADER = "ASOCT_Name,Left_Label,X1,Y1,Right_Label,X2,Y2"
AGE: dict[str, tuple[str, str]] = {
    "row of 3 fields": (f"{HEADER}\nT1.jpg,0,10,20,1,70,22\nT2.jpg,0,10\n", "row 3: has 3 fields"),
    "row with an extra field": (f"{HEADER}\nT1.jpg,0,10,20,1,70,22,9\n", "has 8 fields"),
    "NaN coordinate": (f"{HEADER}\nT1.jpg,0,nan,20,1,70,22\n", "X1 must be a finite number"),
    "infinite coordinate": (f"{HEADER}\nT1.jpg,0,10,20,1,70,inf\n", "Y2 must be a finite number"),
    "text coordinate": (f"{HEADER}\nT1.jpg,0,ten,20,1,70,22\n", "X1 must be a number"),
    "empty coordinate": (f"{HEADER}\nT1.jpg,0,,20,1,70,22\n", "X1 must be a number"),
    "empty name": (f"{HEADER}\n,0,10,20,1,70,22\n", "empty ASOCT_Name"),
    "missing column": ("ASOCT_Name,X1,Y1\nT1.jpg,1,2\n", "missing column"),
    "image not found": (f"{HEADER}\nT9.jpg,0,10,20,1,70,22\n", "not found"),
    "only a header": (f"{HEADER}\n", "no cases found"),
}


@pytest.mark.parametrize("case", list(AGE) + ["binary table", "point outside"])
def test_age_bad_table(tmp_path, run_cli, case):
    (tmp_path / "src" / "img").mkdir(parents=True)
    for name in ("T1", "T2"):
        write_png(tmp_path / "src" / "img" / f"{name}.png", np.zeros((50, 80), np.uint8) + (name == "T2"))
    table = tmp_path / "src" / "labels.csv"
    names = table.name
    if case == "binary table":
        table.write_bytes(b"\xff\xfe\x00A\x00S\x00\x81\x82")
        message = "cannot read as CSV"
    elif case == "point outside":
        table.write_text(f"{HEADER}\nT1.jpg,0,10,20,1,700,22\n")
        names, message = "T1.png", "outside the 80x50 image"
    else:
        text, message = AGE[case]
        table.write_text(text)
        names = "src" if case == "only a header" else names
    bad = Bad(["data", "import", "age", tmp_path / "src", tmp_path / "out", "--workers", "1"], tmp_path / "out",
              names, [message])  # fmt: skip
    assert_refused(run_cli(bad.args), bad)


# -- mask folders ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["truncated mask", "corrupt mask data", "truncated image", "mask size"])
def test_masks_bad_file(tmp_path, run_cli, case):
    src = tmp_path / "src"
    rng = np.random.default_rng(2)
    for d in ("images", "lens"):
        (src / d).mkdir(parents=True)
    for name in ("a", "b"):
        write_png(src / "images" / f"{name}.png", rng.integers(0, 255, (30, 40), np.uint8))
        write_png(src / "lens" / f"{name}.png", (rng.random((30, 40)) > 0.5).astype(np.uint8) * 255)
    bad_file = src / ("images" if "image" in case else "lens") / "b.png"
    if case == "mask size":
        write_png(bad_file, np.zeros((31, 40), np.uint8))
    else:
        corrupt_png(bad_file, "truncated" if case.startswith("truncated") else "bad-data")
    bad = Bad(["data", "import", "masks", src, tmp_path / "out", "--workers", "1"], tmp_path / "out", "b.png")
    assert_refused(run_cli(bad.args), bad)


# -- validate, split, phantom ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case, edit, names",
    [
        ("no dataset", lambda ds: ds / "missing", "missing"),
        ("manifest not JSON", lambda ds: (ds / "dataset.json").write_text("{oops") and ds, "dataset.json"),
        ("cases.csv bad width", lambda ds: _spoil_cases(ds), "cases.csv"),
        ("case id escapes", lambda ds: _spoil_cases(ds, "case_id", "../../../ESCAPED_case"), "case_id"),
        ("image outside", lambda ds: _spoil_cases(ds, "image", "../../outside.png"), "image"),
        ("absolute mask", lambda ds: _spoil_cases(ds, "mask", "/etc/passwd"), "mask"),
        ("spur x without y", lambda ds: _spoil_cases(ds, "left_scleral_spur_y", ""), "left_scleral_spur"),
        ("manifest a list", lambda ds: (ds / "dataset.json").write_text("[1, 2]") and ds, "dataset.json"),
        ("structure twice", lambda ds: _twice(ds), "listed twice"),
    ],
)
def test_validate_and_split_bad_dataset(asoct_copy, tmp_path, run_cli, case, edit, names):
    target = edit(asoct_copy)
    for cmd in (["data", "validate", target], ["data", "split", target], ["data", "info", target]):
        assert_refused(run_cli(cmd), Bad(cmd, tmp_path / "never", names))


def _spoil_cases(ds: Path, column: str = "width", value: str = "wide") -> Path:
    lines = (ds / "cases.csv").read_text().splitlines()
    cols = lines[0].split(",")
    cells = lines[1].split(",")
    cells[cols.index(column)] = value
    (ds / "cases.csv").write_text("\n".join([lines[0], ",".join(cells), *lines[2:]]) + "\n")
    return ds


def _twice(ds: Path) -> Path:
    doc = json.loads((ds / "dataset.json").read_text())
    doc["structures"].append({**doc["structures"][0], "id": 9})
    (ds / "dataset.json").write_text(json.dumps(doc))
    return ds


def test_a_case_id_from_data_never_writes_outside_out(asoct_copy, tmp_path, run_cli):
    """The probe's case: ``biometry --dataset`` with a case id of ``../../../ESCAPED_case``."""
    _spoil_cases(asoct_copy, "case_id", "../../../ESCAPED_case")
    out = tmp_path / "a" / "b" / "out"
    args = ["biometry", "--dataset", asoct_copy, "--out", out]
    assert_refused(run_cli(args), Bad(args, out, "case_id"))
    assert not list(tmp_path.rglob("ESCAPED_case*"))


@pytest.mark.parametrize(
    "args, names",
    [
        (["data", "split", "{ds}", "--ratios", "nan,0.5,0.5"], "--ratios"),
        (["data", "split", "{ds}", "--ratios", "0.5,inf,0.5"], "--ratios"),
        (["data", "phantom", "asoct", "{out}", "--size", "0x0"], "--size"),
        (["data", "phantom", "asoct", "{out}", "--spacing", "nan"], "--spacing"),
        (["data", "phantom", "asoct", "{out}", "--hidden-spurs", "nan"], "hidden_spurs"),
        (["data", "phantom", "asoct", "{out}", "--n", "0"], "--n"),
    ],
)
def test_split_and_phantom_bad_numbers(asoct_copy, tmp_path, run_cli, args, names):
    out = tmp_path / "out"
    args = [a.format(ds=asoct_copy, out=out) for a in args]
    assert_refused(run_cli(args), Bad(args, out, names))


def test_validate_calls_nan_and_zero_spacing_invalid(asoct_copy, run_cli):
    manifest = json.loads((asoct_copy / "dataset.json").read_text())
    for bad in (math.nan, 0.0):
        manifest["spacing_mm"] = {"x": bad, "y": 0.01}
        (asoct_copy / "dataset.json").write_text(json.dumps(manifest))
        code, out, err = run_cli(["data", "validate", asoct_copy])
        assert code == 1 and "spacing" in out and "INVALID" in out, out + err


@pytest.mark.parametrize("how", ["truncated", "bad-data"])
def test_verbose_lets_the_libraries_speak(tmp_path, run_cli, how):
    """The capture sees what OpenCV and libpng print; only --verbose lets it through (anywhere on the line)."""
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", SQUARE_CASE)})
    corrupt_png(src / "Normal" / "Original Images" / "a.png", how)
    code, _, err = run_cli(["data", "import", "labelme", src, tmp_path / "out", "--workers", "1", "--verbose"])
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) >= 2 and lines[-1].startswith("error: ") and "a.png" in lines[-1]
    assert any("WARN" in ln or "libpng" in ln for ln in lines[:-1]), err
