"""Input wrappers shared by the architectures: padding to a multiple of the stride, CoordConv channels."""

from __future__ import annotations

import torch
from torch import nn


class PadToMultiple(nn.Module):
    """Pads the input (reflect) to a multiple of ``multiple`` and crops the output back: any size works.

    With ``coords``, two channels holding the normalised x and y position (-1..1) are appended to the
    input (CoordConv): mirror-image structures such as the left and right iris are then told apart by
    where they are, not only by local texture. The wrapped net must take ``in_channels + 2``.
    """

    def __init__(self, net: nn.Module, multiple: int = 32, coords: bool = False) -> None:
        super().__init__()
        self.net, self.multiple, self.coords = net, multiple, coords

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.coords:
            b, _, hh, ww = x.shape
            gy = torch.linspace(-1, 1, hh, device=x.device, dtype=x.dtype).view(1, 1, hh, 1).expand(b, 1, hh, ww)
            gx = torch.linspace(-1, 1, ww, device=x.device, dtype=x.dtype).view(1, 1, 1, ww).expand(b, 1, hh, ww)
            x = torch.cat([x, gx, gy], dim=1)
        h, w = x.shape[-2:]
        ph, pw = (-h) % self.multiple, (-w) % self.multiple
        if ph or pw:
            mode = "reflect" if min(h, w) > max(ph, pw) else "replicate"
            x = nn.functional.pad(x, (0, pw, 0, ph), mode=mode)
        return self.net(x)[..., :h, :w]
