"""Landmarks as spatial distributions: a softmax over every pixel (plus an optional "absent" bin),
trained by cross-entropy against a normalised Gaussian, decoded by a local soft-argmax.

Why not sigmoid heatmaps: Dice/Focal-trained sigmoid maps saturate into flat-topped blobs whose argmax
wanders over the plateau, and MSE on tiny peaks learns slowly. Cross-entropy on the spatial softmax
gives a gradient to every pixel from the first step; on the AS-OCT phantom the refiner reached a 2.6 px
training error after 100 steps, where soft-argmax L1 alone was still at 16 px after 500.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F


def null_logit(hw: int) -> float:
    """Logit of the "absent" bin for a map of ``hw`` pixels: log(hw). A map of all-zero logits (an
    untrained network) is then 50 % absent, so neither answer starts out hundreds of thousands to one;
    with a null logit of 0, learning "absent" meant pushing every one of 131 072 logits below -12, and
    a run with 12 % hidden spurs never learned it."""
    return math.log(hw)


def _flat_log_probs(logits: torch.Tensor, null: bool) -> torch.Tensor:
    """(B, K, H, W) -> (B, K, H*W [+1]) log-probabilities; the extra last bin means "absent"."""
    flat = logits.flatten(2)
    if null:
        extra = flat.new_full((*flat.shape[:2], 1), null_logit(flat.shape[2]))
        flat = torch.cat([flat, extra], dim=2)
    return F.log_softmax(flat, dim=2)


class SpatialSoftmaxCE(nn.Module):
    """Cross-entropy between the spatial softmax of each channel and its target heatmap.

    Targets are (B, K, H, W) non-negative maps (Gaussians from :func:`antseg.landmarks.heatmaps.encode`),
    normalised here to distributions. With ``null=True`` an all-zero target means the landmark is absent:
    all its mass then belongs on the extra "absent" bin, so visibility is learned by the same loss.
    Without it, all-zero targets are ignored.
    """

    def __init__(self, null: bool = True) -> None:
        super().__init__()
        self.null = null

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        logp = _flat_log_probs(logits.float(), self.null)
        t = targets.float().flatten(2)
        mass = t.sum(2, keepdim=True)
        present = mass > 1e-6
        t = torch.where(present, t / mass.clamp_min(1e-6), torch.zeros_like(t))
        if self.null:
            t = torch.cat([t, (~present).to(t.dtype)], dim=2)
            return -(t * logp).sum(2).mean()
        keep = present[..., 0]
        if not keep.any():
            return logits.sum() * 0.0
        return -(t * logp).sum(2)[keep].mean()


def presence(logits: torch.Tensor) -> torch.Tensor:
    """(..., H, W) logits -> (...) probability that the landmark is in the image: 1 - P(absent bin)."""
    flat = logits.float().flatten(-2)
    return torch.sigmoid(torch.logsumexp(flat, dim=-1) - null_logit(flat.shape[-1]))


def soft_argmax(logits: torch.Tensor) -> torch.Tensor:
    """(B, 1, H, W) logits -> (B, 2) expected (x, y) under the softmax over all pixels (integral regression)."""
    b, _, h, w = logits.shape
    p = torch.softmax(logits.reshape(b, -1), dim=1).reshape(b, h, w)
    xs = torch.arange(w, device=logits.device, dtype=p.dtype)
    ys = torch.arange(h, device=logits.device, dtype=p.dtype)
    return torch.stack([(p.sum(1) * xs).sum(1), (p.sum(2) * ys).sum(1)], dim=1)


def local_soft_argmax(logits: torch.Tensor, radius: int) -> list[tuple[float, float]]:
    """(K, H, W) logits -> per channel the softmax-weighted mean (x, y) in a (2r+1)^2 window around the
    argmax: sub-pixel like a global soft-argmax, but deaf to stray mass elsewhere in the image."""
    out = []
    for m in logits.detach().float().cpu():
        h, w = m.shape
        y, x = divmod(int(torch.argmax(m)), w)
        y0, y1, x0, x1 = max(0, y - radius), min(h, y + radius + 1), max(0, x - radius), min(w, x + radius + 1)
        p = torch.softmax(m[y0:y1, x0:x1].reshape(-1), 0).reshape(y1 - y0, x1 - x0)
        out.append(
            (
                float((p.sum(0) * torch.arange(x0, x1)).sum()),
                float((p.sum(1) * torch.arange(y0, y1)).sum()),
            )
        )
    return out


def window_radius(sigma: float) -> int:
    """Local soft-argmax radius for targets of width ``sigma``: ceil(3 sigma). A window cut at 2 sigma
    biases the estimate towards the argmax pixel by up to 0.1 px; at 3 sigma the bias is below 0.01 px."""
    return max(1, math.ceil(3 * sigma))


def decode_logits(logits: torch.Tensor, sigma: float) -> list[tuple[float, float, float]]:
    """(K, H, W) logits of a model trained with :class:`SpatialSoftmaxCE` -> (x, y, presence) per channel,
    in the logits' pixel coordinates (pixel centres at integers)."""
    pts = local_soft_argmax(logits, window_radius(sigma))
    conf = presence(logits).cpu().tolist()
    return [(x, y, float(c)) for (x, y), c in zip(pts, conf, strict=True)]
