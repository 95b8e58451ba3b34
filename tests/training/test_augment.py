"""Anatomy-aware augmentation: a horizontal flip swaps left and right channels."""

from __future__ import annotations

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
