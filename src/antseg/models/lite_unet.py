"""A residual U-Net from MONAI: small, and the fastest to train and run on a CPU."""

from __future__ import annotations

from torch import nn

from antseg.models.registry import register_model
from antseg.models.wrappers import PadToMultiple


@register_model("unet-lite")
def unet_lite(
    in_channels: int = 1,
    classes: int = 5,
    channels: tuple[int, ...] = (16, 32, 64, 128, 256),
    num_res_units: int = 2,
    dropout: float = 0.0,
    coord_channels: bool = True,
) -> nn.Module:
    """MONAI ``UNet`` (2-D, residual units, strided convolutions): 1.6 M parameters by default."""
    from monai.networks.nets import UNet

    net = UNet(
        spatial_dims=2,
        in_channels=in_channels + 2 * coord_channels,
        out_channels=classes,
        channels=tuple(channels),
        strides=(2,) * (len(channels) - 1),
        num_res_units=num_res_units,
        dropout=dropout,
    )
    return PadToMultiple(net, 2 ** (len(channels) - 1), coords=coord_channels)
