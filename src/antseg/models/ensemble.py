"""A deep ensemble: several networks of one architecture, trained apart, whose logits are averaged.

Networks trained by the same recipe with other seeds (another phantom draw and initialisation) agree on the
phantom and can disagree widely on scans of a device none of them has seen; their average follows the better
member more closely than either member alone does, so what a user gets does not hang on the seed that was
shipped (measured in ``docs/results/default-model.md``). The ensemble is an ordinary registered model
(``ensemble``): it is saved, loaded, fine-tuned (``--init``) and exported like any other, one checkpoint holding
every member.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from antseg.errors import AntsegInputError
from antseg.models.registry import create_model, register_model


class MeanOfNets(nn.Module):
    """Runs every member on the same input and returns the mean of their outputs (logits)."""

    def __init__(self, nets: Sequence[nn.Module]) -> None:
        super().__init__()
        if not nets:
            raise ValueError("an ensemble needs at least one member")
        self.nets = nn.ModuleList(nets)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.nets[0](x)
        for net in self.nets[1:]:
            out = out + net(x)
        return out / len(self.nets)


@register_model("ensemble")
def ensemble(
    in_channels: int = 1,
    classes: int = 5,
    member: str = "unet-lite",
    members: int = 2,
    member_args: dict[str, Any] | None = None,
) -> nn.Module:
    """``members`` networks of the registered architecture ``member`` (built with ``member_args``), averaged."""
    if member == "ensemble":
        raise AntsegInputError(None, "an ensemble's members cannot be ensembles")
    if int(members) < 1:
        raise AntsegInputError(None, f"an ensemble needs at least one member, got {members}")
    args = dict(member_args or {})
    return MeanOfNets([create_model(member, in_channels=in_channels, classes=classes, **args) for _ in range(members)])


def ensemble_of(models: Sequence[nn.Module]) -> nn.Module:
    """One ``ensemble`` model holding the weights of ``models`` (built by :func:`create_model`, one architecture).

    Raises:
        ValueError: no models, or models of different architectures or arguments.
    """
    if not models:
        raise ValueError("an ensemble needs at least one member")
    specs = [m.antseg_spec for m in models]
    if any(s != specs[0] for s in specs[1:]):
        raise ValueError("the members of an ensemble must share one architecture and its arguments")
    kwargs = dict(specs[0]["kwargs"])
    in_channels, classes = kwargs.pop("in_channels"), kwargs.pop("classes")
    out = create_model("ensemble", in_channels=in_channels, classes=classes, member=specs[0]["name"],
                       members=len(models), member_args=kwargs)  # fmt: skip
    for dst, src in zip(out.nets, models, strict=True):
        dst.load_state_dict(src.state_dict())
    return out
