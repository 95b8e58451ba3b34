"""Exporters: one contract every registered exporter satisfies, then format-specific checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from antseg.anatomy import SPURS
from antseg.data.canonical import load_dataset
from antseg.data.exporters import EXPORTERS, run_exporter
from antseg.data.importers import ImportOptions, run_importer
from antseg.data.split import SplitConfig, split_dataset
from antseg.errors import AntsegInputError
from antseg.io.output_folder import OWNER_MARKER

# -- the contract ---------------------------------------------------------------------------------------------


class _ExporterContract:
    """What every exporter must satisfy (one subclass per registered exporter, see the test below).

    - It writes its layout: exactly the expected top-level entries (``layout``).
    - It refuses an existing non-empty output folder without overwrite: exit 2 through the CLI with one line,
      the folder untouched and nothing written beside it; with overwrite the folder is replaced.
    - It round-trips exactly: read back (with the importer of the same format, or by parsing the files), every
      case is there and the masks and landmarks equal the source's exactly, for what the format carries.

    Subclasses set ``name`` and, where they differ from the defaults, ``phantom`` (the canonical fixture to
    export), ``masks`` / ``landmarks`` (what the format carries), ``layout(ds)`` and ``read_back``.
    """

    name = ""
    phantom = "asoct_phantom"
    masks = True
    landmarks = True

    def layout(self, ds) -> set[str]:
        raise NotImplementedError

    def read_back(self, out: Path, work: Path) -> dict[str, dict]:
        """case id -> {"masks": (N, H, W), "landmarks": {name: (x, y) | None}}, via the importer ``name``."""
        back = load_dataset(run_importer(self.name, out, work / "back", ImportOptions(workers=1)).out)
        return {c.case_id: {"masks": back.load_masks(c), "landmarks": c.landmarks} for c in back}

    def expected_landmarks(self, case) -> dict:
        return case.landmarks

    def test_writes_the_layout(self, exported, reference):
        ds = load_dataset(reference)
        assert {p.name for p in exported.iterdir()} == self.layout(ds) | {OWNER_MARKER}

    def test_refuses_existing_output_without_overwrite(self, reference, tmp_path, cli):
        out = tmp_path / "out"
        out.mkdir()
        (out / "keep.txt").write_text("x")
        r = cli("data", "export", self.name, reference, out)
        assert r.code == 2 and "--overwrite" in r.err and str(out) in r.err
        assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
        assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder left beside it
        with pytest.raises(AntsegInputError, match="not made by antseg"):  # the user's folder is never replaced
            run_exporter(self.name, reference, out, overwrite=True)
        assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]
        run_exporter(self.name, reference, tmp_path / "mine")
        run_exporter(self.name, reference, tmp_path / "mine", overwrite=True)  # antseg's own: replaced
        assert {p.name for p in (tmp_path / "mine").iterdir()} == self.layout(load_dataset(reference)) | {OWNER_MARKER}

    def test_round_trip_is_exact(self, exported, reference, tmp_path):
        assert self.masks or self.landmarks  # the format carries something to compare
        ref = load_dataset(reference)
        back = self.read_back(exported, tmp_path)
        assert sorted(back) == sorted(c.case_id for c in ref)
        for c in ref:
            if self.masks:
                np.testing.assert_array_equal(back[c.case_id]["masks"], ref.load_masks(c))
            if self.landmarks:
                assert back[c.case_id]["landmarks"] == self.expected_landmarks(c)


@pytest.fixture(scope="class")
def reference(request) -> Path:
    """The canonical phantom the contract class exports."""
    return request.getfixturevalue(request.cls.phantom)


@pytest.fixture(scope="class")
def exported(request, reference, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp(f"exp-{request.cls.name}") / "out"
    return run_exporter(request.cls.name, reference, out)


class TestLabelmeExporter(_ExporterContract):
    name = "labelme"

    def layout(self, ds):
        return {"Normal", "Cataract", "PACG", "PACG_Cataract"}  # one folder per diagnosis group


class TestMasksExporter(_ExporterContract):
    name, landmarks = "masks", False

    def layout(self, ds):
        return {"images", *ds.structures}


class TestSuperviselyExporter(_ExporterContract):
    name, phantom, landmarks = "supervisely", "surgical_phantom", False

    def layout(self, ds):
        return {c.patient_id for c in ds}  # one folder per video


def parse_yolo_pose(out: Path) -> dict[str, dict]:
    """case id -> {"landmarks": {spur: (x, y) normalised, as written, or None when not visible}}."""
    found = {}
    for f in sorted((out / "labels").glob("*/*.txt")):
        vals = f.read_text().split()
        assert vals[0] == "0" and len(vals) == 5 + 3 * len(SPURS)
        pts = {}
        for k, name in enumerate(SPURS):
            x, y, v = float(vals[5 + 3 * k]), float(vals[6 + 3 * k]), int(vals[7 + 3 * k])
            assert v in (0, 2) and (v == 2 or x == y == 0)
            pts[name] = (x, y) if v == 2 else None
        found[f.stem] = {"landmarks": pts}
    return found


class TestYoloPoseExporter(_ExporterContract):
    name, masks = "yolo-pose", False

    def layout(self, ds):
        return {"images", "labels", "data.yaml"}

    def read_back(self, out, work):
        return parse_yolo_pose(out)

    def expected_landmarks(self, case):
        """Normalised by the image size, to the 6 decimals the format writes."""
        return {
            n: None if p is None else (float(f"{p[0] / case.width:.6f}"), float(f"{p[1] / case.height:.6f}"))
            for n, p in case.landmarks.items()
        }


def test_every_exporter_has_the_contract():
    assert sorted(c.name for c in _ExporterContract.__subclasses__()) == EXPORTERS.names()


# -- format by format -----------------------------------------------------------------------------------------


def test_yolo_pose_export_round_trips(asoct_phantom, tmp_path):
    import yaml

    ds_path = tmp_path / "ds"
    shutil.copytree(asoct_phantom, ds_path)
    ds = load_dataset(ds_path)
    ds.cases[0].landmarks["right_scleral_spur"] = None  # one spur not visible
    ds.save()
    split_dataset(ds_path, SplitConfig(ratios=(0.5, 0.25, 0.25)))
    run_exporter("yolo-pose", ds_path, tmp_path / "yolo")
    data = yaml.safe_load((tmp_path / "yolo" / "data.yaml").read_text())
    assert data["kpt_shape"] == [2, 3] and data["flip_idx"] == [1, 0] and data["names"] == {0: "anterior_segment"}
    assert 0.002 < data["kpt_sigmas"][0] < 0.05 and set(data) >= {"train", "val", "test"}
    ds = load_dataset(ds_path)
    for c in ds:
        line = (tmp_path / "yolo" / "labels" / c.split / f"{c.case_id}.txt").read_text().split()
        assert line[0] == "0" and len(line) == 11
        cx, cy, bw, bh = map(float, line[1:5])
        for k, n in enumerate(("left_scleral_spur", "right_scleral_spur")):
            x, y, v = float(line[5 + 3 * k]), float(line[6 + 3 * k]), int(line[7 + 3 * k])
            p = c.landmarks[n]
            if p is None:
                assert v == 0 and x == 0 and y == 0
            else:
                assert v == 2 and abs(x * c.width - p[0]) < 1e-3 * c.width / 100 and abs(y * c.height - p[1]) < 0.01
                assert abs(x - cx) <= bw / 2 and abs(y - cy) <= bh / 2  # the box holds the spurs
        assert (tmp_path / "yolo" / "images" / c.split / f"{c.case_id}.png").is_file()
