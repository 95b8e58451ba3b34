"""segmentation-models-pytorch architectures: U-Net (default) and PSPNet (the cornea recipe)."""

from __future__ import annotations

import os

from torch import nn

from antseg.errors import AntsegInputError
from antseg.models.encoder_weights import load_encoder_weights
from antseg.models.registry import register_model
from antseg.models.wrappers import PadToMultiple


def _smp_weights(encoder_weights: str | None) -> str | None:
    if encoder_weights == "imagenet":
        os.environ.setdefault("HF_HUB_OFFLINE", "0")
        return "imagenet"
    return None


def _build(arch: str, encoder_weights: str | None, **kw) -> nn.Module:
    import segmentation_models_pytorch as smp

    try:
        net = getattr(smp, arch)(encoder_weights=_smp_weights(encoder_weights), **kw)
    except (OSError, RuntimeError, ValueError) as exc:  # offline hub / unknown encoder
        msg = str(exc).splitlines()[0][:200]
        raise AntsegInputError(None, f"cannot build {arch} ({kw.get('encoder_name')}): {msg}") from None
    load_encoder_weights(net.encoder, encoder_weights)
    prune_unused_stages(net.encoder, kw.get("encoder_depth", 5))
    return net


def prune_unused_stages(encoder: nn.Module, depth: int) -> None:
    """Drop ResNet stages a shallow encoder never runs (smp keeps them): at depth 3, PSPNet-ResNet101
    uses only conv1, layer1 and layer2, so 41 of its 43 M parameters would be dead weight."""
    for k in range(max(depth, 1), 5):
        if hasattr(encoder, f"layer{k}"):
            delattr(encoder, f"layer{k}")


@register_model("unet")
def unet(
    in_channels: int = 1,
    classes: int = 5,
    encoder: str = "resnet18",
    encoder_weights: str | None = None,
    decoder_channels: tuple[int, ...] = (64, 32, 16, 16, 8),
) -> nn.Module:
    """U-Net with a light ResNet-18 encoder and a slim decoder (smp).

    Args:
        encoder_weights: None (random), ``imagenet`` (downloads; needs internet) or a local ``.pth`` path.
    """
    net = _build(
        "Unet",
        encoder_weights,
        encoder_name=encoder,
        in_channels=in_channels,
        classes=classes,
        decoder_channels=tuple(decoder_channels),
        encoder_depth=len(decoder_channels),
    )
    return PadToMultiple(net, 2 ** len(decoder_channels))


@register_model("pspnet")
def pspnet(
    in_channels: int = 3,
    classes: int = 1,
    encoder: str = "resnet101",
    encoder_weights: str | None = None,
    encoder_depth: int = 3,
) -> nn.Module:
    """PSPNet with a ResNet-101 encoder: the reference cornea-segmentation model (smp)."""
    net = _build(
        "PSPNet",
        encoder_weights,
        encoder_name=encoder,
        in_channels=in_channels,
        classes=classes,
        encoder_depth=encoder_depth,
    )
    return PadToMultiple(net, 2**encoder_depth)
