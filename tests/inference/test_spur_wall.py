"""Spurs kept on the angle wall: exact moves on hand-made masks, the threshold, the sides, the off switches."""

from __future__ import annotations

import math

import numpy as np
import pytest

from antseg.inference.outputs import MOVED_GREY, overlay
from antseg.inference.spur_wall import (
    MAX_FROM_ANGLE_MM,
    MAX_MOVE_MM,
    MAX_OFF_WALL_MM,
    angle_wall,
    chamber_end,
    constrain_spurs,
)

H, W = 200, 300
SPACING = (0.01, 0.01)  # mm per pixel: 0.3 mm = 30 px


def _masks(cornea: bool = True, iris: bool = False) -> dict[str, np.ndarray]:
    """A corneal band on rows 20-39 across the scan, a chamber box under it (rows 40-99, columns 100-199)."""
    m = {n: np.zeros((H, W), np.uint8) for n in ("anterior_chamber", "cornea", "left_iris", "right_iris")}
    if cornea:
        m["cornea"][20:40] = 1
    m["anterior_chamber"][40:100, 100:200] = 1
    if iris:
        m["left_iris"][45:60, 30:90] = 1  # 5 rows under the cornea, left of the chamber
    return m


def _spur(x: float, y: float, visible: bool = True) -> dict:
    return {"x": x, "y": y, "confidence": 0.97, "visible": visible}


def test_angle_wall_is_the_cornea_edge_next_to_the_chamber():
    wall = angle_wall(_masks(), SPACING)
    ys, xs = np.nonzero(wall)
    assert set(ys.tolist()) == {39}  # the posterior edge only: the top edge is 0.2 mm from the chamber
    assert xs.min() == 100 - 13 and xs.max() == 199 + 13  # 0.13 mm = 13 px either side of the chamber
    wall = angle_wall(_masks(iris=True), SPACING)
    assert wall[39, 30:90].all()  # an iris within 0.13 mm of the cornea makes its edge wall too
    assert angle_wall(_masks(cornea=False), SPACING) is None


def test_a_spur_near_the_wall_stays():
    spurs = {"left_scleral_spur": _spur(120, 41), "right_scleral_spur": _spur(180, 65)}  # 0.02 and 0.26 mm off
    out = constrain_spurs(spurs, _masks(), SPACING)
    for n in spurs:
        assert (out[n]["x"], out[n]["y"], out[n]["moved_mm"]) == (spurs[n]["x"], spurs[n]["y"], 0.0)
        assert out[n]["confidence"] == 0.97 and out[n]["visible"]


def test_a_spur_off_the_wall_moves_to_its_nearest_wall_point():
    spurs = {"left_scleral_spur": _spur(120, 80), "right_scleral_spur": _spur(180.5, 90)}
    out = constrain_spurs(spurs, _masks(), SPACING)
    assert (out["left_scleral_spur"]["x"], out["left_scleral_spur"]["y"]) == (120.0, 39.0)
    assert out["left_scleral_spur"]["moved_mm"] == pytest.approx(0.41)
    assert out["right_scleral_spur"]["y"] == 39.0 and out["right_scleral_spur"]["x"] in (180.0, 181.0)
    assert out["right_scleral_spur"]["moved_mm"] == pytest.approx(math.hypot(0.005, 0.51))
    assert spurs["left_scleral_spur"]["y"] == 80  # the input is not changed
    assert (out["left_scleral_spur"]["model_x"], out["left_scleral_spur"]["model_y"]) == (120, 80)


def test_a_spur_far_from_any_wall_stays_and_says_how_far():
    """A wall more than 1 mm away is not where the spur is (a chamber lost near that angle): moving the spur there
    would make it worse, so it stays, unchecked (``moved_mm`` NaN), with its distance to the wall."""
    spurs = {"left_scleral_spur": _spur(120, 150), "right_scleral_spur": _spur(180, 139)}  # 1.11 and 1.00 mm off
    out = constrain_spurs(spurs, _masks(), SPACING)
    left, right = out["left_scleral_spur"], out["right_scleral_spur"]
    assert (left["x"], left["y"]) == (120, 150) and math.isnan(left["moved_mm"])
    assert left["off_wall_mm"] == pytest.approx(1.11)
    assert (right["x"], right["y"], right["moved_mm"]) == (180.0, 39.0, pytest.approx(1.0))  # 1 mm: still moved
    assert "off_wall_mm" not in right and MAX_MOVE_MM == 1.0
    out = constrain_spurs(spurs, _masks(), SPACING, max_move_mm=2.0)["left_scleral_spur"]
    assert out["y"] == 39.0 and out["moved_mm"] == pytest.approx(1.11)


def test_each_spur_moves_only_to_its_own_half_of_the_wall():
    """A left spur predicted under the right half of the chamber (x 170, centre 149.5) goes to the left half's
    closest wall point (149, 39), not straight up."""
    out = constrain_spurs({"left_scleral_spur": _spur(170, 80)}, _masks(), SPACING)
    assert (out["left_scleral_spur"]["x"], out["left_scleral_spur"]["y"]) == (149.0, 39.0)
    assert out["left_scleral_spur"]["moved_mm"] == pytest.approx(math.hypot(0.21, 0.41))


