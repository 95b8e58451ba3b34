"""Telling corrected scans from pre-labels left as ``antseg label`` wrote them."""

from __future__ import annotations

import shutil

import pytest

from antseg.data.canonical import load_dataset, write_mask
from antseg.data.prelabels import GENERATOR, PRELABELS, prelabels_beside, unchanged_cases


@pytest.fixture
def pair(asoct_phantom, tmp_path):
    """``labels/prelabels`` (as ``antseg label`` marks it) and a copy of it, the scans read back from LabelMe."""
    pre = tmp_path / "labels" / PRELABELS
    shutil.copytree(asoct_phantom, pre)
    ds = load_dataset(pre)
    ds.manifest.provenance = {"generator": GENERATOR}
    ds.save()
    back = tmp_path / "back"
    shutil.copytree(pre, back)
    (tmp_path / "labels" / "labelme").mkdir()
    return pre, back


def test_scans_read_back_as_written_are_all_unchanged(pair):
    pre, back = pair
    assert unchanged_cases(back, pre) == [c.case_id for c in load_dataset(back).cases]


def test_every_kind_of_correction_counts(pair):
    pre, back = pair
    ds = load_dataset(back)
    c0, c1, c2, c3 = ds.cases[:4]
    masks = ds.load_masks(c0)
    masks[0, 10, 10] = 1 - masks[0, 10, 10]  # one pixel of one structure
    c0.mask = write_mask(back, c0.case_id, masks)
    x, y = c1.landmarks["left_scleral_spur"]
    c1.landmarks["left_scleral_spur"] = (x + 0.5, y)  # a spur point moved half a pixel
    c2.landmarks["right_scleral_spur"] = None  # a spur point deleted
    c3.case_id = "a_scan_it_did_not_write"
    ds.save()
    changed = {c0.case_id, c1.case_id, c2.case_id, c3.case_id}
    assert unchanged_cases(back, pre) == [c.case_id for c in ds.cases if c.case_id not in changed]


def test_a_structure_deleted_everywhere_is_a_correction_where_it_was_drawn(pair):
    pre, back = pair
    ds = load_dataset(back)
    name = "nucleus"
    k = ds.structures.index(name)
    drawn = []
    for c in ds.cases:
        masks = ds.load_masks(c)
        if masks[k].any():
            drawn.append(c.case_id)
        keep = [i for i in range(len(ds.structures)) if i != k]
        c.mask = write_mask(back, c.case_id, masks[keep])
    ds.manifest.structures = [s for s in ds.manifest.structures if s.name != name]
    for i, s in enumerate(ds.manifest.structures):
        s.id = i + 1
    ds.save()
    assert drawn
    assert unchanged_cases(back, pre) == [c.case_id for c in ds.cases if c.case_id not in drawn]


def test_prelabels_are_found_only_beside_the_labelme_folder_and_only_from_antseg_label(pair, tmp_path):
    pre, _ = pair
    labelme = tmp_path / "labels" / "labelme"
    assert prelabels_beside(labelme) == pre
    assert prelabels_beside(tmp_path / "back") is None  # nothing called prelabels beside it
    ds = load_dataset(pre)
    ds.manifest.provenance = {"importer": "labelme"}
    ds.save()
    assert prelabels_beside(labelme) is None  # a dataset of that name, not written by antseg label
    (pre / "dataset.json").write_text("{not json")
    assert prelabels_beside(labelme) is None


def test_a_hole_in_a_pre_label_is_no_correction(pair):
    # LabelMe polygons have no holes: a pre-label's hole reads back filled although nobody touched the file.
    pre, back = pair
    ds = load_dataset(pre)
    c = ds.cases[0]
    masks = ds.load_masks(c)
    k = ds.structures.index("anterior_chamber")
    ys, xs = masks[k].nonzero()
    y, x = int(ys.mean()), int(xs.mean())
    assert masks[k][y - 2 : y + 3, x - 2 : x + 3].all()
    masks[k][y - 1 : y + 2, x - 1 : x + 2] = 0
    c.mask = write_mask(pre, c.case_id, masks)
    ds.save()
    assert c.case_id in unchanged_cases(back, pre)
    masks[k][y - 1 : y + 2, x - 1 : x + 2] = 1
    masks[k][: y + 1, x] = 0  # a notch from its edge in the corrected file: that is a correction
    b = load_dataset(back)
    b.cases[0].mask = write_mask(back, c.case_id, masks)
    b.save()
    assert c.case_id not in unchanged_cases(back, pre)
