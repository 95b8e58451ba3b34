"""The realistic phantom style: randomised framing, anatomy and appearance, with masks, spurs and analytic
biometry as exact as the classic phantom's (checked against ``antseg.biometry`` on the rendered masks)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from antseg.anatomy import MEASURES, SIDES, spur_name
from antseg.biometry import measure
from antseg.data.canonical import load_dataset
from antseg.data.phantom.asoct import PHANTOM_STRUCTURES, NoiseBank, generate_scan
from antseg.data.phantom.choices import DEVICES
from antseg.data.phantom.effects import Imaging
from antseg.data.phantom.geometry import EyeGeometry
from antseg.data.phantom.realism import make_realistic_eye, sample_imaging
from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.errors import AntsegInputError

GROUPS = ("normal", "cataract", "pacg", "pacg_cataract")
SEED = 2


def _device(name: str) -> tuple[tuple[int, int], tuple[float, float]]:
    d = DEVICES[name]
    return d.size, d.spacing


@pytest.fixture(scope="module")
def realistic():
    """12 scans at full resolution, 4 per device (the biometry needs full-resolution masks to be exact)."""
    out, banks = [], {}
    for i in range(12):
        size, sp = _device(("ss1000", "casia2", "narrow")[i % 3])
        bank = banks.setdefault(size, NoiseBank(size[1], size[0], 0))
        out.append(generate_scan(GROUPS[i % 4], SEED, i, size, sp, bank, style="realistic"))
    return out


def test_realistic_scans_are_deterministic_and_varied(realistic):
    size, sp = _device("ss1000")
    again = generate_scan(GROUPS[0], SEED, 0, size, sp, NoiseBank(size[1], size[0], 0), style="realistic")
    np.testing.assert_array_equal(again.image, realistic[0].image)
    np.testing.assert_array_equal(again.masks, realistic[0].masks)
    apex = [s.geometry.p.epi_apex / s.spacing[1] / s.image.shape[0] for s in realistic]
    assert max(apex) - min(apex) > 0.15  # the apex height varies with the framing
    assert len({round(s.geometry.p.tilt, 4) for s in realistic}) > 10
    assert np.std([s.image.mean() for s in realistic]) > 2  # and so does the brightness


def test_realistic_anatomy_is_consistent(realistic):
    for s in realistic:
        ac, lens, nuc, il, ir, cornea = s.masks.astype(bool)
        assert ac.any() and il.any() and ir.any() and cornea.any()
        assert not (nuc & ~lens).any()
        for a, b in [(ac, lens), (ac, il), (ac, ir), (il, lens), (ir, lens), (il, ir), (cornea, ac), (cornea, il)]:
            assert not (a & b).any()
        h, w = s.image.shape
        for side in SIDES:
            p = s.spurs[spur_name(side)]
            if p is None:  # cropped by the image side (no shadow was asked for)
                x = s.geometry.spur[side][0] / s.spacing[0]
                assert not 0 <= x <= w - 1
                continue
            x, y = p
            assert 0 <= x <= w - 1 and 0 <= y <= h - 1
            near = (slice(max(0, int(y) - 1), int(y) + 3), slice(max(0, int(x) - 1), int(x) + 3))
            assert ac[near].any() and cornea[near].any()  # where the chamber meets the corneoscleral shell


def _check_against_masks(scans) -> int:
    """Every measure of the rendered masks agrees with the analytic value within the classic phantom's tolerance
    (2 px, 1 % of areas); what the image cannot show (a spur outside it) is NaN on both sides. Returns the
    number of values compared."""
    checked = 0
    for s in scans:
        est, why = measure(dict(zip(PHANTOM_STRUCTURES, s.masks, strict=True)), s.spurs, s.spacing)
        for k in MEASURES:
            truth = s.biometry[k]
            if np.isnan(truth):
                assert k in why, (k, est[k])
                continue
            if k in why:
                continue
            tol = max(0.005, 0.01 * truth) if k.endswith("_mm2") else 2 * s.spacing[0]
            assert abs(est[k] - truth) <= tol, (k, est[k], truth)
            checked += 1
    return checked


def test_realistic_analytic_biometry_matches_the_masks(realistic):
    """Tilt (a shear), framing, scale, crypts and profiles keep the analytic values exact, cropped sides
    included (their areas and curvature count what lies inside the image, as the masks do)."""
    assert _check_against_masks(realistic) > 0.8 * len(realistic) * len(MEASURES)


def test_a_cropped_side_is_measured_as_the_image_shows_it():
    """A scan whose angle lies outside the image: that side's spur-based measures (and ACW, ACD, LV) are NaN in
    the truth, its iris area and curvature are those of the visible part, and they match the masks.
    (Before, the truth held the whole iris: 0.2 mm2 more than its mask.)"""
    size, sp = _device("narrow")
    bank = NoiseBank(size[1], size[0], 0)
    for i in range(40):
        s = generate_scan(GROUPS[i % 4], SEED, i, size, sp, bank, style="realistic")
        out = [side for side in SIDES if not 0 <= s.geometry.spur[side][0] / sp[0] <= size[0] - 1]
        if out:
            break
    assert out, "no cropped scan among 40 narrow-field draws"
    side = out[0]
    assert np.isnan(s.biometry[f"aod500_mm_{side}"]) and np.isnan(s.biometry["acw_mm"])
    assert np.isnan(s.biometry[f"it750_mm_{side}"])
    assert s.biometry[f"iris_area_mm2_{side}"] > 0
    assert _check_against_masks([s]) > 0


def test_it750_normal_is_taken_over_the_same_span_as_the_masks():
    """IT750's ray follows the normal of the anterior surface's chord over +-0.1 mm in x, in the truth and in
    :func:`antseg.biometry.geometry.iris_thickness`: on a curved plateau root a local tangent tilted the ray and
    the two differed by up to 0.09 mm (12 px) on 80 realistic scans; now by at most 0.007 mm."""
    size, sp = _device("narrow")
    bank = NoiseBank(size[1], size[0], 5)
    s = generate_scan("normal", 5, 20, size, sp, bank, style="realistic")  # the scan that showed it
    est, why = measure(dict(zip(PHANTOM_STRUCTURES, s.masks, strict=True)), s.spurs, s.spacing)
    assert abs(est["it750_mm_left"] - s.biometry["it750_mm_left"]) < 2 * sp[0]


def test_tilt_is_a_shear_that_keeps_the_biometry():
    from antseg.data.phantom.truth import exact_biometry

    g = make_realistic_eye("normal", 16.0, 7.5, np.random.default_rng(1))
    flat = EyeGeometry(type(g.p)(**{**g.p.__dict__, "tilt": 0.0}))
    x = np.linspace(4, 12, 9)
    np.testing.assert_allclose(g.endo(x) - flat.endo(x), g.p.tilt * (x - g.p.cx), atol=1e-12)
    a, b = exact_biometry(g), exact_biometry(flat)
    # A shear keeps areas (the iris is drawn from the tilted wall's tangent, so only nearly a shear of it).
    assert a["ac_area_mm2"] == pytest.approx(b["ac_area_mm2"], rel=1e-3)


def test_appearance_never_moves_a_structure():
    size, sp = (532, 249), (0.03, 0.03)
    bank = NoiseBank(size[1], size[0], 0)
    rng = np.random.default_rng([2, 0])
    g = make_realistic_eye("pacg", size[0] * sp[0], size[1] * sp[1], rng)
    from antseg.data.phantom.render import render

    looks = [Imaging(), sample_imaging(np.random.default_rng(3), g, size, sp)]
    scans = [render(g, size[1], size[0], sp, bank, np.random.default_rng(0), None, look) for look in looks]
    np.testing.assert_array_equal(scans[0].masks, scans[1].masks)
    assert scans[0].spurs == scans[1].spurs and scans[0].biometry == scans[1].biometry
    assert not np.array_equal(scans[0].image, scans[1].image)


def test_writer_devices_cornea_and_style(tmp_path):
    cfg = AsoctPhantomConfig(n=3, style="realistic", devices=("ss1000", "narrow"), cornea=False, seed=1)
    ds = load_dataset(generate_asoct_dataset(tmp_path / "ds", cfg))
    assert ds.structures == list(PHANTOM_STRUCTURES[:5])
    assert [(c.width, c.height) for c in ds.cases] == [(2130, 998), (1800, 998), (2130, 998)]
    assert ds.manifest.spacing_mm is None  # the cases carry their own spacing
    assert ds.cases[1].spacing == pytest.approx((0.0075, 0.0075))
    with pytest.raises(AntsegInputError, match="unknown device"):
        generate_asoct_dataset(tmp_path / "bad", AsoctPhantomConfig(n=1, devices=("oct9000",)))
    with pytest.raises(AntsegInputError, match="unknown style"):
        generate_asoct_dataset(tmp_path / "bad", AsoctPhantomConfig(n=1, style="fancy"))


def test_posterior_iris_layer_is_drawn_below_the_mask_and_never_into_the_lens():
    """Real labels stop above the back of the visible iris: the realistic phantom draws that layer unlabelled."""
    size, sp = (1065, 499), (0.015, 0.015)
    bank = NoiseBank(size[1], size[0], 0)
    g = make_realistic_eye("normal", size[0] * sp[0], size[1] * sp[1], np.random.default_rng([4, 0]))
    from antseg.data.phantom.render import render

    quiet = Imaging(floor=0.0, line=0.0, line_halo=0.0)  # no noise floor or reflection line: tissue signal only
    plain = render(g, size[1], size[0], sp, bank, np.random.default_rng(0), None, quiet)
    look = replace(quiet, back_band=0.5, back_level=0.6)
    banded = render(g, size[1], size[0], sp, bank, np.random.default_rng(0), None, look)
    np.testing.assert_array_equal(plain.masks, banded.masks)
    changed = plain.image != banded.image
    assert changed.sum() > 200
    iris = banded.masks[3:5].any(0).astype(bool)
    has = iris.any(0) & changed.any(0)
    back = iris.shape[0] - 1 - np.argmax(iris[::-1], axis=0)  # the last iris row per column
    assert (np.argmax(changed, axis=0)[has] > back[has]).all()  # only below the iris in every column
    lens = banded.masks[1].astype(bool)
    assert (banded.image[lens] <= plain.image[lens]).all()  # the lens only lies in its shadow
    assert int(banded.image[changed & ~lens].mean()) > int(plain.image[changed & ~lens].mean())  # it adds signal


def test_posterior_iris_layer_lies_between_the_stroma_and_the_lens_where_the_iris_rests_on_it():
    """Toward the pupil the iris rests on the lens through its posterior layer: the labelled iris stops
    ``iris_back`` above the lens mask, and that gap is drawn as bright tissue, not as dark aqueous."""
    from antseg.data.phantom.render import render

    size, sp = (1065, 499), (0.015, 0.015)
    g = make_realistic_eye("normal", size[0] * sp[0], size[1] * sp[1], np.random.default_rng([4, 0]))
    assert 0.9 * 0.04 <= g.p.iris_back <= 1.1 * 0.14
    look = Imaging(floor=0.0, line=0.0, line_halo=0.0, back_band=0.3, back_level=Imaging().iris)
    scan = render(g, size[1], size[0], sp, NoiseBank(size[1], size[0], 0), np.random.default_rng(0), None, look)
    img, lens, chamber = scan.image.astype(float), scan.masks[1].astype(bool), scan.masks[0].astype(bool)
    gaps, layer = [], []
    for k in (3, 4):
        iris = scan.masks[k].astype(bool)
        for c in np.flatnonzero(iris.any(0) & lens.any(0)):
            bot, first_lens = np.flatnonzero(iris[:, c])[-1], np.flatnonzero(lens[:, c])[0]
            if first_lens - bot <= g.p.iris_back / sp[1] + 2:  # resting on the lens
                gaps.append(first_lens - bot - 1)
                layer.append(img[bot + 1 : first_lens, c].mean())
    assert len(gaps) > 20
    assert min(gaps) >= int(g.p.iris_back / sp[1]) - 1 and max(gaps) <= g.p.iris_back / sp[1] + 1
    assert np.mean(layer) > 3 * img[chamber].mean()


def test_the_iris_drapes_onto_the_lens_over_its_contact_distance():
    """Within half the contact distance of the pupillary margin the iris's back lies exactly ``iris_back`` above
    the lens; beyond the contact distance the iris is where it would be without contact; the classic eye has
    neither."""
    from antseg.data.phantom.priors import sample_params

    g = make_realistic_eye("normal", 16.0, 7.5, np.random.default_rng([4, 0]))
    reach = g.p.iris_contact
    assert 0.9 * 0.2 <= reach <= 1.1 * 1.4
    free = EyeGeometry(replace(g.p, iris_contact=0.0))
    for s in SIDES:
        toward_root = -1.0 if s == "left" else 1.0
        tip = g.tip[s][0]
        near = tip + toward_root * np.linspace(0.0, 0.5 * reach, 50)
        np.testing.assert_allclose(g.iris_interval(s, near)[1], g.lens_ant(near) - g.p.iris_back, atol=2e-3)
        far = tip + toward_root * np.linspace(reach + 0.01, reach + 0.5, 50)
        np.testing.assert_allclose(g.iris_interval(s, far)[0], free.iris_interval(s, far)[0], atol=1e-9)
    classic = sample_params("normal", 16.0, np.random.default_rng(0))
    assert classic.iris_back == 0.0 and classic.iris_contact == 0.0


def test_realistic_imaging_always_draws_the_posterior_layer():
    """Every realistic scan draws the unlabelled layer; in most of them it is the bright pigment epithelium (no
    pigment line inside the mask, 3-6 times the stroma's reflectivity), in the others a layer about as bright as
    the stroma under a pigment line inside the mask."""
    g = make_realistic_eye("pacg", 16.0, 7.5, np.random.default_rng([5, 0]))
    looks = [sample_imaging(np.random.default_rng(i), g, (2130, 998), (0.0075, 0.0075)) for i in range(200)]
    assert all(0.2 <= lk.back_band <= 0.5 for lk in looks)
    below = [lk for lk in looks if lk.pigment_at >= 1.0]
    inside = [lk for lk in looks if lk.pigment_at < 1.0]
    assert 0.7 <= len(below) / len(looks) <= 0.9
    assert all(lk.pigment_at == 1.0 and 3.0 * lk.iris <= lk.back_level <= 6.0 * lk.iris for lk in below)
    assert all(0.72 <= lk.pigment_at <= 0.88 and 0.6 * lk.iris <= lk.back_level <= 2.0 * lk.iris for lk in inside)
    assert Imaging().back_band == 0.0 and Imaging().pigment_at < 1.0  # the classic look is unchanged


def test_where_the_pigment_epithelium_lies_below_the_mask_the_labelled_iris_ends_at_its_bright_top():
    """As in labelled real scans, the grey level across the labelled iris's back rises at the mask's end:
    the first rows below the mask are brighter than the last rows inside it, and nothing is drawn inside the
    mask as pigment (the iris looks the same as with no pigment at all)."""
    from antseg.data.phantom.render import render

    size, sp = (1065, 499), (0.015, 0.015)
    g = make_realistic_eye("normal", size[0] * sp[0], size[1] * sp[1], np.random.default_rng([4, 0]))
    quiet = Imaging(floor=0.0, line=0.0, line_halo=0.0, back_band=0.4)

    def scan(**changes):
        look = replace(quiet, **changes)
        return render(g, size[1], size[0], sp, NoiseBank(size[1], size[0], 0), np.random.default_rng(0), None, look)

    below = scan(pigment_at=1.0, back_level=4.0 * quiet.iris)
    bare = scan(pigment_at=1.0, pigment=0.0, back_level=4.0 * quiet.iris)
    np.testing.assert_array_equal(below.image[below.masks[3:5].any(0) > 0], bare.image[bare.masks[3:5].any(0) > 0])
    for k in (3, 4):
        mask, lens = below.masks[k].astype(bool), below.masks[1].astype(bool)
        inner, outer = [], []
        for c in np.flatnonzero(mask.any(0)):
            bot = np.flatnonzero(mask[:, c])[-1]
            if mask[:, c].sum() >= 8 and not lens[bot + 1 : bot + 4, c].any():
                inner.append(below.image[bot - 2 : bot + 1, c].mean())
                outer.append(below.image[bot + 1 : bot + 4, c].mean())
        assert len(outer) > 50
        assert np.mean(outer) > np.mean(inner) + 10


def test_posterior_iris_layer_is_not_lost_in_the_pigment_shadow():
    """Real scans show the unlabelled back of the iris plainly: drawn as reflective as the stroma, it must look
    at least half as bright as the stroma above it, under the strongest pigment shadow the phantom draws."""
    size, sp = (1065, 499), (0.015, 0.015)
    g = make_realistic_eye("normal", size[0] * sp[0], size[1] * sp[1], np.random.default_rng([4, 0]))
    from antseg.data.phantom.render import render

    look = Imaging(floor=0.0, line=0.0, line_halo=0.0, pigment_att=14.0, back_band=0.5, back_level=Imaging().iris)
    scan = render(g, size[1], size[0], sp, NoiseBank(size[1], size[0], 0), np.random.default_rng(0), None, look)
    img, lens = scan.image.astype(float), scan.masks[1].astype(bool)
    for k in (3, 4):  # left and right iris
        mask = scan.masks[k].astype(bool)
        stroma, back = [], []
        for c in np.flatnonzero(mask.any(0)):
            rows = np.flatnonzero(mask[:, c])
            top, bot = rows[0], rows[-1]
            th = bot - top + 1
            below = slice(bot + 1, bot + 1 + max(th // 5, 1))
            if th >= 8 and not lens[below, c].any():
                stroma.append(img[top + th // 2 : top + 3 * th // 4, c].mean())
                back.append(img[below, c].mean())
        assert len(back) > 100
        assert np.mean(back) > 0.5 * np.mean(stroma)


def test_exact_biometry_of_an_angle_cut_by_the_image_side_has_no_it750():
    """Narrow fields crop one angle past its spur: the point 750 um from that spur is outside the image, so the
    exact IT750 there is not a number (it used to stop the phantom with "ray misses the curve")."""
    from antseg.data.phantom.truth import exact_biometry, iris_shape

    g = make_realistic_eye("pacg_cataract", 16.0, 7.5, np.random.default_rng([6, 0]))
    edge = float(g.spur["right"][0]) - 1.2  # the image ends 1.2 mm short of the right spur
    it750, curvature = iris_shape(g, "right", (0.0, edge))
    assert np.isnan(it750) and np.isfinite(curvature)
    bio = exact_biometry(g, (0.0, edge), ("right",))
    assert np.isnan(bio["it750_mm_right"]) and np.isfinite(bio["it750_mm_left"])
    assert np.isfinite(bio["iris_curvature_mm_right"])
    assert iris_shape(g, "right")[0] == pytest.approx(exact_biometry(g)["it750_mm_right"])  # in view: measured


def test_narrow_fields_cut_the_width_only_and_keep_the_truth_exact(tmp_path):
    """``narrow_fields``: some scans get a narrower field than their device's (>= 12 mm, >= 70 % of it), at the
    same spacing and height; the other scans, and every scan with 0, are exactly as before."""
    base = AsoctPhantomConfig(n=12, style="realistic", devices=("ss1000", "casia2", "narrow"), seed=2)
    narrow = replace(base, narrow_fields=1.0)
    for i in range(base.n):
        (w0, h0), sp0 = base.geometry(i)
        (w, h), sp = narrow.geometry(i)
        assert (w0, h0) == narrow.frame(i) and (h, sp) == (h0, sp0)
        assert max(0.7 * w0, 12.0 / sp0[0]) - 1 <= w <= w0
    assert len({narrow.geometry(i)[0][0] for i in range(base.n)}) > 6  # widths vary
    half = replace(base, narrow_fields=0.5)
    assert 0 < sum(half.geometry(i) != base.geometry(i) for i in range(base.n)) < base.n
    cfg = replace(narrow, n=3, cornea=True)
    ds = load_dataset(generate_asoct_dataset(tmp_path / "ds", cfg))
    for c in ds.cases:
        masks = ds.load_masks(c)
        assert masks.shape[2] == c.width < 2200 and masks[0].any()  # the chamber is drawn in the narrower frame
        for p in c.landmarks.values():
            assert p is None or 0 <= p[0] <= c.width - 1
    with pytest.raises(AntsegInputError, match="narrow_fields must be a fraction"):
        generate_asoct_dataset(tmp_path / "bad", replace(base, narrow_fields=1.5))


def test_central_cornea_brightness_varies_and_only_in_the_centre():
    """Devices differ in how bright the central cornea is against the limbus: ``cornea_centre`` sets the central
    stroma only (the limbus keeps its level), and the realistic style draws it over 0.02-0.3."""
    size, sp = (1065, 499), (0.015, 0.015)
    g = make_realistic_eye("normal", size[0] * sp[0], size[1] * sp[1], np.random.default_rng([4, 0]))
    from antseg.data.phantom.render import render

    scans = [
        render(g, size[1], size[0], sp, NoiseBank(size[1], size[0], 0), np.random.default_rng(0), None,
               Imaging(floor=0.0, line=0.0, line_halo=0.0, glint=0.0, cornea_centre=c))
        for c in (0.05, 0.3)
    ]  # fmt: skip
    cornea = scans[0].masks[5].astype(bool)
    cols = np.flatnonzero(cornea.any(0))
    centre = np.zeros_like(cornea)
    centre[:, int(np.median(cols)) - 20 : int(np.median(cols)) + 20] = True
    dim, bright = (s.image[cornea & centre].astype(float).mean() for s in scans)
    assert dim < bright - 10
    sclera = np.zeros_like(cornea)
    sclera[:, : cols.min() + 15] = True  # the outermost columns of the shell: sclera, past the spur
    np.testing.assert_array_equal(scans[0].image[cornea & sclera], scans[1].image[cornea & sclera])
    looks = [sample_imaging(np.random.default_rng(i), g, (2130, 998), (0.0075, 0.0075)) for i in range(20)]
    assert all(0.02 <= lk.cornea_centre <= 0.3 for lk in looks) and Imaging().cornea_centre == 0.2
