"""Anatomical consistency on hand-made masks: each repair exactly, and nothing changed where nothing was wrong."""

from __future__ import annotations

import numpy as np
import pytest

from antseg.scan.repair import fill_columns, fill_holes, largest_component, repair_masks

H, W = 60, 120


def _eye() -> dict[str, np.ndarray]:
    """A tidy scan: cornea band on top, chamber under it, an iris at each end, lens below the chamber."""
    m = {k: np.zeros((H, W), np.uint8) for k in ("anterior_chamber", "lens", "nucleus", "left_iris", "right_iris",
                                                  "cornea")}  # fmt: skip
    m["cornea"][5:12, 5:115] = 1
    m["anterior_chamber"][12:30, 10:110] = 1
    m["left_iris"][30:34, 10:40] = 1
    m["right_iris"][30:34, 80:110] = 1
    m["lens"][30:55, 40:80] = 1
    m["nucleus"][38:48, 50:70] = 1
    return m


def test_a_consistent_scan_is_left_alone():
    masks, repairs = repair_masks(_eye(), (0.01, 0.01))
    assert repairs == []
    for k, v in _eye().items():
        np.testing.assert_array_equal(masks[k], v)


def test_hole_and_island_in_the_chamber():
    m = _eye()
    m["anterior_chamber"][18:22, 55:60] = 0  # an enclosed hole (20 px)
    m["anterior_chamber"][50:53, 0:3] = 1  # an island (9 px)
    masks, repairs = repair_masks(m, (0.01, 0.02))
    np.testing.assert_array_equal(masks["anterior_chamber"], _eye()["anterior_chamber"])
    got = {(r.structure, r.action): (r.pixels, r.area_mm2) for r in repairs}
    assert got == {
        ("anterior_chamber", "removed islands"): (9, pytest.approx(9 * 0.0002)),
        ("anterior_chamber", "filled holes"): (20, pytest.approx(20 * 0.0002)),
    }
    assert repairs[1].changed.sum() == 20 and repairs[1].text() == "anterior chamber: filled holes (0.004 mm2)"


def test_a_gap_open_at_the_floor_is_filled_per_column_but_not_over_the_iris():
    """The reflection line cuts the chamber from roof to near the floor: each column is one run again."""
    m = _eye()
    m["anterior_chamber"][14:29, 58:61] = 0  # a slit under the roof, closed at the floor: a hole
    m["anterior_chamber"][20:24, 10:30] = 0  # a notch from the chamber's side: open, not a hole
    masks, repairs = repair_masks(m, None)
    np.testing.assert_array_equal(masks["anterior_chamber"], _eye()["anterior_chamber"])
    assert {r.action for r in repairs} == {"filled holes", "filled gaps between roof and floor"}
    iris_over = _eye()
    iris_over["anterior_chamber"][25:30, 15:25] = 0
    iris_over["left_iris"][25:30, 15:25] = 1  # the iris really lies there: the chamber is not filled over it
    masks, _ = repair_masks(iris_over, None)
    assert not masks["anterior_chamber"][25:30, 15:25].any() and masks["left_iris"][25:30, 15:25].all()


def test_lens_above_the_chamber_and_nucleus_outside_the_lens():
    m = _eye()
    m["lens"][15:20, 60:70] = 1  # a lens blob inside the chamber
    m["anterior_chamber"][15:20, 60:70] = 0
    m["nucleus"][2:4, 2:4] = 1  # outside the lens
    masks, repairs = repair_masks(m, None)
    np.testing.assert_array_equal(masks["lens"], _eye()["lens"])
    np.testing.assert_array_equal(masks["nucleus"], _eye()["nucleus"])
    np.testing.assert_array_equal(masks["anterior_chamber"], _eye()["anterior_chamber"])  # the blob's place refilled
    acts = [(r.structure, r.action, r.pixels) for r in repairs]
    assert ("lens", "removed lens above the chamber's floor", 50) in acts
    assert ("nucleus", "removed nucleus outside the lens", 4) in acts


