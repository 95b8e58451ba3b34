"""Training samples: whole datasets preprocessed into tensors held in memory."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from antseg.data.canonical import CanonicalDataset
from antseg.data.schema import Case
from antseg.preprocessing import prepare_image


@dataclass
class SegSamples:
    """Images (B, C, H, W), soft masks (B, N, H, W), the width of the image inside each letterboxed
    canvas (B,), and the cases they came from."""

    images: torch.Tensor
    masks: torch.Tensor
    inner_w: torch.Tensor
    cases: list[Case]


def load_samples(
    ds: CanonicalDataset, cases: list[Case], in_channels: int, input_hw: tuple[int, int], norm: str
) -> SegSamples:
    imgs, msks, widths = [], [], []
    for c in cases:
        raw = ds.load_image(c, grayscale=in_channels == 1)
        x, lb = prepare_image(raw, in_channels, input_hw, norm)
        imgs.append(x)
        msks.append(lb.masks(ds.load_masks(c)))
        widths.append(lb.inner_hw[1])
    return SegSamples(torch.from_numpy(np.stack(imgs)), torch.from_numpy(np.stack(msks)), torch.tensor(widths), cases)
