"""The per-scan pipeline end to end with the shipped models: one pipeline behind predict, biometry and report;
images that are not anterior-segment B-scans get a warning and no numbers; no input makes it raise."""

from __future__ import annotations

import math
import shutil

import cv2
import numpy as np
import pytest

from antseg.anatomy import MEASURES
from antseg.data.canonical import load_dataset
from antseg.io.images import read_image, read_mask_png, write_png
from antseg.io.tables import read_csv
from antseg.scan import NOT_MEASURED, ScanConfig, ScanPipeline


@pytest.fixture(scope="module")
def pipe() -> ScanPipeline:
    return ScanPipeline("default", "default", device="cpu")


@pytest.fixture(scope="module")
def scan(split_phantom):
    ds = load_dataset(split_phantom)
    case = ds.cases[0]
    return ds.load_image(case), ds.spacing(case), split_phantom / case.image


def test_a_phantom_scan_is_measured_with_statuses(pipe, scan):
    image, spacing, _ = scan
    res = pipe.run(image, "scan.png", spacing=spacing)
    assert res.in_domain and res.spacing == spacing and set(res.measures) == set(MEASURES)
    assert res.masks.shape == (len(res.structures), *image.shape[:2]) and res.masks.max() == 1
    acd = res.measures["acd_mm"]
    assert 1.0 < acd.value < 5.0 and acd.status in ("ok", "check") and math.isfinite(acd.mirror)
    assert set(res.seconds) == {"segment", "spurs", "measure"}
    again = pipe.run(image, "scan.png", spacing=spacing)
    np.testing.assert_array_equal(again.masks, res.masks)  # deterministic
    assert again.values == pytest.approx(res.values, nan_ok=True)


def test_predict_biometry_and_report_give_the_same_masks_and_values(pipe, scan, tmp_path, cli):
    image, spacing, path = scan
    scans = tmp_path / "scans"
    scans.mkdir()
    shutil.copy(path, scans / "scan.png")
    sp = f"{spacing[0]},{spacing[1]}"
    r = cli("predict", "default", scans, "--spurs", "default", "--spacing", sp, "--out", tmp_path / "p", "--device",
            "cpu")  # fmt: skip
    assert r.code == 0, r.err
    assert cli("biometry", scans, "--spacing", sp, "--out", tmp_path / "b", "--device", "cpu").code == 0
    assert cli("report", scans, "--spacing", sp, "--out", tmp_path / "r", "--device", "cpu").code == 0
    res = pipe.run(read_image(scans / "scan.png"), "scan.png", spacing=spacing)
    for k, name in enumerate(res.structures):
        np.testing.assert_array_equal(read_mask_png(tmp_path / "p" / "scan" / f"{name}.png") > 0, res.masks[k] > 0)
    bio, rep = read_csv(tmp_path / "b" / "biometry.csv")[0], read_csv(tmp_path / "r" / "scans.csv")[0]
    for m in MEASURES:
        assert bio[m] == rep[m] and bio[f"{m}_status"] == rep[f"{m}_status"] == res.measures[m].status, m
    for k in ("spacing_x_mm", "spacing_y_mm", "spacing_from"):
        assert bio[k] == rep[k], k
    assert bio["spacing_from"] == "--spacing" and float(bio["spacing_x_mm"]) == pytest.approx(spacing[0])
    assert {r["landmark"]: float(r["x"]) for r in read_csv(tmp_path / "p" / "spurs.csv")} == pytest.approx(
        {n: p["x"] for n, p in res.spurs.items()}, abs=0.005
    )  # the table's 0.01 px
    quality = read_csv(tmp_path / "p" / "quality.csv")
    assert quality[0]["image"] == "scan.png" and quality[0]["in_domain"] == "yes"


def _close_up(image: np.ndarray) -> np.ndarray:
    """The central cornea, magnified to the scan's size."""
    h, w = image.shape[:2]
    crop = image[: h // 3, w // 2 - w // 6 : w // 2 + w // 6]
    return cv2.resize(crop, (w, h), interpolation=cv2.INTER_LINEAR)


def _colour_photo(image: np.ndarray) -> np.ndarray:
    rng = np.random.default_rng(3)
    h, w = image.shape[:2]
    base = np.stack([np.linspace(0, 255, w)[None].repeat(h, 0), np.full((h, w), 90.0),
                     np.linspace(255, 0, h)[:, None].repeat(w, 1)], axis=2)  # fmt: skip
    return np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)


