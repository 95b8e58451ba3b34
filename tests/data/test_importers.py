"""Importers: one contract every registered importer satisfies, then exact results on hand-made sources and
every kind of bad input, format by format."""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from tests.conftest import SQUARE_CASE, make_labelme_tree, point, poly

from antseg.anatomy import spur_name
from antseg.data.canonical import load_dataset
from antseg.data.exporters import run_exporter
from antseg.data.importers import IMPORTERS, ImportOptions, run_importer
from antseg.data.labels import LabelPolicy
from antseg.data.validate import validate_dataset
from antseg.errors import AntsegInputError
from antseg.io.images import write_png
from antseg.io.output_folder import OWNER_MARKER

# -- the contract ---------------------------------------------------------------------------------------------


def age_source(canonical: Path, dst: Path) -> Path:
    """A canonical dataset in the AGE layout: its images, and one CSV of spur coordinates (-1: not visible)."""
    ds = load_dataset(canonical)
    (dst / "images").mkdir(parents=True)
    lines = ["ASOCT_Name,Left_Label,X1,Y1,Right_Label,X2,Y2"]
    for c in ds:
        name = Path(c.image).name
        shutil.copyfile(ds.root / c.image, dst / "images" / name)
        cells = [name]
        for side in ("left", "right"):
            pt = c.landmarks.get(spur_name(side))
            cells += ["0", *(("-1", "-1") if pt is None else (repr(pt[0]), repr(pt[1])))]
        lines.append(",".join(cells))
    (dst / "labels.csv").write_text("\n".join(lines) + "\n")
    return dst


class _ImporterContract:
    """What every importer must satisfy (one subclass per registered importer, see the test below).

    - A clean source (made from a phantom) imports, and the result validates without errors or warnings.
    - The round trip is exact: the same case ids, patients and image pixels; the masks and the landmarks equal
      the phantom's exactly (for what the format carries; what it does not carry is absent, not invented).
    - An empty source folder is bad input: exit 2 through the CLI, one line on stderr naming the folder, and
      nothing written.
    - An existing non-empty output folder is left alone without ``--overwrite`` and replaced with it.

    Subclasses set ``name`` (the registered importer) and, where they differ from the defaults, ``phantom``
    (the canonical phantom fixture the source is made from), ``masks`` / ``landmarks`` (what the format
    carries) and ``make_source(canonical, dst)`` (default: the exporter of the same name).
    """

    name = ""
    phantom = "asoct_phantom"
    masks = True
    landmarks = True

    def make_source(self, canonical: Path, dst: Path) -> Path:
        run_exporter(self.name, canonical, dst)
        return dst

    def test_clean_source_imports_and_validates(self, imported, reference):
        ref = load_dataset(reference)
        ds = load_dataset(imported)
        assert len(ds) == len(ref) and ds.manifest.provenance["importer"] == self.name
        rep = validate_dataset(imported)
        assert rep.ok and not rep.warnings, rep.findings

    def test_round_trip_is_exact(self, imported, reference):
        assert self.masks or self.landmarks  # the format carries something to compare
        ref, back = load_dataset(reference), load_dataset(imported)
        assert sorted(c.case_id for c in back) == sorted(c.case_id for c in ref)
        assert back.structures == (ref.structures if self.masks else [])
        assert back.landmarks == (ref.landmarks if self.landmarks else [])
        for c in ref:
            b = back.case(c.case_id)
            assert b.patient_id == c.patient_id
            np.testing.assert_array_equal(back.load_image(b), ref.load_image(c))
            if self.masks:
                np.testing.assert_array_equal(back.load_masks(b), ref.load_masks(c))
            if self.landmarks:
                assert b.landmarks == c.landmarks  # exact floats, absent spurs stay absent

    def test_empty_source_is_bad_input(self, tmp_path, cli):
        (tmp_path / "empty").mkdir()
        r = cli("data", "import", self.name, tmp_path / "empty", tmp_path / "out", "--workers", "1")
        assert r.code == 2, r.out + r.err
        assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
        assert str(tmp_path / "empty") in r.err
        assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]  # no output, no temporary folder

    def test_existing_output_needs_overwrite(self, source, tmp_path, cli):
        out = tmp_path / "out"
        out.mkdir()
        (out / "keep.txt").write_text("x")
        r = cli("data", "import", self.name, source, out, "--workers", "1")
        assert r.code == 2 and "--overwrite" in r.err and str(out) in r.err
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
        r = cli("data", "import", self.name, source, out, "--workers", "1", "--overwrite")
        assert r.code == 2 and "not made by antseg" in r.err and (out / "keep.txt").exists()  # the user's folder
        mine = tmp_path / "mine"
        assert cli("data", "import", self.name, source, mine, "--workers", "1").code == 0
        r = cli("data", "import", self.name, source, mine, "--workers", "1", "--overwrite")
        assert r.code == 0, r.err  # antseg's own output is replaced
        assert len(load_dataset(mine)) > 0


