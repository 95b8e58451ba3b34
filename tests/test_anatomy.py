"""The anatomy vocabulary: sides, mirrors, spur names, labels, groups, structure order, measure columns."""

from __future__ import annotations

import csv

import pytest

from antseg.anatomy import (
    ASOCT_STRUCTURES,
    GLOBAL_MEASURES,
    MEASURES,
    PER_SIDE_MEASURES,
    SPURS,
    mirror_name,
    normalize_group,
    normalize_label,
    side_of,
    site_label,
    spur_name,
    structure_order,
)


@pytest.mark.parametrize(
    "name, side",
    [
        ("left_iris", "left"),
        ("right_iris", "right"),
        ("left_scleral_spur", "left"),
        ("right_scleral_spur", "right"),
        ("lens", None),
        ("anterior_chamber", None),
        ("leftover", None),  # a prefix without the underscore is not a side
        ("iris_left", None),  # the side must come first
    ],
)
def test_side_of(name, side):
    assert side_of(name) == side


def test_mirror_name():
    assert mirror_name("left_iris") == "right_iris"
    assert mirror_name("right_iris") == "left_iris"
    assert mirror_name("left_scleral_spur") == "right_scleral_spur"
    assert mirror_name("lens") == "lens" and mirror_name("leftover") == "leftover"
    for n in ("left_iris", "right_scleral_spur", "nucleus"):
        assert mirror_name(mirror_name(n)) == n


def test_spur_name_and_site_label():
    assert spur_name("left") == "left_scleral_spur" and spur_name("right") == "right_scleral_spur"
    assert SPURS == (spur_name("left"), spur_name("right"))
    assert site_label("left_scleral_spur") == "Left" and site_label("right_scleral_spur") == "Right"
    assert site_label("apex_point") == "Apex Point"


def test_normalisation():
    assert normalize_label(" Phacoemulsification  Tip ") == "phacoemulsification_tip"
    assert normalize_group("Glaucoma_Cataract") == "pacg_cataract"
    assert normalize_group("PACG") == "pacg"


def test_normalize_label_and_group_edge_cases():
    assert normalize_label("Slit/Incision Knife") == "slit_incision_knife"
    assert normalize_label("__Iris-L__") == "iris_l"
    assert normalize_label("Irrigation-Aspiration") == "irrigation_aspiration"
    assert normalize_group("Glaucoma") == "pacg"
    assert normalize_group("PACG+Cataract") == "pacg_cataract"
    assert normalize_group("Normal") == "normal"
    assert normalize_group("Keratoconus") == "keratoconus"  # unknown groups pass through, normalised


def test_structure_order():
    assert structure_order(set(ASOCT_STRUCTURES)) == list(ASOCT_STRUCTURES)
    assert structure_order(["right_iris", "lens", "anterior_chamber"]) == ["anterior_chamber", "lens", "right_iris"]
    assert structure_order({"zonule", "lens", "capsule"}) == ["lens", "capsule", "zonule"]  # unknown: alphabetical
    assert structure_order(set()) == []


def test_measures_are_global_then_left_then_right():
    n = len(PER_SIDE_MEASURES)
    assert MEASURES[: len(GLOBAL_MEASURES)] == list(GLOBAL_MEASURES)
    left = MEASURES[len(GLOBAL_MEASURES) : len(GLOBAL_MEASURES) + n]
    right = MEASURES[len(GLOBAL_MEASURES) + n :]
    assert left == [f"{m}_left" for m in PER_SIDE_MEASURES]
    assert right == [f"{m}_right" for m in PER_SIDE_MEASURES]
    assert len(MEASURES) == len(set(MEASURES)) == 5 + 2 * 9
    assert MEASURES[:5] == ["acd_mm", "acw_mm", "lv_mm", "pupil_diameter_mm", "ac_area_mm2"]
    assert MEASURES[5] == "aod500_mm_left" and MEASURES[-1] == "iris_curvature_mm_right"


def test_phantom_reference_biometry_columns_are_the_measures(asoct_phantom):
    with open(asoct_phantom / "biometry.csv", newline="") as fh:
        header = next(csv.reader(fh))
    assert header == ["case_id", *MEASURES]
