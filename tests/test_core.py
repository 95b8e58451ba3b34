"""Registry, mask packing and rasterisation, label policy, configs, canonical round trip."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

from antseg.anatomy import normalize_group, normalize_label
from antseg.config import load_config
from antseg.data.canonical import load_dataset, write_dataset_files, write_mask
from antseg.data.labels import LabelPolicy
from antseg.data.masks import (
    mask_to_polygons,
    pack_masks,
    rasterize_polygon_cv2,
    rasterize_polygon_pil,
    unpack_masks,
)
from antseg.data.schema import Case, Manifest, Structure
from antseg.errors import AntsegInputError
from antseg.registry import Registry


def test_registry_refuses_duplicates_and_lists_names():
    reg: Registry[int] = Registry("thing")
    reg.register("b")(1)
    reg.register("a")(2)
    with pytest.raises(ValueError, match="already registered"):
        reg.register("a")(3)
    with pytest.raises(KeyError, match="valid: a, b"):
        reg.get("c")
    assert reg.names() == ["a", "b"] and "a" in reg and len(reg) == 2


@pytest.mark.parametrize("n", [1, 5, 8, 12, 16])
def test_pack_unpack_is_lossless_with_overlaps(n):
    rng = np.random.default_rng(n)
    masks = (rng.random((n, 17, 23)) > 0.5).astype(np.uint8)
    packed = pack_masks(masks)
    assert packed.dtype == (np.uint8 if n <= 8 else np.uint16)
    np.testing.assert_array_equal(unpack_masks(packed, n), masks)


def test_pack_refuses_more_than_16():
    with pytest.raises(ValueError):
        pack_masks(np.zeros((17, 2, 2), np.uint8))


def test_pil_rasterisation_exact_square():
    m = rasterize_polygon_pil(np.array([[5, 5], [14, 5], [14, 14], [5, 14]]), 40, 30)
    assert m.sum() == 100 and m[5, 5] == 1 and m[14, 14] == 1 and m[15, 15] == 0 and m[4, 5] == 0


def test_pil_rasterisation_matches_full_canvas_draw():
    from PIL import Image, ImageDraw

    pts = np.array([[3.4, 7.6], [30.2, 2.1], [36.7, 25.5], [8.9, 27.2]])
    im = Image.new("L", (40, 30), 0)
    ImageDraw.Draw(im).polygon([tuple(p) for p in pts], outline=1, fill=1)
    np.testing.assert_array_equal(rasterize_polygon_pil(pts, 40, 30), np.asarray(im))


def test_cv2_rasterisation_with_hole():
    ext = np.array([[10, 10], [30, 10], [30, 30], [10, 30]])
    hole = np.array([[15, 15], [24, 15], [24, 24], [15, 24]])
    full = rasterize_polygon_cv2(ext, [], 40, 40)
    holed = rasterize_polygon_cv2(ext, [hole], 40, 40)
    assert full.sum() == 21 * 21
    assert holed[12, 12] == 1 and holed[20, 20] == 0
    assert holed.sum() < full.sum()


def test_contours_round_trip_through_pil_rasterisation():
    rng = np.random.default_rng(3)
    import cv2

    for _ in range(5):
        m = np.zeros((60, 80), np.uint8)
        for _ in range(3):
            cv2.ellipse(
                m,
                (int(rng.integers(15, 65)), int(rng.integers(15, 45))),
                (int(rng.integers(3, 14)), int(rng.integers(3, 10))),
                float(rng.uniform(0, 180)),
                0,
                360,
                1,
                -1,
            )
        back = np.zeros_like(m)
        for ext, _ in mask_to_polygons(m):
            back |= rasterize_polygon_pil(ext, 80, 60)
        np.testing.assert_array_equal(back, m)


def test_label_policy_map_ignore_keep_and_unknown():
    vocab = {"lens": "lens", "ac": "anterior_chamber"}
    p = LabelPolicy.from_cli(["Iris L=left_iris"], ["Junk"], None)
    assert p.resolve("AC", vocab) == "anterior_chamber"
    assert p.resolve("iris_l", vocab) == "left_iris"
    assert p.resolve("junk", vocab) is None
    with pytest.raises(AntsegInputError, match="unknown label\\(s\\): Foo, bar"):
        p.resolve_all({"Foo": "a.json", "bar": "b.json", "lens": "c.json"}, vocab)
    keep = LabelPolicy.from_cli(None, None, ["Cornea"])
    assert keep.resolve("Pupil", {"cornea": "cornea", "pupil": "pupil"}) is None
    assert keep.resolve("Cornea", {"cornea": "cornea"}) == "cornea"
    with pytest.raises(AntsegInputError, match="OLD=NEW"):
        LabelPolicy.from_cli(["nonsense"], None)


def test_normalisation():
    assert normalize_label(" Phacoemulsification  Tip ") == "phacoemulsification_tip"
    assert normalize_group("Glaucoma_Cataract") == "pacg_cataract"
    assert normalize_group("PACG") == "pacg"


@dataclass
class _Cfg:
    a: int = 1
    b: tuple[float, ...] = (0.5, 0.5)
    c: str = "x"


def test_config_defaults_yaml_and_overrides(tmp_path):
    y = tmp_path / "c.yaml"
    y.write_text("a: 3\nb: [0.1, 0.2]\n")
    cfg = load_config(_Cfg, y, c="z", a=None)
    assert cfg == _Cfg(a=3, b=(0.1, 0.2), c="z")
    y.write_text("zz: 1\n")
    with pytest.raises(AntsegInputError, match="unknown option\\(s\\): zz"):
        load_config(_Cfg, y)
    with pytest.raises(AntsegInputError, match="cannot use"):
        load_config(_Cfg, None, a="many")


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
