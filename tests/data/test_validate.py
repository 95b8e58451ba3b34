"""Validation: a clean dataset passes; each injected problem is found and named."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from antseg.data.canonical import load_dataset
from antseg.data.validate import validate_dataset
from antseg.io.images import write_png


def _rewrite(path, fn):
    with open(path / "cases.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    fn(rows)
    with open(path / "cases.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def test_clean_dataset_is_valid(asoct_phantom, cli):
    assert validate_dataset(asoct_phantom).ok
    r = cli("data", "validate", asoct_phantom)
    assert r.code == 0 and "valid" in r.out


def _corrupt_image(p, rows):
    (p / rows[0]["image"]).write_bytes((p / rows[0]["image"]).read_bytes()[:300])


def _size(p, rows):
    rows[1]["width"] = "999"


def _landmark(p, rows):
    rows[2]["left_scleral_spur_x"] = "-50"


def _duplicate_image(p, rows):
    (p / rows[3]["image"]).write_bytes((p / rows[4]["image"]).read_bytes())


def _leakage(p, rows):
    rows[0]["split"], rows[1]["split"] = "train", "test"  # cases 0 and 1 are the two eyes of one patient


def _missing_mask(p, rows):
    (p / rows[5]["mask"]).unlink()


def _mask_size(p, rows):
    write_png(p / rows[6]["mask"], np.zeros((10, 10), np.uint8))


def _duplicate_id(p, rows):
    rows[7]["case_id"] = rows[8]["case_id"]


def _empty_structure(p, rows):
    write_png(p / rows[9]["mask"], np.zeros((int(rows[9]["height"]), int(rows[9]["width"])), np.uint8))


PROBLEMS = {
    "unreadable image": (_corrupt_image, "error", "image"),
    "size mismatch": (_size, "error", "size"),
    "landmark outside": (_landmark, "error", "landmark"),
    "duplicate image": (_duplicate_image, "error", "duplicate"),
    "patient leakage": (_leakage, "error", "leakage"),
    "missing mask": (_missing_mask, "error", "mask"),
    "mask size": (_mask_size, "error", "size"),
    "duplicate id": (_duplicate_id, "error", "duplicate"),
    "empty structure": (_empty_structure, "warning", "empty"),
}


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_each_problem_is_found(asoct_copy, cli, name):
    inject, level, check = PROBLEMS[name]
    _rewrite(asoct_copy, lambda rows: inject(asoct_copy, rows))
    rep = validate_dataset(asoct_copy)
    assert any(f.level == level and f.check == check for f in rep.findings), rep.findings
    r = cli("data", "validate", asoct_copy)
    assert r.code == (1 if level == "error" else 0)
    assert check in r.out


def test_nucleus_outside_lens_is_flagged(asoct_copy):
    ds = load_dataset(asoct_copy)
    c = ds.cases[0]
    m = ds.load_masks(c)
    m[2] = 0
    m[2, :20, :20] = 1  # nucleus in the corner, far from the lens
    from antseg.data.canonical import write_mask

    write_mask(asoct_copy, c.case_id, m)
    assert any(f.check == "anatomy" for f in validate_dataset(asoct_copy).findings)


def test_not_a_dataset_is_bad_input(tmp_path, cli):
    r = cli("data", "validate", tmp_path / "nothing")
    assert r.code == 2 and "not a dataset folder" in r.err
