"""Anatomy-aware augmentation: a horizontal flip swaps left and right channels; blur; configurable ranges."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from antseg.preprocessing import flip_pairs
from antseg.training.augment import AugmentConfig, augment


def test_flip_swaps_left_and_right():
    names = ["anterior_chamber", "left_iris", "right_iris"]
    assert flip_pairs(names) == [0, 2, 1]
    img = torch.zeros(1, 1, 4, 6)
    img[..., :2] = 1
    masks = torch.zeros(1, 3, 4, 6)
    masks[0, 1, :, :2] = 1  # a "left iris" on the left
    cfg = AugmentConfig(flip=1.0, rotate_deg=0, scale=(1, 1), translate=0, gamma=(1, 1), contrast=(1, 1), noise=0)
    x, y = augment(img, masks, flip_pairs(names), cfg, torch.Generator().manual_seed(0))
    assert y[0, 1].sum() == 0 and y[0, 2, :, -2:].min() > 0.99  # now a right iris on the right
    assert x[0, 0, :, -2:].min() > 0.99


def _still(**kw) -> AugmentConfig:
    """No geometric or intensity change unless asked."""
    base = dict(flip=0.0, rotate_deg=0, scale=(1, 1), translate=0, gamma=(1, 1), contrast=(1, 1), noise=0)
    return AugmentConfig(**{**base, **kw})


def test_blur_matches_a_gaussian_and_leaves_masks_alone():
    cv2 = pytest.importorskip("cv2")
    img = torch.zeros(1, 1, 31, 41)
    img[0, 0, 15, 20] = 1.0  # an impulse: the blurred image is the kernel itself
    masks = torch.zeros(1, 1, 31, 41)
    masks[0, 0, 10:20, 10:30] = 1
    x, y = augment(img, masks, [0], _still(blur=(2.0, 2.0)), torch.Generator().manual_seed(0))
    ref = cv2.GaussianBlur(img[0, 0].numpy(), (13, 13), 2.0, borderType=cv2.BORDER_CONSTANT)
    assert abs(float(x.sum()) - 1.0) < 1e-5 and np.abs(x[0, 0].numpy() - ref).max() < 1e-4
    assert torch.allclose(y, masks, atol=1e-5)
    x0, _ = augment(img, masks, [0], _still(), torch.Generator().manual_seed(0))
    assert torch.allclose(x0, img, atol=1e-5)  # blur off by default


def test_train_config_augment_args():
    from antseg.errors import AntsegInputError
    from antseg.training import TrainConfig

    cfg = TrainConfig(augment_args={"blur": [0, 1.5], "gamma": [0.6, 1.6]})
    aug = cfg.augmentation()
    assert aug.blur == (0, 1.5) and aug.gamma == (0.6, 1.6) and aug.noise == AugmentConfig().noise
    with pytest.raises(AntsegInputError, match="unknown augment_args blurr; valid: flip"):
        TrainConfig(augment_args={"blurr": 1})
