"""TransResU-Net (Tomar et al., 2022, arXiv:2206.08985), written here from the paper.

A ResNet encoder (stride 16), a bottleneck of a transformer encoder in parallel with a block of dilated
convolutions, and a decoder of residual blocks with skip connections. No library ships it.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from antseg.models.encoder_weights import load_encoder_weights
from antseg.models.registry import register_model
from antseg.models.smp_models import prune_unused_stages
from antseg.models.wrappers import PadToMultiple


def conv_bn_relu(cin: int, cout: int, k: int = 3, dilation: int = 1) -> nn.Sequential:
    pad = dilation * (k // 2)
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, padding=pad, dilation=dilation, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)
    )


class ResidualBlock(nn.Module):
    """Two 3x3 conv-BN-ReLU layers with a 1x1 projection shortcut."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            conv_bn_relu(cin, cout), nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout)
        )
        self.skip = nn.Sequential(nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.skip(x))


class TransformerBottleneck(nn.Module):
    """Self-attention over the stride-16 feature map, with a learned positional embedding resized to fit."""

    def __init__(self, cin: int, dim: int, layers: int, heads: int, grid: int = 16) -> None:
        super().__init__()
        self.proj = nn.Conv2d(cin, dim, 1)
        self.pos = nn.Parameter(torch.zeros(1, dim, grid, grid))
        nn.init.trunc_normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout=0.1, batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.proj(x)
        b, c, h, w = x.shape
        x = x + F.interpolate(self.pos, size=(h, w), mode="bilinear", align_corners=False)
        t = self.encoder(x.flatten(2).transpose(1, 2))
        return t.transpose(1, 2).reshape(b, c, h, w)


class DilatedBlock(nn.Module):
    """Parallel 3x3 convolutions with dilations 1, 3, 6, 9, fused by a 1x1 convolution."""

    def __init__(self, cin: int, dim: int) -> None:
        super().__init__()
        self.branches = nn.ModuleList(conv_bn_relu(cin, dim // 4, 3, d) for d in (1, 3, 6, 9))
        self.fuse = conv_bn_relu(dim, dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(torch.cat([b(x) for b in self.branches], dim=1))


class TransResUNet(nn.Module):
    def __init__(
        self,
        in_channels: int,
        classes: int,
        encoder: str,
        encoder_weights: str | None,
        dim: int,
        layers: int,
        heads: int,
        decoder_channels: tuple[int, ...],
    ) -> None:
        super().__init__()
        from segmentation_models_pytorch.encoders import get_encoder

        weights = "imagenet" if encoder_weights == "imagenet" else None
        self.encoder = get_encoder(encoder, in_channels=in_channels, depth=4, weights=weights)
        load_encoder_weights(self.encoder, encoder_weights)
        prune_unused_stages(self.encoder, 4)
        ch = self.encoder.out_channels  # (in, s2, s4, s8, s16)
        self.transformer = TransformerBottleneck(ch[4], dim, layers, heads)
        self.dilated = DilatedBlock(ch[4], dim)
        self.bottleneck = conv_bn_relu(2 * dim, dim, 1)
        skips = [ch[3], ch[2], ch[1], ch[0]]
        blocks, cin = [], dim
        for skip, cout in zip(skips, decoder_channels, strict=True):
            blocks.append(ResidualBlock(cin + skip, cout))
            cin = cout
        self.decoder = nn.ModuleList(blocks)
        self.head = nn.Conv2d(cin, classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = self.encoder(x)
        y = self.bottleneck(torch.cat([self.transformer(feats[4]), self.dilated(feats[4])], dim=1))
        for block, skip in zip(self.decoder, [feats[3], feats[2], feats[1], feats[0]], strict=True):
            y = F.interpolate(y, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            y = block(torch.cat([y, skip], dim=1))
        return self.head(y)


@register_model("transresunet")
def transresunet(
    in_channels: int = 1,
    classes: int = 5,
    encoder: str = "resnet50",
    encoder_weights: str | None = None,
    dim: int = 256,
    layers: int = 2,
    heads: int = 4,
    decoder_channels: tuple[int, ...] = (256, 128, 64, 32),
    coord_channels: bool = True,
) -> nn.Module:
    """TransResU-Net: ResNet-50 encoder, transformer + dilated-convolution bottleneck, residual decoder."""
    cin = in_channels + 2 * coord_channels
    net = TransResUNet(cin, classes, encoder, encoder_weights, dim, layers, heads, tuple(decoder_channels))
    return PadToMultiple(net, 16, coords=coord_channels)
