"""Phantoms: determinism, anatomy, and analytic biometry checked against an independent computation
on the rendered masks (pixel counting and ray marching, sharing no code with the generator)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from antseg.anatomy import DIAGNOSIS_GROUPS as DIAGNOSIS_CYCLE
from antseg.anatomy import MEASURES
from antseg.data.canonical import load_dataset
from antseg.data.phantom.asoct import PHANTOM_STRUCTURES, NoiseBank, generate_scan
from antseg.data.validate import validate_dataset

W, H, SP = 2130, 998, 16.0 / 2130  # full CASIA SS-1000 size: 1 px = 7.5 um


@pytest.fixture(scope="module")
def scans():
    bank = NoiseBank(H, W, 0)
    return [generate_scan(g, 0, i, (W, H), (SP, SP), bank) for i, g in enumerate(DIAGNOSIS_CYCLE)]


def test_scan_is_deterministic_and_sized(scans):
    bank = NoiseBank(H, W, 0)
    again = generate_scan("normal", 0, 0, (W, H), (SP, SP), bank)
    np.testing.assert_array_equal(again.image, scans[0].image)
    np.testing.assert_array_equal(again.masks, scans[0].masks)
    assert scans[0].image.shape == (H, W) and scans[0].image.dtype == np.uint8
    assert not np.array_equal(scans[0].masks, scans[1].masks)


def test_hidden_spur_is_shadowed_and_labelled_absent(scans):
    bank = NoiseBank(H, W, 0)
    same = generate_scan("normal", 0, 0, (W, H), (SP, SP), bank, hidden_spurs=0.0)
    np.testing.assert_array_equal(same.image, scans[0].image)  # the option off changes nothing
    hid = generate_scan("normal", 0, 0, (W, H), (SP, SP), bank, hidden_spurs=1.0)
    gone = [n for n, p in hid.spurs.items() if p is None]
    assert len(gone) == 1  # exactly one angle in shadow
    side = gone[0].split("_")[0]
    x, y = scans[0].spurs[gone[0]]
    xi, yi = int(round(x)), int(round(y))
    box = (slice(yi - 40, yi + 40), slice(xi - 40, xi + 40))
    assert hid.image[box].mean() < 0.6 * scans[0].image[box].mean()  # the angle is dark
    other = f"{'right' if side == 'left' else 'left'}_scleral_spur"
    assert hid.spurs[other] == scans[0].spurs[other]
    np.testing.assert_array_equal(hid.masks, scans[0].masks)  # the anatomy is still there, exactly
    assert hid.biometry == scans[0].biometry


def test_anatomy_is_consistent(scans):
    for s in scans:
        ac, lens, nuc, il, ir, cornea = s.masks.astype(bool)
        assert nuc.sum() > 0 and not (nuc & ~lens).any()  # the nucleus lies inside the lens
        for a, b in [(ac, lens), (ac, il), (ac, ir), (il, lens), (ir, lens), (il, ir)]:
            assert not (a & b).any()
        for other in (ac, lens, il, ir):
            assert not (cornea & other).any()
        assert cornea[:, 0].any() and cornea[:, -1].any()  # the corneoscleral shell spans the scan
        (xl, yl), (xr, yr) = s.spurs["left_scleral_spur"], s.spurs["right_scleral_spur"]
        assert xl < W / 2 < xr
        # The spur sits on the chamber roof: chamber right below it, none right above it.
        for x, y in ((xl, yl), (xr, yr)):
            col = ac[:, int(round(x))]
            assert col[int(np.ceil(y)) + 1] and not col[int(np.floor(y)) - 2]


def test_image_looks_like_oct(scans):
    """Dark chamber, bright cornea, speckle: intensity statistics of a CASIA B-scan, not a cartoon."""
    s = scans[0]
    img = s.image.astype(float)
    ac = s.masks[0].astype(bool)
    ac[:, int(s.geometry.p.cx / SP) - 20 : int(s.geometry.p.cx / SP) + 20] = False  # skip the reflection line
    rows, cols = np.nonzero(s.masks[3])
    iris = img[rows, cols]
    assert img[ac].mean() < 60 < iris.mean()
    assert iris.std() > 15  # speckle and texture, not flat fills
    apex = int(s.geometry.p.cx / SP) + 60
    column = img[:, apex]
    assert (
        column[: int(s.geometry.p.epi_apex / SP) - 10].mean()
        < column[int(s.geometry.endo_apex / SP) - 20 : int(s.geometry.endo_apex / SP) - 5].mean()
    )


def test_analytic_biometry_matches_the_masks(scans):
    """The phantom's analytic values against ``antseg.biometry`` on its rendered masks and spurs: two
    independent computations (curves vs pixel counting and ray marching) that must agree within a pixel."""
    from antseg.biometry import measure

    for s in scans:
        masks = dict(zip(PHANTOM_STRUCTURES, s.masks, strict=True))
        est, why = measure(masks, s.spurs, (SP, SP))
        assert not why, why
        for k in MEASURES:
            truth = s.biometry[k]
            tol = max(0.005, 0.01 * truth) if k.endswith("_mm2") else 2 * SP  # 2 px = 0.015 mm
            assert abs(est[k] - truth) <= tol, (k, est[k], truth)


def test_groups_differ_plausibly():
    bank = NoiseBank(300, 640, 1)
    stats = {}
    for g in DIAGNOSIS_CYCLE:
        bio = [generate_scan(g, 1, i, (640, 300), (0.025, 0.025), bank).biometry for i in range(8)]
        stats[g] = {k: np.mean([b[k] for b in bio]) for k in ("acd_mm", "lv_mm", "aod500_mm_left", "acw_mm")}
    for narrow in ("pacg", "pacg_cataract"):
        for wide in ("normal", "cataract"):
            assert stats[narrow]["aod500_mm_left"] < stats[wide]["aod500_mm_left"]
            assert stats[narrow]["acd_mm"] < stats[wide]["acd_mm"]
            assert stats[narrow]["lv_mm"] > stats[wide]["lv_mm"]
    assert 2.6 < stats["normal"]["acd_mm"] < 3.4 and 10.8 < stats["normal"]["acw_mm"] < 12.6


def test_phantom_dataset_is_valid_with_reference_biometry(asoct_phantom):
    rep = validate_dataset(asoct_phantom)
    assert rep.ok and not rep.warnings, rep.findings
    ds = load_dataset(asoct_phantom)
    assert ds.manifest.reference_biometry == "biometry.csv" and ds.manifest.spacing_mm == (0.025, 0.025)
    assert ds.structures == list(PHANTOM_STRUCTURES)
    with open(asoct_phantom / "biometry.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["case_id"] for r in rows] == [c.case_id for c in ds]
    assert len({c.patient_id for c in ds}) == 6 and {c.eye for c in ds} == {"L", "R"}
