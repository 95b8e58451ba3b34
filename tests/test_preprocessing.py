"""Preprocessing shared by training and inference: letterbox, flip pairs, side gate, crops, device choice."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from antseg.checks import resolve_device
from antseg.errors import AntsegInputError
from antseg.preprocessing import (
    Letterbox,
    crop_at,
    flip_pairs,
    gate_sides,
    normalize,
    side_channels,
)

# -- letterbox ------------------------------------------------------------------------------------------------


def test_letterbox_keeps_aspect_and_inverts():
    lb = Letterbox((998, 2130), (256, 512))
    assert lb.inner_hw == (240, 512)
    img = np.zeros((998, 2130), np.float32)
    img[:, :1065] = 1
    out = lb.image(img)
    assert out.shape == (256, 512) and out[240:].max() == 0
    back = lb.invert(torch.from_numpy(out)[None, None])[0, 0].numpy()
    assert back.shape == (998, 2130) and back[:, :1000].min() > 0.99 and back[:, 1130:].max() < 0.01


def test_canvas_mapping_inverts():
    lb = Letterbox((998, 2130), (256, 512))
    for p in [(0.0, 0.0), (1064.5, 500.25), (2129.0, 997.0)]:
        back = lb.canvas_to_point(lb.point_to_canvas(p))
        assert back == pytest.approx(p, abs=1e-9)


# -- flip pairs and side gate ---------------------------------------------------------------------------------


def test_flip_swaps_spurs():
    assert flip_pairs(["left_scleral_spur", "right_scleral_spur"]) == [1, 0]


@pytest.mark.parametrize(
    "names, pairs",
    [
        (["anterior_chamber", "left_iris", "right_iris"], [0, 2, 1]),
        (["right_iris", "lens", "left_iris", "nucleus"], [2, 1, 0, 3]),
        (["left_iris", "lens"], [0, 1]),  # no mirror channel: the channel stays where it is
        (["cornea"], [0]),
        ([], []),
    ],
)
def test_flip_pairs(names, pairs):
    assert flip_pairs(names) == pairs
    assert [pairs[i] for i in pairs] == list(range(len(names)))  # a flip twice is no flip


def test_side_channels():
    assert side_channels(["lens", "left_iris", "right_iris"]) == {1: "left", 2: "right"}
    assert side_channels(["right_scleral_spur", "left_scleral_spur"]) == {0: "right", 1: "left"}
    assert side_channels(["cornea", "leftover"]) == {}


def test_side_gate_blocks_the_wrong_half():
    names = ["lens", "left_iris", "right_iris"]
    sides = side_channels(names)
    assert sides == {1: "left", 2: "right"}
    logits = torch.full((2, 3, 4, 10), 5.0)
    out = gate_sides(logits, sides, torch.tensor([10, 6]))  # second image is 6 px wide inside its canvas
    assert (out[:, 0] == 5).all()
    assert (out[0, 1, :, :5] == 5).all() and (out[0, 1, :, 5:] < -20).all()
    assert (out[0, 2, :, :5] < -20).all() and (out[0, 2, :, 5:] == 5).all()
    assert (out[1, 1, :, :3] == 5).all() and (out[1, 1, :, 3:] < -20).all()


def test_side_gate_without_sided_channels_changes_nothing():
    logits = torch.randn(1, 2, 3, 8)
    assert gate_sides(logits, {}, 8) is logits
    gated = gate_sides(logits, {0: "right"}, 8.0)  # one number for the whole batch
    assert torch.equal(gated[:, 1], logits[:, 1]) and torch.equal(gated[0, 0, :, 4:], logits[0, 0, :, 4:])
    assert (gated[0, 0, :, :4] == -30).all()


# -- full-resolution crops ------------------------------------------------------------------------------------

IMG = np.arange(120, dtype=np.uint8).reshape(10, 12) + 1  # no zero inside the image: padding is visible


def _expected(raw: np.ndarray) -> np.ndarray:
    return normalize(raw, "image_zscore")


def test_crop_inside_the_image():
    crop, corner = crop_at(IMG, 5.0, 4.0, 4, flip=False)
    assert corner == (3, 2) and crop.shape == (4, 4) and crop.dtype == np.float32
    np.testing.assert_array_equal(crop, _expected(IMG[2:6, 3:7]))


def test_crop_is_zero_padded_at_the_top_left_border():
    crop, corner = crop_at(IMG, 1.0, 2.0, 6, flip=False)
    assert corner == (-2, -1)  # the top-left corner may lie outside the image
    raw = np.zeros((6, 6), np.uint8)
    raw[1:, 2:] = IMG[0:5, 0:4]
    np.testing.assert_array_equal(crop, _expected(raw))
    assert (crop[0] == crop[:, 0].min()).all() and crop[0, 0] < crop[1, 2]  # padding is the darkest value


def test_crop_is_zero_padded_at_the_bottom_right_border():
    crop, corner = crop_at(IMG, 11.4, 9.6, 4, flip=False)  # rounds to (11, 10): centre below the last row
    assert corner == (9, 8)
    raw = np.zeros((4, 4), np.uint8)
    raw[:2, :3] = IMG[8:10, 9:12]
    np.testing.assert_array_equal(crop, _expected(raw))


def test_crop_flip_mirrors_and_keeps_the_corner():
    plain, corner = crop_at(IMG, 1.0, 2.0, 6, flip=False)
    flipped, corner_f = crop_at(IMG, 1.0, 2.0, 6, flip=True)
    assert corner_f == corner == (-2, -1)
    np.testing.assert_array_equal(flipped, plain[:, ::-1])
    assert flipped.flags["C_CONTIGUOUS"]


def test_crop_entirely_outside_is_blank():
    crop, corner = crop_at(IMG, 100.0, 100.0, 4, flip=False)
    assert corner == (98, 98) and (crop == 0).all()


# -- device ---------------------------------------------------------------------------------------------------


def test_cuda_without_cuda_is_an_input_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for name in ("cuda", "cuda:1"):
        with pytest.raises(AntsegInputError, match=f"device '{name}' requested but CUDA is not available"):
            resolve_device(name)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
