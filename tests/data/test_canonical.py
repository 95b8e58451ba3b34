"""The canonical dataset format: exact round trip of masks, landmarks and columns; clear load errors."""

from __future__ import annotations

import numpy as np
import pytest

from antseg.data.canonical import load_dataset, write_dataset_files, write_mask
from antseg.data.schema import Case, Manifest, Structure
from antseg.errors import AntsegInputError


def test_canonical_round_trip(tmp_path):
    (tmp_path / "images").mkdir()
    masks = np.zeros((2, 5, 6), np.uint8)
    masks[0, 1:3, 1:4] = 1
    masks[1, 2:4, 2:5] = 1  # overlaps structure 0
    rel = write_mask(tmp_path, "c1", masks)
    (tmp_path / "images" / "c1.png").write_bytes(b"")
    man = Manifest(
        "t",
        "asoct",
        [Structure("lens", 1, (1, 2, 3)), Structure("nucleus", 2, (4, 5, 6))],
        ["left_scleral_spur", "right_scleral_spur"],
        spacing_mm=(0.01, 0.02),
    )
    case = Case(
        "c1",
        "p1",
        "images/c1.png",
        6,
        5,
        mask=rel,
        group="pacg",
        split="test",
        landmarks={"left_scleral_spur": (1.25, 2.5), "right_scleral_spur": None},
        extra={"note": "x"},
    )
    write_dataset_files(tmp_path, man, [case])
    ds = load_dataset(tmp_path)
    c = ds.cases[0]
    assert c.landmarks == {"left_scleral_spur": (1.25, 2.5), "right_scleral_spur": None}
    assert c.extra == {"note": "x"} and c.group == "pacg" and c.split == "test"
    assert ds.spacing(c) == (0.01, 0.02)
    np.testing.assert_array_equal(ds.load_masks(c), masks)


def test_load_dataset_errors(tmp_path):
    with pytest.raises(AntsegInputError, match="not a dataset folder"):
        load_dataset(tmp_path / "nope")
    with pytest.raises(AntsegInputError, match="missing"):
        load_dataset(tmp_path)
    (tmp_path / "dataset.json").write_text("{ broken")
    with pytest.raises(AntsegInputError, match="malformed manifest"):
        load_dataset(tmp_path)
