"""Spatial-softmax landmark head: exact loss values, the "absent" bin, gradients, sub-pixel decoding."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from antseg.landmarks.heatmaps import encode
from antseg.landmarks.softmax import SpatialSoftmaxCE, decode_logits, local_soft_argmax, presence, soft_argmax


def test_loss_exact_on_hand_made_logits():
    logits = torch.zeros(1, 2, 2, 2)  # 4 pixels per channel, all logit 0
    target = torch.zeros(1, 2, 2, 2)
    target[0, 0, 0, 1] = 3.0  # channel 0 present, one-hot after normalisation; channel 1 absent
    # with the absent bin (logit log 4): weights 1, 1, 1, 1 and 4 -> P(pixel) = 1/8, P(absent) = 1/2;
    # channel 0 costs log 8, channel 1 (absent) log 2, mean log 4
    assert float(SpatialSoftmaxCE(null=True)(logits, target)) == pytest.approx(math.log(4))
    # without it: the absent channel is ignored, 4 bins -> log 4
    assert float(SpatialSoftmaxCE(null=False)(logits, target)) == pytest.approx(math.log(4))


def test_absent_bin_and_presence():
    logits = torch.full((1, 1, 3, 3), -20.0)
    absent = torch.zeros(1, 1, 3, 3)
    assert float(SpatialSoftmaxCE(null=True)(logits, absent)) < 1e-6  # all mass already on the absent bin
    assert float(presence(logits[0, 0])) < 1e-6
    logits[0, 0, 1, 2] = 20.0
    assert float(presence(logits[0, 0])) > 0.999
    assert float(SpatialSoftmaxCE(null=False)(logits, absent)) == 0.0  # nothing to learn without the bin


def test_loss_gradient_points_to_the_target():
    logits = torch.zeros(1, 1, 8, 8, requires_grad=True)
    target = torch.from_numpy(encode([(5.0, 2.0)], (8, 8), 1.0))[None]
    SpatialSoftmaxCE(null=True)(logits, target).backward()
    g = logits.grad[0, 0]
    assert torch.isfinite(g).all() and g[2, 5] == g.min() < 0  # descent raises the logit at the target


@pytest.mark.parametrize("sigma", [1.5, 2.0, 3.0])
def test_decode_is_subpixel_on_gaussian_logits(sigma):
    rng = np.random.default_rng(1)
    for _ in range(20):
        p = tuple(rng.uniform(12, 36, 2))  # 4 sigma from the borders: the global mean is exact too
        hm = encode([p], (48, 64), sigma)[0]
        logits = torch.from_numpy(np.log(np.clip(hm, 1e-30, None)))[None]
        (x, y, conf) = decode_logits(logits, sigma)[0]
        assert math.hypot(x - p[0], y - p[1]) < 0.01
        assert conf == pytest.approx(hm.sum() / (hm.size + hm.sum()), rel=1e-5)  # 1 - P(absent), logit log(HW)
        assert soft_argmax(logits[None]).squeeze().tolist() == pytest.approx(list(p), abs=1e-3)


def test_local_decode_ignores_stray_mass():
    logits = torch.full((1, 32, 32), -10.0)
    logits[0, 10, 12] = 5.0
    logits[0, 30, 30] = 4.0  # a second, weaker peak far away pulls a global soft-argmax off
    assert local_soft_argmax(logits, 2)[0] == pytest.approx((12.0, 10.0), abs=0.01)
    gx, gy = soft_argmax(logits[None]).squeeze().tolist()
    assert gx > 15


def test_absence_is_learnable():
    """A tiny conv net learns "absent" for blank images and the point for images with a dot."""
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.Conv2d(8, 1, 3, padding=1))
    opt = torch.optim.Adam(net.parameters(), lr=0.02)
    loss_fn = SpatialSoftmaxCE(null=True)
    x = torch.zeros(4, 1, 16, 16)
    pts = [(3.0, 4.0), None, (11.0, 9.0), None]
    for i, p in enumerate(pts):
        if p:
            x[i, 0, int(p[1]), int(p[0])] = 1.0
    y = torch.from_numpy(np.stack([encode([p], (16, 16), 1.0) for p in pts]))
    for _ in range(300):
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    with torch.no_grad():
        out = net(x)
    for i, p in enumerate(pts):
        px, py, conf = decode_logits(out[i], 1.0)[0]
        if p is None:
            assert conf < 0.3
        else:
            assert conf > 0.7 and math.hypot(px - p[0], py - p[1]) < 0.5
