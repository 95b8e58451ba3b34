"""Batch augmentation on tensors that respects anatomy: a horizontal flip swaps left and right."""

from __future__ import annotations

import math

import torch
from torch.nn import functional as F

from antseg.training.config import AugmentConfig

__all__ = ["AugmentConfig", "augment"]


def augment(
    images: torch.Tensor, masks: torch.Tensor, swap: list[int], cfg: AugmentConfig, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Random flip (with channel swap), affine warp (image bilinear, masks bilinear on soft masks) and
    intensity changes. Images (B, C, H, W) normalised, masks (B, N, H, W) in [0, 1]."""
    b = images.shape[0]
    dev = images.device

    def u(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(b, generator=gen).to(dev)

    flip = torch.rand(b, generator=gen).to(dev) < cfg.flip
    if flip.any():
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        swapped = masks.flip(-1)[:, swap]
        masks = torch.where(flip[:, None, None, None], swapped, masks)
    ang = u(-cfg.rotate_deg, cfg.rotate_deg) * math.pi / 180
    sc = u(*cfg.scale)
    tx, ty = u(-cfg.translate, cfg.translate) * 2, u(-cfg.translate, cfg.translate) * 2
    h, w = images.shape[-2:]
    ar = w / h
    cos, sin = torch.cos(ang) / sc, torch.sin(ang) / sc
    theta = torch.stack([torch.stack([cos, -sin / ar, tx], 1), torch.stack([sin * ar, cos, ty], 1)], 1)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    masks = F.grid_sample(masks, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    g = u(*cfg.gamma)[:, None, None, None]
    c = u(*cfg.contrast)[:, None, None, None]
    lo = images.amin(dim=(1, 2, 3), keepdim=True)
    rng = images.amax(dim=(1, 2, 3), keepdim=True) - lo + 1e-6
    images = ((images - lo) / rng).clamp(0, 1) ** g * rng + lo
    images = images * c + cfg.noise * torch.randn(images.shape, generator=gen).to(dev)
    if cfg.blur[1] > 0:
        images = _blur(images, u(*cfg.blur))
    return images, masks


def _blur(images: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Separable Gaussian blur of each sample with its own sigma (pixels; below 0.1: left as is)."""
    out = images.clone()
    for i, s in enumerate(sigma.tolist()):
        if s < 0.1:
            continue
        r = max(1, math.ceil(3 * s))
        k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=images.dtype, device=images.device) / s) ** 2)
        k = (k / k.sum()).repeat(images.shape[1], 1, 1)  # (C, 1, K): one kernel per channel
        x = images[i : i + 1]
        x = F.conv1d(x.permute(0, 2, 1, 3).reshape(-1, x.shape[1], x.shape[3]), k, padding=r, groups=x.shape[1])
        x = x.reshape(1, images.shape[2], images.shape[1], -1).permute(0, 2, 1, 3)  # rows blurred
        y = x.permute(0, 3, 1, 2).reshape(-1, x.shape[1], x.shape[2])
        y = F.conv1d(y, k, padding=r, groups=x.shape[1])
        out[i] = y.reshape(1, images.shape[3], images.shape[1], -1).permute(0, 2, 3, 1)[0]  # columns blurred
    return out