@pytest.mark.parametrize(
    "make, words",
    [
        (_close_up, "not"),
        (_colour_photo, "colour"),
        (lambda im: np.ascontiguousarray(np.rot90(im)), "not the shape"),
        (lambda im: np.ascontiguousarray(im[:, : im.shape[1] // 2]), ""),
        (lambda im: np.zeros_like(im), "blank"),
    ],
    ids=["corneal close-up", "colour photo", "rotated", "half a scan", "black"],
)
def test_an_image_that_is_not_a_b_scan_gets_a_warning_and_no_numbers(pipe, scan, make, words):
    image, spacing, _ = scan
    res = pipe.run(make(image), "odd.png", spacing=spacing)
    assert not res.in_domain and res.warnings and words in " ".join(res.warnings)
    assert all(m.status == NOT_MEASURED and math.isnan(m.value) for m in res.measures.values())
    assert all(m.reasons[0].startswith("not measured: ") for m in res.measures.values())


def test_a_surgery_frame_gets_a_warning_and_no_numbers(pipe, surgical_phantom):
    ds = load_dataset(surgical_phantom)
    for case in ds.cases[:3]:
        res = pipe.run(ds.load_image(case), "frame.png", spacing=(0.0075, 0.0075))
        assert not res.in_domain and res.warnings
        assert all(m.status == NOT_MEASURED for m in res.measures.values())


@pytest.mark.parametrize("shape", [(1, 1), (5, 7), (300, 20000), (20000, 300)])
def test_odd_sizes_never_raise(pipe, shape):
    res = pipe.run(np.zeros(shape, np.uint8), "odd.png")
    assert not res.in_domain and all(m.status == NOT_MEASURED for m in res.measures.values())
    for p in res.spurs.values():
        assert p["x"] is None or (0 <= p["x"] < shape[1] and 0 <= p["y"] < shape[0])


def test_spacing_is_checked_and_configs_switch_steps(scan):
    image, spacing, _ = scan
    plain = ScanPipeline("default", None, ScanConfig(mirror=False, repair=False, bridge_reflection=False), "cpu")
    res = plain.run(image, spacing=spacing)
    assert res.repairs == [] and all(math.isnan(m.mirror) for m in res.measures.values())
    from antseg.errors import AntsegInputError

    with pytest.raises(AntsegInputError, match="spacing"):
        plain.run(image, spacing=(float("nan"), 0.01))


def test_overlay_draws_statuses(pipe, scan, tmp_path):
    from antseg.scan.rows import draw

    image, spacing, _ = scan
    drawn = draw(pipe.run(image, spacing=spacing))
    assert drawn.shape == (*image.shape[:2], 3) and drawn.dtype == np.uint8
    write_png(tmp_path / "o.png", drawn)


def test_a_spur_far_from_the_chamber_is_said_once(pipe, monkeypatch):
    """A spur 0.5-1 mm from the chamber gets the scan's warning; one more than 1 mm from where the chamber ends is
    said by its doubt alone (the chamber-distance warning would repeat it)."""
    ac = np.zeros((100, 200), np.uint8)
    ac[40:60, 50:150] = 1
    monkeypatch.setattr(pipe, "_spacing", (0.01, 0.01))

    def warnings(x, y, from_angle):
        spur = {"x": x, "y": y, "visible": True, "confidence": 0.95, "moved_mm": 0.0, "from_angle_mm": from_angle}
        return pipe._warnings({"anterior_chamber": ac}, {"left_scleral_spur": spur}, [], ac.shape)

    assert warnings(30.0, 5.0, 0.61) == []  # 0.40 mm from the chamber
    assert warnings(50.0, -30.0, 0.80) == [
        "left scleral spur lies 0.70 mm from the chamber, off the angle wall: check it"
    ]
    assert warnings(50.0, -80.0, 1.3) == [
        "left spur lies 1.30 mm from where the chamber ends on its side, not at the angle: the spur or the "
        "segmentation is wrong there: check it"
    ]
