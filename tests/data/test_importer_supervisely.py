"""The Supervisely importer (cataract-surgery frames): polygons with holes, label policies, the real Cataract-1K
files, round trips of the surgical phantom; the contract all importers share is in test_importers.py."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from antseg.data.canonical import load_dataset
from antseg.data.exporters import run_exporter
from antseg.data.importers import ImportOptions, run_importer
from antseg.data.labels import LabelPolicy
from antseg.errors import AntsegInputError
from antseg.io.images import write_png


def _supervisely_tree(root, objects, w=40, h=30, video="case_5013", frame="case5013_01.png"):
    (root / video / "img").mkdir(parents=True, exist_ok=True)
    (root / video / "ann").mkdir(exist_ok=True)
    write_png(root / video / "img" / frame, np.zeros((h, w, 3), np.uint8))
    doc = {"description": "", "tags": [], "size": {"height": h, "width": w}, "objects": objects}
    (root / video / "ann" / f"{frame}.json").write_text(json.dumps(doc))
    return root


def test_supervisely_polygon_with_hole_and_video_patient(tmp_path):
    ring = {
        "classTitle": "Cornea",
        "geometryType": "polygon",
        "points": {
            "exterior": [[5, 5], [25, 5], [25, 25], [5, 25]],
            "interior": [[[10, 10], [19, 10], [19, 19], [10, 19]]],
        },
    }
    tool = {
        "classTitle": "Spatula",
        "geometryType": "polygon",
        "points": {"exterior": [[0, 0], [4, 0], [4, 4]], "interior": []},
    }
    src = _supervisely_tree(tmp_path / "src", [tool, ring])
    everything = load_dataset(run_importer("supervisely", src, tmp_path / "all", ImportOptions(workers=1)).out)
    assert everything.structures == ["cornea", "spatula"]  # the structure set comes from the data
    res = run_importer(
        "supervisely",
        src,
        tmp_path / "o",
        ImportOptions(policy=LabelPolicy.from_cli(None, None, ["Cornea"]), workers=1),
    )
    ds = load_dataset(res.out)
    assert ds.structures == ["cornea"] and ds.manifest.modality == "surgical"
    c = ds.cases[0]
    m = ds.load_masks(c)[0]
    assert m[7, 7] == 1 and m[15, 15] == 0 and m.sum() == 21 * 21 - 8 * 8
    assert c.patient_id == "case5013" and c.extra["video"] == "case_5013"


def test_supervisely_unknown_class_and_bad_geometry(tmp_path):
    obj = {
        "classTitle": "Alien",
        "geometryType": "polygon",
        "points": {"exterior": [[0, 0], [4, 0], [4, 4]], "interior": []},
    }
    src = _supervisely_tree(tmp_path / "a", [obj])
    with pytest.raises(AntsegInputError, match="unknown label\\(s\\): Alien"):
        run_importer("supervisely", src, tmp_path / "o", ImportOptions(workers=1))
    src = _supervisely_tree(tmp_path / "b", [{**obj, "classTitle": "Cornea", "geometryType": "bitmap"}])
    with pytest.raises(AntsegInputError, match="unsupported geometryType"):
        run_importer("supervisely", src, tmp_path / "o", ImportOptions(workers=1))


def test_supervisely_real_cataract1k_annotations(tmp_path, shared_reference):
    """The two real Cataract-1K files import with --keep Cornea (Pupil and tools are dropped)."""
    examples = shared_reference / "cataract1k_supervisely_examples"
    if not examples.is_dir():
        pytest.skip("shared reference examples not available")
    for f in examples.glob("*.json"):
        frame = f.name[: -len(".json")]
        video = "case_" + frame[4:8]
        (tmp_path / "src" / video / "ann").mkdir(parents=True, exist_ok=True)
        (tmp_path / "src" / video / "img").mkdir(exist_ok=True)
        shutil.copy(f, tmp_path / "src" / video / "ann" / f.name)
        write_png(tmp_path / "src" / video / "img" / frame, np.zeros((768, 1024, 3), np.uint8))
    policy = LabelPolicy.from_cli(None, None, ["Cornea"])
    ds = load_dataset(
        run_importer("supervisely", tmp_path / "src", tmp_path / "o", ImportOptions(policy=policy, workers=1)).out
    )
    assert ds.structures == ["cornea"] and len(ds) == 2
    assert {c.patient_id for c in ds} == {"case5072", "case5300"}
    for c in ds:
        area = ds.load_masks(c)[0].mean()
        assert 0.05 < area < 0.6  # a limbus-bounded disc, not empty, not the whole frame


def test_supervisely_round_trip_of_surgical_phantom(surgical_phantom, tmp_path):
    policy = LabelPolicy.from_cli(None, None, ["Cornea", "Pupil"])  # the instruments are dropped
    back = load_dataset(
        run_importer(
            "supervisely",
            surgical_phantom / "supervisely",
            tmp_path / "o",
            ImportOptions(policy=policy, workers=1),
        ).out
    )
    ref = load_dataset(surgical_phantom)
    assert len(back) == len(ref) == 6
    for c in ref:
        b = back.case(c.case_id)
        np.testing.assert_array_equal(back.load_masks(b), ref.load_masks(c))
        assert b.patient_id == c.patient_id
    run_exporter("supervisely", surgical_phantom, tmp_path / "sv")
    again = load_dataset(run_importer("supervisely", tmp_path / "sv", tmp_path / "o2", ImportOptions(workers=1)).out)
    for c in ref:
        inter = (again.load_masks(again.case(c.case_id)) & ref.load_masks(c)).sum()
        union = (again.load_masks(again.case(c.case_id)) | ref.load_masks(c)).sum()
        assert inter / union > 0.99


def test_supervisely_keeps_cornea_and_pupil_and_reports_a_missing_pupil(tmp_path, cli):
    """Cataract-1K's anatomy: --keep Cornea --keep Pupil imports the limbus disc and the pupil, drops the tools,
    and names the frames that label one without the other."""

    def poly(title, pts):
        return {"classTitle": title, "geometryType": "polygon", "points": {"exterior": pts, "interior": []}}

    cornea = poly("Cornea", [[4, 4], [34, 4], [34, 26], [4, 26]])
    pupil = poly("Pupil", [[12, 10], [26, 10], [26, 20], [12, 20]])
    tool = poly("Capsulorhexis Forceps", [[0, 29], [39, 0], [39, 5]])
    _supervisely_tree(tmp_path / "src", [tool, pupil, cornea])
    _supervisely_tree(tmp_path / "src", [cornea], video="case_5014", frame="case5014_01.png")
    r = cli("data", "import", "supervisely", tmp_path / "src", tmp_path / "o", "--keep", "Cornea", "--keep", "Pupil",
            "--workers", "1")  # fmt: skip
    assert r.code == 0, r.err
    assert "1 frame(s) have a cornea polygon but no pupil polygon" in r.out and "case5014_01" in r.out
    ds = load_dataset(tmp_path / "o")
    assert ds.structures == ["cornea", "pupil"]
    m = ds.load_masks(ds.case("case5013_01"))
    assert m[0].sum() == 31 * 23 and m[1].sum() == 15 * 11 and not (m[1] & ~m[0]).any()
    assert not ds.load_masks(ds.case("case5014_01"))[1].any()
