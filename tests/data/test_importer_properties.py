"""Property-based: generated malformed LabelMe, Supervisely and AGE sources, each imported through the CLI.

For every generated source the promise holds: either the import succeeds and what it wrote is right (checked
against an independent reading of the source: every coordinate finite and inside the image, masks equal to
PIL's / OpenCV's own rasterisation), or it exits 2 with one line on stderr naming the spoilt file, no
traceback, and no output or temporary folder. Examples are few and tiny so the file runs in seconds.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw
from tests.cli.refusal import run_main
from tests.conftest import SQUARE_CASE, make_labelme_tree

from antseg.anatomy import ASOCT_LANDMARK_NAMES, ASOCT_VOCAB, normalize_label
from antseg.data.canonical import load_dataset
from antseg.io.images import write_png

SETTINGS = settings(
    max_examples=50, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
W, H, TOL = 40, 30, 5.0

JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, -1, 0, 1e300, 2.5]),
    st.text(max_size=4),
    st.lists(st.integers(-5, 50), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def paths(node, prefix=()) -> list[tuple]:
    """Every key/index path in a JSON tree."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += paths(v, (*prefix, i))
    return out


def mutate(doc: dict, data, skip: tuple[str, ...]) -> dict:
    """1 to 3 random edits: replace a value with junk, delete it, or nudge a number (perhaps outside the image)."""
    for _ in range(data.draw(st.integers(1, 3))):
        choices = [p for p in paths(doc) if p[0] not in skip]
        if not choices:
            break
        path = data.draw(st.sampled_from(choices))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        action = data.draw(st.sampled_from(["junk", "delete", "nudge"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "nudge" and isinstance(parent[path[-1]], int | float) and not isinstance(parent[path[-1]], bool):
            parent[path[-1]] += data.draw(st.sampled_from([-60, -6, -0.5, 0.5, 6, 60]))
        else:
            parent[path[-1]] = data.draw(JUNK)
    return doc


def finite(v) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def points_ok(pts, minimum: int = 1) -> bool:
    if not isinstance(pts, list) or len(pts) < minimum:
        return False
    for p in pts:
        if not (isinstance(p, list) and len(p) == 2 and all(finite(v) for v in p)):
            return False
        if not (-TOL <= p[0] <= W - 1 + TOL and -TOL <= p[1] <= H - 1 + TOL):
            return False
    return True


def assert_promise(result, out: Path, spoilt: list[str]) -> bool:
    """True when the import succeeded; otherwise check the refusal."""
    code, stdout, err = result
    event("imported" if code == 0 else "refused")
    if code == 0:
        return True
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert code == 2 and len(lines) == 1 and "Traceback" not in err + stdout, err
    assert any(name in lines[0] for name in spoilt), lines[0]
    assert not out.exists() and not [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}")]
    return False


def pil_mask(rings: list[list]) -> np.ndarray:
    im = Image.new("L", (W, H), 0)
    for pts in rings:
        ImageDraw.Draw(im).polygon([tuple(map(float, p)) for p in pts], outline=1, fill=1)
    return np.asarray(im)


# -- LabelMe ---------------------------------------------------------------------------------------------------


def labelme_expected(doc: dict) -> dict | None:
    """Canonical name -> expected mask, or (x, y) for a point, when ``doc`` is a valid LabelMe file beside
    ``a.json`` (an unmodified :data:`SQUARE_CASE`), else None."""
    shapes = doc.get("shapes", "missing")
    if not isinstance(shapes, list) and shapes is not None:
        return None
    for key in ("imageWidth", "imageHeight"):
        v = doc.get(key)
        if v is not None and (not isinstance(v, int) or isinstance(v, bool) or v <= 0):
            return None
    if doc.get("imageWidth") and doc.get("imageHeight") and (doc["imageWidth"], doc["imageHeight"]) != (W, H):
        return None
    kinds = {sh["label"]: sh["shape_type"] for sh in SQUARE_CASE}  # what a.json says
    polys: dict[str, list] = {}
    points: dict[str, tuple] = {}
    seen_points: set[str] = set()
    for s in shapes or []:
        if not isinstance(s, dict) or not isinstance(s.get("label"), str) or not s["label"]:
            return None
        kind, pts, label = s.get("shape_type") or "polygon", s.get("points"), s["label"]
        if not isinstance(kind, str) or kind not in ("polygon", "point", "rectangle"):
            return None
        if kind == "rectangle":
            if not points_ok(pts, 2) or len(pts) != 2:
                return None
            (x0, y0), (x1, y1) = pts
            pts = [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
        if kind == "point" and not (points_ok(pts[:1] if isinstance(pts, list) else pts) and _all_finite(pts)):
            return None
        if kind != "point" and not points_ok(pts, 3):
            return None
        name = ASOCT_VOCAB.get(normalize_label(label))
        if name is None or kinds.setdefault(label, "point" if kind == "point" else "polygon") != (
            "point" if kind == "point" else "polygon"
        ):
            return None  # an unknown label, or one label both a point and a polygon
        if kind == "point":
            if label in seen_points:
                return None
            seen_points.add(label)
            points[name] = tuple(pts[0])
        else:
            polys.setdefault(name, []).append(pts)
    landmark_names = set(points) | (set(ASOCT_LANDMARK_NAMES) & {ASOCT_VOCAB[normalize_label(k)] for k in kinds})
    if set(polys) & landmark_names:
        return None  # a polygon label that means a landmark
    return {**{k: pil_mask(v) for k, v in polys.items()}, **points}


def _all_finite(pts) -> bool:
    return isinstance(pts, list) and all(isinstance(p, list) and len(p) == 2 and all(finite(v) for v in p) for p in pts)


@SETTINGS
@given(data=st.data())
def test_labelme_promise(tmp_path, capfd, data):
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    src = make_labelme_tree(root / "src", {"a": ("Normal", SQUARE_CASE), "b": ("Normal", SQUARE_CASE)}, W, H)
    jpath = src / "Normal" / "Annotated Images" / "b.json"
    doc = mutate(json.loads(jpath.read_text()), data, skip=("version", "flags", "imagePath", "imageData"))
    jpath.write_text(json.dumps(doc))
    out = root / "out"
    result = run_main(capfd, ["data", "import", "labelme", src, out, "--workers", "1"])
    expected = labelme_expected(doc)
    if not assert_promise(result, out, ["b.json"]):
        return
    assert expected is not None, f"accepted a bad file: {doc}"
    ds = load_dataset(out)
    case = ds.case("b")
    masks = ds.load_masks(case)
    for k, name in enumerate(ds.structures):
        want = expected.get(name)
        np.testing.assert_array_equal(masks[k], want if isinstance(want, np.ndarray) else 0, err_msg=name)
    for name, pt in case.landmarks.items():
        want = expected.get(name)
        assert pt == (None if want is None else pytest.approx(tuple(map(float, want)), abs=5e-4 + 1e-9)), name


# -- Supervisely -----------------------------------------------------------------------------------------------

COVER = {
    "classTitle": "Cornea",
    "geometryType": "polygon",
    "points": {"exterior": [[5, 5], [25, 5], [25, 25], [5, 25]], "interior": [[[10, 10], [19, 10], [19, 19]]]},
}


def supervisely_expected(doc: dict) -> np.ndarray | None:
    """The expected Cornea mask when ``doc`` is a valid Supervisely file here, else None."""
    size, objects = doc.get("size"), doc.get("objects", "missing")
    if size is not None:
        if not isinstance(size, dict) or any(not isinstance(size.get(k), int) or isinstance(size.get(k), bool)
                                             or size.get(k) <= 0 for k in ("width", "height")):  # fmt: skip
            return None
        if (size["width"], size["height"]) != (W, H):
            return None
    if not isinstance(objects, list):
        return None
    mask = np.zeros((H, W), np.uint8)
    for o in objects:
        if not isinstance(o, dict) or o.get("classTitle") != "Cornea" or o.get("geometryType", "polygon") != "polygon":
            return None
        p = o.get("points")
        if not isinstance(p, dict) or not points_ok(p.get("exterior"), 3):
            return None
        holes = p.get("interior", [])
        if not isinstance(holes, list) or not all(points_ok(h, 3) for h in holes):
            return None
        rings = [
            np.round(np.asarray(r, np.float64)).astype(np.int32).reshape(-1, 1, 2) for r in [p["exterior"], *holes]
        ]
        m = np.zeros((H, W), np.uint8)
        cv2.fillPoly(m, rings, 1)
        mask |= m
    return mask


@SETTINGS
@given(data=st.data())
def test_supervisely_promise(tmp_path, capfd, data):
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    video = root / "src" / "case_5013"
    (video / "img").mkdir(parents=True)
    (video / "ann").mkdir()
    docs = {}
    for frame in ("case5013_01.png", "case5013_02.png"):
        write_png(video / "img" / frame, np.full((H, W, 3), 90, np.uint8))
        docs[frame] = {"description": "", "tags": [], "size": {"height": H, "width": W}, "objects": [COVER]}
    docs["case5013_02.png"] = mutate(
        json.loads(json.dumps(docs["case5013_02.png"])), data, skip=("description", "tags")
    )
    for frame, doc in docs.items():
        (video / "ann" / f"{frame}.json").write_text(json.dumps(doc))
    out = root / "out"
    result = run_main(capfd, ["data", "import", "supervisely", root / "src", out, "--workers", "1"])
    expected = supervisely_expected(docs["case5013_02.png"])
    if not assert_promise(result, out, ["case5013_02.png.json"]):
        return
    assert expected is not None, f"accepted a bad file: {docs['case5013_02.png']}"
    ds = load_dataset(out)
    masks = ds.load_masks(ds.case("case5013_02"))
    np.testing.assert_array_equal(masks[0] if len(masks) else np.zeros((H, W), np.uint8), expected)


# -- AGE -------------------------------------------------------------------------------------------------------

GOOD_CELL = st.one_of(st.integers(-1, 45).map(str), st.floats(-1, 44, allow_nan=False).map(repr))
BAD_CELL = st.sampled_from(["nan", "inf", "-inf", "", "ten", "1e400", " 12 ", "0x10", "-1", "99"])
CELL = st.one_of(GOOD_CELL, GOOD_CELL, GOOD_CELL, GOOD_CELL, BAD_CELL)
ROW = st.one_of(st.lists(CELL, min_size=7, max_size=7), st.lists(CELL, min_size=5, max_size=9))


def age_expected(cells: list[str]) -> dict | None:
    """spur name -> (x, y) or None, when the row is valid here, else None."""
    if len(cells) < 7 or any(c.strip() for c in cells[7:]):
        return None  # a short row, or a long one with more than empty cells
    pts = {}
    for side, (xi, yi) in (("left", (2, 3)), ("right", (5, 6))):
        try:
            x, y = float(cells[xi]), float(cells[yi])
        except ValueError:
            return None
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        visible = x >= 0 and y >= 0
        if visible and not (x <= W - 1 + TOL and y <= H - 1 + TOL):
            return None
        pts[f"{side}_scleral_spur"] = (x, y) if visible else None
    return pts


@SETTINGS
@given(cells=ROW)
def test_age_promise(tmp_path, capfd, cells):
    root = Path(tempfile.mkdtemp(dir=tmp_path))
    (root / "src").mkdir()
    write_png(root / "src" / "T1.png", np.zeros((H, W), np.uint8))
    write_png(root / "src" / "T2.png", np.ones((H, W), np.uint8))
    row = ["T2.jpg", *cells[1:]] if cells else ["T2.jpg"]
    (root / "src" / "labels.csv").write_text(
        "ASOCT_Name,Left_Label,X1,Y1,Right_Label,X2,Y2\nT1.jpg,0,1,2,0,30,4\n" + ",".join(row) + "\n"
    )
    out = root / "out"
    result = run_main(capfd, ["data", "import", "age", root / "src", out, "--workers", "1"])
    expected = age_expected(row)
    if not assert_promise(result, out, ["labels.csv", "T2.png"]):
        return
    assert expected is not None, f"accepted a bad row: {row}"
    got = load_dataset(out).case("T2").landmarks
    assert got.keys() == expected.keys()
    for name, pt in expected.items():  # cases.csv keeps 3 decimals: half a unit, plus float error (0.0625 -> 0.062)
        assert got[name] == (None if pt is None else pytest.approx(pt, abs=5e-4 + 1e-9)), name