@pytest.fixture(scope="class")
def reference(request) -> Path:
    """The canonical phantom the contract class makes its source from."""
    return request.getfixturevalue(request.cls.phantom)


@pytest.fixture(scope="class")
def source(request, reference, tmp_path_factory) -> Path:
    contract = request.cls()
    return contract.make_source(reference, tmp_path_factory.mktemp(f"src-{contract.name}") / "src")


@pytest.fixture(scope="class")
def imported(request, source, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp(f"imp-{request.cls.name}") / "ds"
    return run_importer(request.cls.name, source, out, ImportOptions(workers=1)).out


class TestLabelmeImporter(_ImporterContract):
    name = "labelme"


class TestMasksImporter(_ImporterContract):
    name, landmarks = "masks", False


class TestSuperviselyImporter(_ImporterContract):
    name, phantom, landmarks = "supervisely", "surgical_phantom", False


class TestAgeImporter(_ImporterContract):
    name, masks, make_source = "age", False, staticmethod(age_source)


def test_every_importer_has_the_contract():
    assert sorted(c.name for c in _ImporterContract.__subclasses__()) == IMPORTERS.names()


# -- format by format -----------------------------------------------------------------------------------------

CASIA = "722_20230329_123031_R_CASIA2_001_000"


def test_registry_has_all_formats():
    assert IMPORTERS.names() == ["age", "labelme", "masks", "supervisely"]


def test_labelme_exact_masks_points_groups_and_patients(tmp_path):
    src = make_labelme_tree(
        tmp_path / "src", {CASIA: ("PACG_Cataract", SQUARE_CASE), "other": ("Normal", SQUARE_CASE[:5])}
    )
    res = run_importer("labelme", src, tmp_path / "out", ImportOptions(spacing=(0.01, 0.02), workers=1))
    ds = load_dataset(res.out)
    assert ds.structures == ["anterior_chamber", "lens", "nucleus", "left_iris", "right_iris"]
    assert ds.landmarks == ["left_scleral_spur", "right_scleral_spur"]
    c = ds.case(CASIA)
    assert (c.patient_id, c.eye, c.group) == ("722", "R", "pacg_cataract")
    assert c.landmarks == {"left_scleral_spur": (3.5, 18.25), "right_scleral_spur": (36.0, 6.0)}
    assert ds.load_masks(c).reshape(5, -1).sum(1).tolist() == [100, 256, 64, 30, 27]
    other = ds.case("other")
    assert other.landmarks == {
        "left_scleral_spur": None,
        "right_scleral_spur": None,
    }  # missing spurs stay empty
    assert (other.patient_id, other.group) == ("other", "normal")
    assert ds.manifest.spacing_mm == (0.01, 0.02) and ds.manifest.provenance["importer"] == "labelme"


def test_labelme_image_fallbacks_and_embedded_data(tmp_path):
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", SQUARE_CASE), "b": ("Normal", SQUARE_CASE)})
    ann = src / "Normal" / "Annotated Images"
    doc = json.loads((ann / "a.json").read_text())
    doc["imagePath"] = "C:\\Users\\someone\\scans\\a.png"  # annotator's own machine: fall back to the base name
    (ann / "a.json").write_text(json.dumps(doc))
    img = src / "Normal" / "Original Images" / "b.png"
    doc = json.loads((ann / "b.json").read_text())
    doc["imageData"] = base64.b64encode(img.read_bytes()).decode()
    doc["imagePath"] = "gone.png"
    (ann / "b.json").write_text(json.dumps(doc))
    img.unlink()
    ds = load_dataset(run_importer("labelme", src, tmp_path / "out", ImportOptions(workers=1)).out)
    assert sorted(c.case_id for c in ds) == ["a", "b"]
    assert ds.load_image(ds.case("b"), grayscale=True).shape == (30, 40)


def test_labelme_label_policy(tmp_path):
    shapes = [
        poly("AC", SQUARE_CASE[0]["points"]),
        poly("Iris_L", SQUARE_CASE[3]["points"]),
        poly("eyelash", [[0, 0], [3, 0], [3, 3]]),
    ]
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", shapes)})
    with pytest.raises(AntsegInputError, match="unknown label\\(s\\): eyelash"):
        run_importer("labelme", src, tmp_path / "o1", ImportOptions(workers=1))
    assert not (tmp_path / "o1").exists()
    ds = load_dataset(
        run_importer(
            "labelme",
            src,
            tmp_path / "o2",
            ImportOptions(policy=LabelPolicy.from_cli(None, ["eyelash"]), workers=1),
        ).out
    )
    assert ds.structures == ["anterior_chamber", "left_iris"]
    ds = load_dataset(
        run_importer(
            "labelme",
            src,
            tmp_path / "o3",
            ImportOptions(policy=LabelPolicy.from_cli(["eyelash=iris"], None), workers=1),
        ).out
    )
    assert "iris" in ds.structures


BAD_LABELME = {
    "truncated JSON": (lambda d, p: p.write_text(json.dumps(d)[:40]), "malformed JSON"),
    "polygon outside": (
        lambda d, p: p.write_text(json.dumps({**d, "shapes": [poly("lens", [[5, 5], [90, 5], [90, 9]])]})),
        "outside",
    ),
    "point outside": (
        lambda d, p: p.write_text(json.dumps({**d, "shapes": [point("left_scleral_spur", -40, 3)]})),
        "outside",
    ),
    "escaping imagePath": (
        lambda d, p: p.write_text(json.dumps({**d, "imagePath": "../../../../etc/passwd"})),
        "escapes",
    ),
    "size mismatch": (lambda d, p: p.write_text(json.dumps({**d, "imageWidth": 99})), "99x30"),
    "not labelme": (lambda d, p: p.write_text(json.dumps({"foo": 1})), "not a LabelMe"),
    "bad shape": (lambda d, p: p.write_text(json.dumps({**d, "shapes": [{"label": "lens"}]})), "malformed"),
}


@pytest.mark.parametrize("case", sorted(BAD_LABELME))
def test_labelme_bad_input_names_the_file(tmp_path, cli, case):
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", SQUARE_CASE), "b": ("Normal", SQUARE_CASE)})
    jpath = src / "Normal" / "Annotated Images" / "b.json"
    mutate, msg = BAD_LABELME[case]
    mutate(json.loads(jpath.read_text()), jpath)
    r = cli("data", "import", "labelme", src, tmp_path / "out", "--workers", "1")
    assert r.code == 2, r.out + r.err
    assert msg in r.err and "b.json" in r.err and "Traceback" not in r.err
    assert len(r.err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists() and not list(tmp_path.glob(".out*"))


def test_unreadable_image_duplicate_ids_and_empty_folder(tmp_path, cli):
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", SQUARE_CASE)})
    (src / "Normal" / "Original Images" / "a.png").write_bytes(b"\x89PNG not really")
    r = cli("data", "import", "labelme", src, tmp_path / "out")
    assert r.code == 2 and "unreadable image" in r.err and "a.png" in r.err
    src2 = make_labelme_tree(tmp_path / "src2", {"a": ("Normal", SQUARE_CASE)})
    make_labelme_tree(src2, {"a": ("PACG", SQUARE_CASE)})
    r = cli("data", "import", "labelme", src2, tmp_path / "out")
    assert r.code == 2 and "duplicate case id 'a'" in r.err
    (tmp_path / "empty").mkdir()
    r = cli("data", "import", "labelme", tmp_path / "empty", tmp_path / "out")
    assert r.code == 2 and "no cases found" in r.err
    r = cli("data", "import", "nosuch", tmp_path / "empty", tmp_path / "out")
    assert r.code == 2 and "valid: age, labelme, masks, supervisely" in r.err
    assert not (tmp_path / "out").exists()


def test_existing_output_needs_overwrite(tmp_path, cli):
    src = make_labelme_tree(tmp_path / "src", {"a": ("Normal", SQUARE_CASE)})
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")
    r = cli("data", "import", "labelme", src, tmp_path / "out")
    assert r.code == 2 and "--overwrite" in r.err and (tmp_path / "out" / "keep.txt").exists()
    assert cli("data", "import", "labelme", src, tmp_path / "out", "--overwrite").code == 2
    assert (tmp_path / "out" / "keep.txt").exists()
    assert cli("data", "import", "labelme", src, tmp_path / "ds").code == 0
    assert cli("data", "import", "labelme", src, tmp_path / "ds", "--overwrite").code == 0


def test_masks_round_trip_is_lossless(asoct_phantom, tmp_path):
    run_exporter("masks", asoct_phantom, tmp_path / "masks")
    assert sorted(p.name for p in (tmp_path / "masks").iterdir() if p.name != OWNER_MARKER) == sorted(
        ["images", "anterior_chamber", "lens", "nucleus", "left_iris", "right_iris", "cornea"]
    )
    back = load_dataset(run_importer("masks", tmp_path / "masks", tmp_path / "back", ImportOptions(workers=2)).out)
    ref = load_dataset(asoct_phantom)
    assert back.structures == ref.structures
    for c in ref:
        b = back.case(c.case_id)
        np.testing.assert_array_equal(back.load_masks(b), ref.load_masks(c))  # nucleus still inside the lens
        assert (b.patient_id, b.eye) == (c.patient_id, c.eye)


def test_masks_bad_input(tmp_path):
    src = tmp_path / "src"
    for d in ("images", "lens"):
        (src / d).mkdir(parents=True)
    write_png(src / "images" / "a.png", np.zeros((10, 12), np.uint8))
    write_png(src / "lens" / "a.png", np.zeros((10, 13), np.uint8))
    with pytest.raises(AntsegInputError, match="12x10") as e:
        run_importer("masks", src, tmp_path / "o", ImportOptions(workers=1))
    assert "lens/a.png" in str(e.value)
    write_png(src / "lens" / "a.png", np.zeros((10, 12), np.uint8))
    write_png(src / "lens" / "zz.png", np.zeros((10, 12), np.uint8))
    with pytest.raises(AntsegInputError, match="mask without an image"):
        run_importer("masks", src, tmp_path / "o", ImportOptions(workers=1))
    with pytest.raises(AntsegInputError, match="no images folder"):
        run_importer("masks", src / "lens", tmp_path / "o", ImportOptions(workers=1))


def test_labelme_round_trip_of_phantom(asoct_phantom, tmp_path):
    run_exporter("labelme", asoct_phantom, tmp_path / "lm", image_format="jpg")
    groups = sorted(p.name for p in (tmp_path / "lm").iterdir() if p.name != OWNER_MARKER)
    assert groups == ["Cataract", "Normal", "PACG", "PACG_Cataract"]
    back = load_dataset(run_importer("labelme", tmp_path / "lm", tmp_path / "back", ImportOptions(workers=2)).out)
    ref = load_dataset(asoct_phantom)
    for c in ref:
        b = back.case(c.case_id)
        np.testing.assert_array_equal(back.load_masks(b), ref.load_masks(c))
        assert (b.group, b.patient_id, b.eye) == (c.group, c.patient_id, c.eye)
        for k, v in c.landmarks.items():
            assert b.landmarks[k] == pytest.approx(v, abs=1e-3)


@pytest.mark.parametrize("kind", ["csv", "xlsx"])
def test_age_table(tmp_path, kind):
    (tmp_path / "img").mkdir()
    for name in ("T0001", "T0002"):
        write_png(tmp_path / "img" / f"{name}.png", np.zeros((50, 80), np.uint8))
    rows = [
        ["ASOCT_Name", "Left_Label", "X1", "Y1", "Right_Label", "X2", "Y2"],
        ["T0001.jpg", "0", "10.5", "20", "1", "70", "22.25"],
        ["T0002.jpg", "1", "-1", "-1", "0", "60", "30"],
    ]
    if kind == "csv":
        table = tmp_path / "labels.csv"
        table.write_text("\n".join(",".join(r) for r in rows) + "\n")
    else:
        import openpyxl

        wb = openpyxl.Workbook()
        for r in rows:
            wb.active.append([float(v) if v.lstrip("-").replace(".", "").isdigit() else v for v in r])
        table = tmp_path / "labels.xlsx"
        wb.save(table)
    ds = load_dataset(run_importer("age", tmp_path, tmp_path / "out", ImportOptions(workers=1)).out)
    assert ds.structures == [] and ds.landmarks == ["left_scleral_spur", "right_scleral_spur"]
    a, b = ds.case("T0001"), ds.case("T0002")
    assert a.landmarks == {"left_scleral_spur": (10.5, 20.0), "right_scleral_spur": (70.0, 22.25)}
    assert b.landmarks["left_scleral_spur"] is None and b.landmarks["right_scleral_spur"] == (60.0, 30.0)
    assert a.extra["right_angle_label"] in ("1", "1.0")


def test_age_bad_tables(tmp_path):
    (tmp_path / "t").mkdir()
    write_png(tmp_path / "t" / "T1.png", np.zeros((50, 80), np.uint8))
    table = tmp_path / "t" / "labels.csv"
    table.write_text("ASOCT_Name,X1,Y1\nT1.jpg,1,2\n")
    with pytest.raises(AntsegInputError, match="missing column"):
        run_importer("age", tmp_path / "t", tmp_path / "o")
    table.write_text("ASOCT_Name,Left_Label,X1,Y1,Right_Label,X2,Y2\nT9.jpg,0,1,2,0,3,4\n")
    with pytest.raises(AntsegInputError, match="'T9.jpg' not found"):
        run_importer("age", tmp_path / "t", tmp_path / "o")
    table.write_text("ASOCT_Name,Left_Label,X1,Y1,Right_Label,X2,Y2\nT1.jpg,0,1,2,0,3,400\n")
    with pytest.raises(AntsegInputError, match="outside"):
        run_importer("age", tmp_path / "t", tmp_path / "o", ImportOptions(workers=1))
    table.write_text("ASOCT_Name,Left_Label,X1,Y1,Right_Label,X2,Y2\nT1.jpg,0,one,2,0,3,4\n")
    with pytest.raises(AntsegInputError, match="X1 must be a number"):
        run_importer("age", tmp_path / "t", tmp_path / "o")