def test_the_threshold_and_the_spacing_are_in_mm():
    spurs = {"left_scleral_spur": _spur(120, 65)}  # 26 px under the wall
    assert constrain_spurs(spurs, _masks(), SPACING)["left_scleral_spur"]["moved_mm"] == 0.0  # 0.26 < 0.3 mm
    assert constrain_spurs(spurs, _masks(), SPACING, 0.2)["left_scleral_spur"]["moved_mm"] == pytest.approx(0.26)
    out = constrain_spurs(spurs, _masks(), (0.01, 0.02))  # taller pixels: 26 px = 0.52 mm in y
    assert out["left_scleral_spur"]["y"] == 39.0 and out["left_scleral_spur"]["moved_mm"] == pytest.approx(0.52)
    assert MAX_OFF_WALL_MM == 0.3


def test_chamber_end_is_the_chambers_outermost_column_on_that_side():
    ac = _masks()["anterior_chamber"]
    assert chamber_end(ac, "left") == (100.0, 69.5) and chamber_end(ac, "right") == (199.0, 69.5)
    ac[60:70, 99] = 1  # a narrower tip one column further out: its own rows give the height
    assert chamber_end(ac, "left") == (99.0, 64.5)
    ac[:, 0] = 1  # the chamber reaches the image edge: the angle is outside the scan
    assert chamber_end(ac, "left") is None and chamber_end(ac, "right") == (199.0, 69.5)
    assert chamber_end(np.zeros((H, W), np.uint8), "left") is None


def test_every_spur_says_how_far_it_lies_from_where_the_chamber_ends():
    """A spur on the wall can still be nowhere near an angle: the whole posterior cornea borders the chamber."""
    spurs = {"left_scleral_spur": _spur(103, 66), "right_scleral_spur": _spur(150, 41)}  # right: mid-cornea
    out = constrain_spurs(spurs, _masks(), SPACING)
    assert out["left_scleral_spur"]["from_angle_mm"] == pytest.approx(math.hypot(0.03, 0.035))
    assert out["right_scleral_spur"]["moved_mm"] == 0.0  # on the wall ...
    assert out["right_scleral_spur"]["from_angle_mm"] == pytest.approx(math.hypot(0.49, 0.285))  # ... not at an angle
    moved = constrain_spurs({"left_scleral_spur": _spur(120, 80)}, _masks(), SPACING)["left_scleral_spur"]
    assert moved["from_angle_mm"] == pytest.approx(math.hypot(0.2, 0.305))  # from where the spur ends up
    assert math.isnan(constrain_spurs(spurs, _masks(), None)["left_scleral_spur"]["from_angle_mm"])
    off = constrain_spurs(spurs, _masks(), SPACING, 0.0)["right_scleral_spur"]  # the wall check off: still measured
    assert off["from_angle_mm"] == pytest.approx(math.hypot(0.49, 0.285)) and math.isnan(off["moved_mm"])
    assert MAX_FROM_ANGLE_MM == 1.0


@pytest.mark.parametrize(
    ("masks", "spacing", "max_off"),
    [(_masks(cornea=False), SPACING, None), (_masks(), None, None), (_masks(), SPACING, 0.0)],
    ids=["no cornea", "no spacing", "off"],
)
def test_unchecked_spurs_stay_with_nan(masks, spacing, max_off):
    spurs = {"left_scleral_spur": _spur(120, 80)}
    out = constrain_spurs(spurs, masks, spacing, max_off)["left_scleral_spur"]
    assert (out["x"], out["y"]) == (120, 80) and math.isnan(out["moved_mm"])


def test_an_absent_spur_is_left_alone():
    spurs = {"left_scleral_spur": {"x": None, "y": None, "confidence": 0.1, "visible": False}}
    out = constrain_spurs(spurs, _masks(), SPACING)["left_scleral_spur"]
    assert out["x"] is None and not out["visible"] and math.isnan(out["moved_mm"])
    assert math.isnan(out["from_angle_mm"])


def test_the_overlay_shows_where_a_moved_spur_was():
    masks = _masks()
    names = list(masks)
    image = np.zeros((H, W), np.uint8)
    moved = constrain_spurs({"left_scleral_spur": _spur(120, 80)}, masks, SPACING)
    kept = constrain_spurs({"left_scleral_spur": _spur(120, 41)}, masks, SPACING)
    stack = np.stack([masks[n] for n in names])

    def grey_near(img, x, y):  # the model's point, 5 px ring around it
        patch = img[y - 6 : y + 7, x - 6 : x + 7].reshape(-1, 3)
        return bool((np.abs(patch.astype(int) - MOVED_GREY).sum(axis=1) < 40).any())

    assert grey_near(overlay(image, stack, names, spurs=moved), 120, 80)
    assert not grey_near(overlay(image, stack, names, spurs=kept), 120, 80)