def test_swapped_irises_and_an_iris_in_the_pupil():
    m = _eye()
    m["left_iris"], m["right_iris"] = m["right_iris"].copy(), m["left_iris"].copy()
    masks, repairs = repair_masks(m, None)
    np.testing.assert_array_equal(masks["left_iris"], _eye()["left_iris"])
    np.testing.assert_array_equal(masks["right_iris"], _eye()["right_iris"])
    assert [r.action for r in repairs] == ["swapped with the right iris", "swapped with the left iris"]
    pupil = _eye()
    pupil["right_iris"][:] = 0
    pupil["right_iris"][28:31, 55:65] = 1  # the only "right iris" sits in the middle of the pupil
    masks, repairs = repair_masks(pupil, None)
    assert not masks["right_iris"].any()
    assert repairs[0].action == "removed: not at the chamber's right end (in the pupil)"


def test_cornea_is_one_band():
    m = _eye()
    m["cornea"][8:10, 50:55] = 0
    m["cornea"][55:58, 100:103] = 1
    masks, repairs = repair_masks(m, None)
    np.testing.assert_array_equal(masks["cornea"], _eye()["cornea"])
    assert [(r.structure, r.action, r.pixels) for r in repairs] == [
        ("cornea", "removed islands", 9), ("cornea", "filled holes", 10),
    ]  # fmt: skip


def test_helpers_exact():
    a = np.zeros((5, 7), bool)
    a[1:4, 1:6] = True
    a[2, 3] = False
    assert fill_holes(a)[2, 3] and not fill_holes(a, blocked=np.pad(np.ones((1, 1), bool), ((2, 2), (3, 3))))[2, 3]
    b = np.pad(a, ((0, 2), (0, 2)))
    b[6, 8] = True  # an island two pixels away
    np.testing.assert_array_equal(largest_component(b), np.pad(a, ((0, 2), (0, 2))))
    c = np.zeros((6, 3), bool)
    c[[0, 5], 1] = True
    assert fill_columns(c)[:, 1].all() and not fill_columns(c)[:, 0].any()
    assert largest_component(np.zeros((3, 3))).sum() == 0


def test_of_equally_large_components_the_highest_then_leftmost_is_kept():
    m = np.zeros((12, 12), bool)
    m[6:8, 1:3] = m[2:4, 8:10] = True  # the second lies higher
    np.testing.assert_array_equal(np.flatnonzero(largest_component(m).any(axis=1)), [2, 3])
    m[:] = False
    m[2:4, 8:10] = m[2:4, 1:3] = True  # level: the leftmost
    np.testing.assert_array_equal(np.flatnonzero(largest_component(m).any(axis=0)), [1, 2])


@pytest.mark.parametrize("seed", range(40))
def test_helpers_agree_with_scipy_on_random_masks(seed):
    """Holes (4-connected background) and components (8-connected) as scipy.ndimage finds them over the whole
    image, on blobs that touch the border, hold holes and islands, or are empty."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    h, w = rng.integers(3, 40, 2)
    m = ndimage.binary_opening(rng.random((h, w)) < rng.uniform(0.2, 0.8)) if seed % 7 else np.zeros((h, w), bool)
    if seed % 3 == 0:
        m |= rng.random((h, w)) < 0.05  # single-pixel islands and pinholes
    blocked = rng.random((h, w)) < 0.3
    filled = ndimage.binary_fill_holes(m)
    np.testing.assert_array_equal(fill_holes(m), filled)
    np.testing.assert_array_equal(fill_holes(m, blocked), m | (filled & ~blocked))
    labels, n = ndimage.label(m, structure=np.ones((3, 3)))
    if n <= 1:
        np.testing.assert_array_equal(largest_component(m), m)
        return
    sizes = ndimage.sum_labels(np.ones_like(labels), labels, range(1, n + 1))
    boxes = ndimage.find_objects(labels)
    best = min(range(n), key=lambda k: (-sizes[k], boxes[k][0].start, boxes[k][1].start))
    np.testing.assert_array_equal(largest_component(m), labels == best + 1)
