"""Quality control: images that are not anterior-segment B-scans, and each reason a measure gets ``check``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from antseg.scan.config import QualityLimits
from antseg.scan.quality import anatomy_problems, image_problems, judge_measures, spur_doubts
from antseg.scan.result import CHECK, NOT_MEASURED, OK, Repair


def _scan(h=300, w=640) -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(0, 40, (h, w)).astype(np.uint8)


@pytest.mark.parametrize(
    "image, words",
    [
        (_scan(), None),
        (np.zeros((7, 5), np.uint8), "too small"),
        (_scan(640, 300), "not the shape"),
        (_scan(20000 // 64, 20000), "not the shape"),
        (np.dstack([_scan(), _scan() // 4, _scan() * 3]), "colour"),
        (np.full((300, 640), 200, np.uint8), "mostly bright"),
        (np.zeros((300, 640), np.uint8), "blank"),
    ],
    ids=["scan", "tiny", "rotated", "strip", "colour", "bright", "black"],
)
def test_image_problems(image, words):
    got = image_problems(image)
    assert (got == []) if words is None else any(words in p for p in got), got


def _anatomy():
    m = {k: np.zeros((100, 200), np.uint8) for k in ("anterior_chamber", "left_iris", "right_iris", "cornea")}
    m["cornea"][10:20, 20:180] = 1
    m["anterior_chamber"][20:40, 30:170] = 1
    m["left_iris"][40:44, 30:60] = 1
    m["right_iris"][40:44, 140:170] = 1
    return m


SP = (0.05, 0.05)  # the hand-made anatomy's cornea is then 0.5 mm thick


def test_anatomy_problems():
    assert anatomy_problems(_anatomy(), SP) == []
    deep = _anatomy()
    deep["anterior_chamber"][20:99, 60:140] = 1  # nearly as deep as wide: a close-up or a rotated scan
    assert "times as wide as deep" in anatomy_problems(deep, SP)[0]
    near = _anatomy()
    near["anterior_chamber"][20:23, 0:30] = 1  # a thin angle recess reaching the side
    assert any("left side" in p and "its spur is not in it" in p for p in anatomy_problems(near, SP))
    seen = {"left_scleral_spur": {"visible": True}, "right_scleral_spur": {"visible": True}}
    assert not any("partial" in p for p in anatomy_problems(near, SP, seen))  # an angle near the side
    half = _anatomy()
    half["anterior_chamber"][20:40, 0:30] = 1  # as deep at the side as in the middle: cut through
    assert any("cut by the left side" in p for p in anatomy_problems(half, SP, seen))
    one = _anatomy()
    one["right_iris"][:] = 0
    assert anatomy_problems(one, SP) == ["no right iris found: not a full anterior-segment B-scan"]
    none = _anatomy()
    none["anterior_chamber"][:] = 0
    assert anatomy_problems(none, None)[0].startswith("no anterior chamber found")
    bare = _anatomy()
    bare["cornea"][:, 60:140] = 0
    assert anatomy_problems(bare, SP)[0].startswith("the cornea covers only 43% of the chamber's roof")
    thick = _anatomy()
    thick["cornea"][0:20, 20:180] = 1  # 1 mm thick at 0.05 mm/px: a thick cornea; at 0.1 mm/px, 2 mm: not one
    assert anatomy_problems(thick, SP) == []
    assert "central cornea is 2.00 mm thick" in anatomy_problems(thick, (0.1, 0.1))[-1]
    far = _anatomy()
    far["left_iris"][:] = 0
    far["left_iris"][80:90, 30:60] = 1
    assert anatomy_problems(far, SP) == ["the left iris does not touch the chamber: not a full "
                                                   "anterior-segment B-scan"]  # fmt: skip


def test_spur_doubts():
    lim = QualityLimits()
    ok = {"visible": True, "confidence": 0.95, "moved_mm": 0.0, "mirror_mm": 0.05}
    assert spur_doubts(ok, "left", lim) == []
    assert spur_doubts({**ok, "visible": False}, "left", lim) == []
    bad = {**ok, "confidence": 0.5, "moved_mm": 0.42, "mirror_mm": 0.3}
    assert spur_doubts(bad, "right", lim) == [
        "right spur found with low confidence (0.50)",
        "right spur was 0.42 mm off the angle wall and was moved onto it",
        "right spur lies 0.30 mm from the one found on the mirrored scan",
    ]
    far = {**ok, "moved_mm": float("nan"), "off_wall_mm": 5.31}
    assert spur_doubts(far, "left", lim) == [
        "left spur lies 5.31 mm from the angle wall the segmentation sees, too far to move it onto it: the spur or "
        "the segmentation is wrong there"
    ]
    assert spur_doubts({**ok, "from_angle_mm": 1.0}, "left", lim) == []  # at the limit: still at the angle
    assert spur_doubts({**ok, "from_angle_mm": 2.68}, "right", lim) == [
        "right spur lies 2.68 mm from where the chamber ends on its side, not at the angle: the spur or the "
        "segmentation is wrong there"
    ]
    assert spur_doubts({**ok, "from_angle_mm": 2.68}, "right", QualityLimits(spur_from_angle_mm=3.0)) == []


def _judge(values, reasons=None, details=None, spurs=None, repairs=(), mirror=None, lens=True):
    spurs = spurs or {n: {"visible": True, "confidence": 0.95, "moved_mm": 0.0, "mirror_mm": 0.0, "x": x, "y": 50.0}
                      for n, x in (("left_scleral_spur", 20.0), ("right_scleral_spur", 180.0))}  # fmt: skip
    return judge_measures(values, reasons or {}, details or {}, spurs, list(repairs), mirror or {}, QualityLimits(),
                          lens)  # fmt: skip


def test_each_reason_for_check():
    base = {"acd_mm": 2.5, "acw_mm": 12.0, "aod500_mm_left": 0.3, "iris_area_mm2_left": 1.5, "lv_mm": math.nan}
    got = _judge(base, {"lv_mm": "lens not visible"}, {"acd_lines_mm": [2.5] * 7, "acd_floor_on_lens": True})
    assert {k: m.status for k, m in got.items()} == {
        "acd_mm": OK, "acw_mm": OK, "aod500_mm_left": OK, "iris_area_mm2_left": OK, "lv_mm": NOT_MEASURED,
    }  # fmt: skip
    assert got["lv_mm"].reasons == ["lens not visible"]
    got = _judge(base, mirror={"acd_mm": 0.2, "aod500_mm_left": 0.01})
    assert got["acd_mm"].status == CHECK and got["acd_mm"].reasons == ["differs by 0.200 on the mirrored scan"]
    assert got["acd_mm"].mirror == 0.2 and got["aod500_mm_left"].status == OK
    got = _judge({**base, "acd_mm": 6.0})
    assert got["acd_mm"].reasons == ["outside the plausible range 0.8 to 5"]
    got = _judge(base, details={"acd_lines_mm": [2.5, 2.5, 1.9, 1.2, 2.4, 2.5, 2.5], "acd_floor_on_lens": False})
    assert got["acd_mm"].reasons == [
        "the chamber's depth varies by 1.30 mm across the measurement line (a hole, spike or step near it)",
        "the chamber does not end on the lens front on the measurement line",
    ]
    assert _judge(base, details={"acd_floor_on_lens": False}, lens=False)["acd_mm"].status == OK
    spurs = {"left_scleral_spur": {"visible": True, "confidence": 0.5, "x": 20.0, "y": 50.0},
             "right_scleral_spur": {"visible": True, "confidence": 0.95, "x": 180.0, "y": 50.0}}  # fmt: skip
    got = _judge(base, spurs=spurs)
    assert got["aod500_mm_left"].status == CHECK and got["acd_mm"].status == OK  # ACD: only via the mirror pass
    assert got["iris_area_mm2_left"].status == OK


def test_a_repair_doubts_only_the_measures_taken_where_it_was():
    base = {"acd_mm": 2.5, "aod500_mm_left": 0.3, "aod500_mm_right": 0.3, "ac_area_mm2": 20.0}
    changed = np.zeros((100, 200), bool)
    changed[40:60, 95:105] = True  # in the middle, on the ACD line
    hole = Repair("anterior_chamber", "filled holes", 200, 0.02, changed)
    got = _judge(base, repairs=[hole])
    assert got["acd_mm"].status == CHECK and got["ac_area_mm2"].status == CHECK
    assert got["aod500_mm_left"].status == OK and got["aod500_mm_right"].status == OK
    assert got["acd_mm"].reasons == ["the chamber was repaired (filled holes, 0.020 mm2)"]
    small = Repair("anterior_chamber", "filled holes", 2, 0.0002, changed)
    island = Repair("anterior_chamber", "removed islands", 200, 0.02, changed)
    assert _judge(base, repairs=[small, island])["acd_mm"].status == OK  # noise, and a removal changes no geometry


def test_spur_astray():
    from antseg.scan.quality import spur_astray

    lim = QualityLimits()
    assert not spur_astray({"moved_mm": 0.4, "from_angle_mm": 0.3, "off_wall_mm": math.nan}, lim)
    assert not spur_astray({}, lim) and not spur_astray({"from_angle_mm": 1.0}, lim)
    assert spur_astray({"off_wall_mm": 1.2}, lim) and spur_astray({"from_angle_mm": 1.01}, lim)
    assert not spur_astray({"from_angle_mm": 1.5}, QualityLimits(spur_from_angle_mm=2.0))


def test_the_spacing_hint_is_given_only_when_both_spurs_are_at_their_angles():
    """An implausible chamber width between two spurs at their angles may be a wrong pixel spacing; with a spur
    elsewhere in the scan (as a spur model put one at the corneal apex, 6.4 mm from the angle, on a real scan) the
    spur explains the width, and a hint to change the spacing would mislead."""
    from antseg.scan.quality import spacing_hint
    from antseg.scan.result import Measure

    lim, sp = QualityLimits(), (0.0075, 0.0075)
    at_angle = {"left_scleral_spur": {"from_angle_mm": 0.1}, "right_scleral_spur": {"from_angle_mm": 0.2}}
    assert spacing_hint(Measure(6.9), at_angle, lim, sp) == (
        "the chamber is 6.9 mm wide between the spurs (real eyes: 9 to 15 mm): is the pixel spacing 0.0075 x "
        "0.0075 mm right? Give --spacing"
    )
    assert spacing_hint(Measure(16.2), at_angle, lim, sp).startswith("the chamber is 16.2 mm wide")
    astray = {**at_angle, "left_scleral_spur": {"from_angle_mm": 6.39}}
    assert spacing_hint(Measure(6.9), astray, lim, sp) is None
    off_wall = {**at_angle, "right_scleral_spur": {"off_wall_mm": 1.4}}
    assert spacing_hint(Measure(6.9), off_wall, lim, sp) is None
    assert spacing_hint(Measure(11.8), at_angle, lim, sp) is None
    assert spacing_hint(Measure(math.nan), at_angle, lim, sp) is None and spacing_hint(None, at_angle, lim, sp) is None


def test_the_chamber_area_shares_the_floor_doubts_of_the_chamber_depth():
    """A floor broken on the depth's line (a spike toward the reflection line, a hole, a floor off the lens front)
    doubts the chamber area too, with the same reason; other doubts of ACD (its mirror disagreement) do not."""
    base = {"acd_mm": 2.5, "ac_area_mm2": 20.0, "acw_mm": 12.0}
    spike = {"acd_lines_mm": [2.5, 2.5, 1.9, 1.2, 2.4, 2.5, 2.5], "acd_floor_on_lens": True}
    got = _judge(base, details=spike)
    why = "the chamber's depth varies by 1.30 mm across the measurement line (a hole, spike or step near it)"
    assert got["acd_mm"].reasons == [why] and got["ac_area_mm2"].reasons == [why]
    assert got["ac_area_mm2"].status == CHECK and got["acw_mm"].status == OK
    off_lens = _judge(base, details={"acd_lines_mm": [2.5] * 7, "acd_floor_on_lens": False})
    assert off_lens["ac_area_mm2"].reasons == ["the chamber does not end on the lens front on the measurement line"]
    flat = {"acd_lines_mm": [2.5] * 7, "acd_floor_on_lens": True}
    assert _judge(base, details=flat)["ac_area_mm2"].status == OK
    mirrored = _judge(base, details=flat, mirror={"acd_mm": 0.3})
    assert mirrored["acd_mm"].status == CHECK and mirrored["ac_area_mm2"].status == OK
    assert _judge({**base, "acd_mm": math.nan}, details=spike)["ac_area_mm2"].status == OK  # no depth, no line


def test_gap_between_masks_is_measured_in_mm_on_each_axis():
    from antseg.scan.quality import _gap_mm

    a, b = np.zeros((60, 80), bool), np.zeros((60, 80), bool)
    a[50:55, 10:20] = True
    b[30:41, 10:20] = True  # 10 rows above a
    assert _gap_mm(a, b, (0.01, 0.02)) == pytest.approx(10 * 0.02)
    b[:] = False
    b[50:55, 40:70] = True  # 21 columns right of a
    assert _gap_mm(a, b, (0.01, 0.02)) == pytest.approx(21 * 0.01)
    b[44, 23] = True  # 4 columns right of and 6 rows above a's corner pixel (x 19, y 50)
    assert _gap_mm(a, b, (0.01, 0.02)) == pytest.approx(float(np.hypot(4 * 0.01, 6 * 0.02)))
