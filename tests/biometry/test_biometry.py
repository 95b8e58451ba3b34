"""Biometry: exact answers on hand-built geometry, anisotropic spacing, absent spurs, phantom agreement."""

from __future__ import annotations

import math

import numpy as np
import pytest

from antseg.biometry import MEASURES, measure
from antseg.biometry.agreement import agreement, icc_absolute


def test_acw_and_absent_spurs():
    ac = np.zeros((60, 100), bool)
    ac[10:30, 20:80] = True
    spurs = {"left_scleral_spur": (20.0, 40.0), "right_scleral_spur": (50.0, 80.0)}
    v, why = measure({"anterior_chamber": ac}, spurs, (0.1, 0.05))
    assert v["acw_mm"] == pytest.approx(math.hypot(3.0, 2.0))  # 30 px x 0.1, 40 px x 0.05
    v, why = measure(
        {"anterior_chamber": ac}, {"left_scleral_spur": None, "right_scleral_spur": (50.0, 80.0)}, (0.1, 0.05)
    )
    assert math.isnan(v["acw_mm"]) and "not visible" in why["acw_mm"]
    assert math.isnan(v["aod500_mm_left"]) and "left scleral spur" in why["aod500_mm_left"]
    assert math.isnan(v["lv_mm"]) and math.isnan(v["pupil_diameter_mm"]) and "iris" in why["pupil_diameter_mm"]
    assert v["ac_area_mm2"] == pytest.approx(20 * 60 * 0.1 * 0.05)
    assert set(v) == set(MEASURES)


@pytest.mark.parametrize("spacing", [(0.01, 0.01), (0.01, 0.02)])
def test_acd_and_lens_vault_on_rectangles(spacing):
    sx, sy = spacing
    ac = np.zeros((120, 200), bool)
    ac[20:60, 40:160] = True  # chamber edges at rows 19.5 and 59.5: 40 px deep
    lens = np.zeros_like(ac)
    lens[60:110, 60:140] = True  # anterior lens surface at row 59.5
    spurs = {"left_scleral_spur": (40.0, 80.0), "right_scleral_spur": (160.0, 80.0)}  # spur line at row 80
    v, _ = measure({"anterior_chamber": ac, "lens": lens}, spurs, spacing)
    assert v["acd_mm"] == pytest.approx(40 * sy, abs=0.1 * sy)
    assert v["lv_mm"] == pytest.approx((80 - 59.5) * sy, abs=1e-9)


def test_pupil_diameter_between_iris_tips():
    left, right = np.zeros((50, 200), bool), np.zeros((50, 200), bool)
    left[20:24, 10:70] = True  # tip edge at column 69.5
    right[20:24, 130:190] = True  # tip edge at column 129.5
    v, _ = measure({"left_iris": left, "right_iris": right}, {}, (0.02, 0.02))
    assert v["pupil_diameter_mm"] == pytest.approx(60 * 0.02)
    assert v["iris_area_mm2_left"] == pytest.approx(4 * 60 * 0.02 * 0.02)


def test_aod_and_tisa_on_a_straight_wedge():
    """Wall along y = x (down-left), iris along y = 0 ... an angle of 45 deg opening at the recess."""
    s = 0.01
    n = 400
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    # Chamber: below the wall line y = n - x (which rises to the right) and above the iris line y = n - 1 - 0.3 x.
    wall_y = n - xx
    iris_y = n + 40 - 0.3 * xx  # a straight iris meeting the wall at the recess
    ac = (yy > wall_y) & (yy < iris_y) & (xx < 300)
    rx = 40 / 0.7  # recess where the lines meet: n - x = n + 40 - 0.3 x
    spur_x = rx + 10  # spur 10 px central of the recess, on the wall
    spur = (spur_x, n - spur_x)
    v, why = measure({"anterior_chamber": ac}, {"left_scleral_spur": spur, "right_scleral_spur": None}, (s, s))
    # The AOD line is the wall normal at P, 500 um (50 px) along the wall from the spur; it meets the iris line.
    p = np.array(spur) + 50 * np.array([1, -1]) / math.sqrt(2)
    nrm = np.array([1, 1]) / math.sqrt(2)
    t = (n + 40 - 0.3 * p[0] - p[1]) / (nrm[1] + 0.3 * nrm[0])
    assert v["aod500_mm_left"] == pytest.approx(t * s, abs=1.5 * s)
    # TISA500: the trapezoid between the normals at the spur and at P (exact polygon area)
    q0 = np.array(spur) + (n + 40 - 0.3 * spur[0] - spur[1]) / (nrm[1] + 0.3 * nrm[0]) * nrm
    q = p + t * nrm
    poly = np.array([spur, p, q, q0])
    area = 0.5 * abs(np.dot(poly[:, 0], np.roll(poly[:, 1], -1)) - np.dot(poly[:, 1], np.roll(poly[:, 0], -1)))
    assert v["tisa500_mm2_left"] == pytest.approx(area * s * s, rel=0.03)
    assert v["ara500_mm2_left"] > v["tisa500_mm2_left"]


