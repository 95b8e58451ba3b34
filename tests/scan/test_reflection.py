"""The device's reflection line: found where it is, nowhere else, and bridged from both sides."""

from __future__ import annotations

import numpy as np

from antseg.scan.reflection import bridge, reflection_bands


def test_finds_a_saturated_band_and_not_a_wide_bright_region():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 30, (200, 800)).astype(np.uint8)
    grey[:, 390:402] = 220
    assert reflection_bands(grey) == [(390, 402)]
    grey[:, 100:300] = 200  # a wide bright region is tissue, not a reflection line
    assert reflection_bands(grey) == [(390, 402)]
    assert reflection_bands(np.zeros((200, 800), np.uint8)) == []
    assert reflection_bands(np.zeros((10, 20), np.uint8)) == []


def test_bridge_blends_the_columns_either_side_exactly():
    probs = np.zeros((1, 2, 6), np.float32)
    probs[0, :, 1] = 0.2
    probs[0, :, 4] = 0.8
    probs[0, :, 2:4] = 0.0  # what the model said inside the band is ignored
    out = bridge(probs, [(2, 4)])
    np.testing.assert_allclose(out[0, 0], [0, 0.2, 0.4, 0.6, 0.8, 0])
    np.testing.assert_allclose(bridge(probs, [(0, 2)])[0, 0, :2], [0.0, 0.0])  # at the edge: the near side
    np.testing.assert_array_equal(probs[0, 0, 2:4], [0, 0])  # the input is not changed
