"""Phantoms: determinism, anatomy, and analytic biometry checked against an independent computation
on the rendered masks (pixel counting and ray marching, sharing no code with the generator)."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from antseg.data.canonical import load_dataset
from antseg.data.phantom.asoct import DIAGNOSIS_CYCLE, NoiseBank, generate_scan
from antseg.data.phantom.truth import MEASURES
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


def test_anatomy_is_consistent(scans):
    for s in scans:
        ac, lens, nuc, il, ir = s.masks.astype(bool)
        assert nuc.sum() > 0 and not (nuc & ~lens).any()  # the nucleus lies inside the lens
        for a, b in [(ac, lens), (ac, il), (ac, ir), (il, lens), (ir, lens), (il, ir)]:
            assert not (a & b).any()
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


# ----------------------------------------------------------------------------------------------------
# Independent biometry from masks (mm), for the cross-check.


def _wall(ac: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chamber roof per column: the boundary half a pixel above the first chamber pixel (px)."""
    cols = np.nonzero(ac.any(axis=0))[0]
    return cols.astype(float), ac[:, cols].argmax(axis=0) - 0.5


def _point_on_wall(ac, spur, dist_mm, side):
    xs, ys = _wall(ac)
    pts = np.stack([xs * SP, ys * SP], axis=1)
    s = np.array(spur) * SP
    order = np.argsort(xs) if side == "left" else np.argsort(-xs)
    pts = pts[order]
    pts = pts[(pts[:, 0] >= s[0]) if side == "left" else (pts[:, 0] <= s[0])]
    d = np.hypot(*(pts - s).T)
    i = int(np.argmax(d >= dist_mm))
    # linear interpolation between the two wall samples around the target distance
    a, b = pts[i - 1], pts[i]
    t = (dist_mm - d[i - 1]) / (d[i] - d[i - 1])
    p = a + t * (b - a)
    lo, hi = pts[max(i - 12, 0)], pts[min(i + 12, len(pts) - 1)]
    tangent = (hi - lo) / np.linalg.norm(hi - lo)
    normal = np.array([-tangent[1], tangent[0]])
    if normal[1] < 0:
        normal = -normal
    return p, normal


def _march(ac, p, n, step=0.05):
    """Distance (mm) from p along n until leaving the chamber."""
    t = 0.5 * SP  # start just inside the roof
    while True:
        q = (p + t * n) / SP
        r, c = int(round(q[1])), int(round(q[0]))
        if not ac[r, c]:
            return t
        t += step * SP


def _sector_area(ac, a, na, b, nb, s):
    """Chamber area (mm2) between the lines (a, na) and (b, nb), near s; b may be None (up to the recess)."""
    r, c = np.nonzero(ac)
    q = np.stack([c * SP, r * SP], axis=1)
    near = np.hypot(*(q - s).T) < 2.0
    cross = lambda o, n, pts: (pts[:, 0] - o[0]) * n[1] - (pts[:, 1] - o[1]) * n[0]  # noqa: E731
    side_b = np.sign(cross(b, nb, s[None])[0])
    keep = near & (np.sign(cross(b, nb, q)) == side_b)
    if a is not None:
        side_a = np.sign(cross(a, na, b[None])[0])
        keep &= np.sign(cross(a, na, q)) == side_a
    return keep.sum() * SP * SP


def mask_biometry(s) -> dict[str, float]:
    ac, lens, _, il, ir = s.masks.astype(bool)
    sl, sr = np.array(s.spurs["left_scleral_spur"]), np.array(s.spurs["right_scleral_spur"])
    out = {"acw_mm": float(np.hypot(*(sr - sl)) * SP)}
    mid = int(round((sl[0] + sr[0]) / 2))
    out["acd_mm"] = ac[:, mid].sum() * SP
    u = (sr - sl) / np.linalg.norm(sr - sl)
    up = np.array([u[1], -u[0]])
    if up[1] > 0:
        up = -up
    lc = np.nonzero(lens.any(axis=0))[0]
    top = np.stack([lc, lens[:, lc].argmax(axis=0) - 0.5], axis=1)
    out["lv_mm"] = float(((top - sl) @ up).max() * SP)
    tl = max(zip(*np.nonzero(il)[::-1], strict=True), key=lambda p: p[0])
    tr = min(zip(*np.nonzero(ir)[::-1], strict=True), key=lambda p: p[0])
    yl = np.nonzero(il[:, tl[0]])[0].mean()
    yr = np.nonzero(ir[:, tr[0]])[0].mean()
    out["pupil_diameter_mm"] = float(np.hypot(tr[0] - tl[0], yr - yl) * SP)
    out["ac_area_mm2"] = ac.sum() * SP * SP
    for side, spur, iris in (("left", sl, il), ("right", sr, ir)):
        out[f"iris_area_mm2_{side}"] = iris.sum() * SP * SP
        s_mm = spur * SP
        n_s = _point_on_wall(ac, spur, 0.0005, side)[1]
        for d in (500, 750):
            p, n = _point_on_wall(ac, spur, d / 1000, side)
            out[f"aod{d}_mm_{side}"] = _march(ac, p, n)
            out[f"tisa{d}_mm2_{side}"] = _sector_area(ac, s_mm, n_s, p, n, s_mm)
            out[f"ara{d}_mm2_{side}"] = _sector_area(ac, None, None, p, n, s_mm)
    return out


def test_analytic_biometry_matches_an_independent_computation_on_the_masks(scans):
    for s in scans:
        truth, est = s.biometry, mask_biometry(s)
        assert set(MEASURES) <= set(truth)
        for k, v in est.items():
            if k.endswith("_mm2") and not k.startswith(("ac_area", "iris_area")):
                tol = 0.006 + 0.03 * truth[k]  # small angle areas: boundary pixels dominate
            elif k.endswith("_mm2"):
                tol = 0.01 * truth[k]
            elif k.startswith("aod"):
                tol = 3 * SP
            else:
                tol = 2 * SP
            assert abs(v - truth[k]) <= tol, (k, v, truth[k])


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
    with open(asoct_phantom / "biometry.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["case_id"] for r in rows] == [c.case_id for c in ds]
    assert len({c.patient_id for c in ds}) == 6 and {c.eye for c in ds} == {"L", "R"}


def test_surgical_phantom(surgical_phantom):
    import json

    import av

    from antseg.data.masks import rasterize_polygon_cv2

    ds = load_dataset(surgical_phantom)
    assert ds.manifest.modality == "surgical" and ds.structures == ["cornea"]
    assert len({c.patient_id for c in ds}) == 3
    c = ds.cases[0]
    ann = json.loads((surgical_phantom / "supervisely" / c.patient_id / "ann" / f"{c.case_id}.png.json").read_text())
    assert ann["objects"][0]["classTitle"] == "Cornea" and len(ann["objects"]) == 3
    poly = np.array(ann["objects"][0]["points"]["exterior"])
    np.testing.assert_array_equal(ds.load_masks(c)[0], rasterize_polygon_cv2(poly, [], c.width, c.height))
    img = ds.load_image(c)
    cornea = ds.load_masks(c)[0].astype(bool)
    assert img[cornea][:, 0].mean() > img[cornea][:, 2].mean()  # red reflex / warm iris inside the disc
    with av.open(str(surgical_phantom / "videos" / f"{c.patient_id}.mp4")) as v:
        frames = list(v.decode(video=0))
    assert len(frames) == 4 and frames[0].width == 256