def test_agreement_statistics():
    ref = np.array([1.0, 2.0, 3.0, 4.0])
    assert icc_absolute(ref, ref) == pytest.approx(1.0)
    a = agreement(ref + 0.1, ref)
    assert a["mean_error"] == pytest.approx(0.1) and a["max_abs_error"] == pytest.approx(0.1)
    assert a["loa_low"] == pytest.approx(0.1) and a["loa_high"] == pytest.approx(0.1)
    assert 0.99 < a["icc"] < 1.0  # a constant offset lowers absolute agreement a little
    assert agreement(np.array([np.nan]), np.array([1.0]))["n"] == 0


def test_dataset_biometry_matches_the_phantom_truth(asoct_phantom, tmp_path, cli):
    r = cli("biometry", "--dataset", asoct_phantom, "--out", tmp_path / "bio")
    assert r.code == 0, r.err
    import csv

    rows = list(csv.DictReader(open(tmp_path / "bio" / "biometry.csv")))
    ref = {x["case_id"]: x for x in csv.DictReader(open(asoct_phantom / "biometry.csv"))}
    assert len(rows) == 12 and (tmp_path / "bio" / "overlays" / f"{rows[0]['case_id']}.png").is_file()
    for row in rows:
        assert row["narrow_angle_left"] in ("yes", "no")
        for m in MEASURES:
            truth = float(ref[row["case_id"]][m])
            tol = max(0.01, 0.002 * truth) if m.endswith("mm2") else 0.05  # 640x300 test scans: 1 px = 25 um
            assert abs(float(row[m]) - truth) <= tol, (m, row[m], truth)
    agree = list(csv.DictReader(open(tmp_path / "bio" / "agreement.csv")))
    assert {a["measure"] for a in agree} == set(MEASURES)


@pytest.mark.parametrize("spacing", [(0.02, 0.02), (0.02, 0.01)])
def test_disc_chamber_depth_and_area(spacing):
    """A circular chamber of radius 40 px; the spurs sit on its horizontal diameter, so ACD is the diameter."""
    sx, sy = spacing
    yy, xx = np.mgrid[0:120, 0:160]
    ac = (xx - 80) ** 2 + (yy - 60) ** 2 < 40**2
    spurs = {"left_scleral_spur": (40.0, 60.0), "right_scleral_spur": (120.0, 60.0)}
    v, _ = measure({"anterior_chamber": ac}, spurs, spacing)
    assert v["acw_mm"] == pytest.approx(80 * sx)
    assert v["acd_mm"] == pytest.approx(80 * sy, abs=1.1 * sy)  # edge to edge through the centre
    assert v["ac_area_mm2"] == pytest.approx(math.pi * 40**2 * sx * sy, rel=0.01)


def test_snap_to_wall_exact():
    from antseg.biometry.geometry import snap_to_wall

    wall = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 1.0]])
    assert snap_to_wall(wall, np.array([0.5, 0.3])) == pytest.approx([0.5, 0.0])
    assert snap_to_wall(wall, np.array([2.0, 0.0])) == pytest.approx([1.5, 0.5])  # onto the slanted segment
    assert snap_to_wall(wall, np.array([-1.0, -1.0])) == pytest.approx([0.0, 0.0])  # clipped to the end
    assert snap_to_wall(wall[:1], np.array([5.0, 5.0])) == pytest.approx([0.0, 0.0])


def test_snapped_spur_off_the_wall_measures_like_the_spur_on_it():
    """The straight wedge of the test above: a spur 6 px into the tissue (normal to the wall), snapped, gives
    the AOD500 and TISA500 of the spur on the wall, snapped (its offset normal to the wall no longer counts)."""
    s, n = 0.01, 400
    yy, xx = np.mgrid[0:n, 0:n].astype(float)
    ac = (yy > n - xx) & (yy < n + 40 - 0.3 * xx) & (xx < 300)
    on = (40 / 0.7 + 10, n - (40 / 0.7 + 10))
    off = (on[0] - 6 / math.sqrt(2), on[1] - 6 / math.sqrt(2))  # up-left: into the tissue above the wall
    ref, _ = measure({"anterior_chamber": ac}, {"left_scleral_spur": on}, (s, s), snap_spurs=True)
    snapped, _ = measure({"anterior_chamber": ac}, {"left_scleral_spur": off}, (s, s), snap_spurs=True)
    assert snapped["aod500_mm_left"] == pytest.approx(ref["aod500_mm_left"], abs=0.6 * s)
    assert snapped["tisa500_mm2_left"] == pytest.approx(ref["tisa500_mm2_left"], rel=0.02)
    assert snapped["acw_mm"] != snapped["acw_mm"]  # NaN: one spur only; ACW/ACD use the spurs as given
