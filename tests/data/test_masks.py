"""Mask packing and rasterisation: lossless packing, exact polygons, holes, contour round trips."""

from __future__ import annotations

import numpy as np
import pytest

from antseg.data.masks import (
    mask_to_polygons,
    pack_masks,
    rasterize_polygon_cv2,
    rasterize_polygon_pil,
    unpack_masks,
)


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
