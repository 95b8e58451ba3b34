"""Start a model from another checkpoint's weights (``--init``): fine-tuning, e.g. from the shipped default.

Tensors are copied by name where the shapes agree. The tensors that depend on the number of output channels
(the output layers) are matched channel by channel by name, so a dataset with other structures, or the same
ones in another order, keeps what the checkpoint knows about each structure it shares; new structures keep
their fresh initialisation.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn

from antseg.errors import AntsegInputError
from antseg.models.checkpoint import TASK_LANDMARKS, Checkpoint, model_spec, read_checkpoint
from antseg.models.registry import create_model
from antseg.models.runs import checkpoints_in


def _names(ck: Checkpoint) -> list[str]:
    return list(ck.meta.landmarks if ck.meta.task == TASK_LANDMARKS else ck.meta.structures)


def _resolve(init: str | Path, channel_names: list[str]) -> Checkpoint:
    """The checkpoint ``init`` names (a run folder, a checkpoint or ``default``: :func:`checkpoints_in`) whose
    channels overlap ``channel_names`` most (segmentation or spurs)."""
    found = [read_checkpoint(p) for _, p in checkpoints_in(init)]
    return max(found, key=lambda ck: len(set(_names(ck)) & set(channel_names)))


def init_spec(init: str | Path, channel_names: list[str]) -> dict:
    """The architecture of the checkpoint ``init`` would load for ``channel_names``: ``{"name", "kwargs"}``
    (build the model to train from it, with ``classes=len(channel_names)``, so that every layer fits)."""
    ck = _resolve(init, channel_names)
    return {"name": ck.model["name"], "kwargs": {k: v for k, v in ck.model["kwargs"].items() if k != "classes"}}


def init_outputs(init: str | Path, channel_names: list[str]) -> tuple[Checkpoint, list[str]]:
    """The checkpoint ``init`` names for ``channel_names`` and all of its output names (structures or
    landmarks): what a fine-tuned model can keep beyond the dataset's own labels."""
    ck = _resolve(init, channel_names)
    return ck, _names(ck)


def _channel_dims(spec: dict) -> dict[str, list[int]]:
    """Tensor name -> the dimensions that count output channels, found by building the architecture with
    two different numbers of classes and comparing the shapes."""
    kwargs = {k: v for k, v in spec["kwargs"].items() if k != "encoder_weights"}
    a = create_model(spec["name"], **{**kwargs, "classes": 2}).state_dict()
    b = create_model(spec["name"], **{**kwargs, "classes": 3}).state_dict()
    return {k: [d for d in range(a[k].ndim) if a[k].shape[d] != b[k].shape[d]] for k in a if a[k].shape != b[k].shape}


def _same_except(a: torch.Tensor, b: torch.Tensor, dims: list[int]) -> bool:
    """Same rank and sizes except along the channel ``dims``."""
    return a.ndim == b.ndim and all(a.shape[d] == b.shape[d] for d in range(a.ndim) if d not in dims)


def _copy_channels(dst: torch.Tensor, src: torch.Tensor, dims: list[int], pairs: list[tuple[int, int]]) -> None:
    """dst[channels] = src[channels] along ``dims`` (one or two), for (dst index, src index) ``pairs``."""
    if len(dims) == 1:
        d = dims[0]
        for i, j in pairs:
            dst.select(d, i).copy_(src.select(d, j))
        return
    d0, d1 = dims[0], dims[1] - 1  # after selecting along d0, d1 shifts down by one
    for i, j in pairs:
        row_dst, row_src = dst.select(dims[0], i), src.select(d0, j)
        for k, m in pairs:
            row_dst.select(d1, k).copy_(row_src.select(d1, m))


def load_initial_weights(
    model: nn.Module, init: str | Path, channel_names: list[str], log: Callable[[str], None] | None = None
) -> None:
    """Load the weights of ``init`` (a checkpoint file, a run folder, or ``default``) into ``model`` in place.

    Args:
        model: a model built by :func:`antseg.models.create_model`, with one output channel per name.
        init: where the weights come from; ``default`` is the shipped model of the same task.
        channel_names: the model's output channels (structures, or landmarks for a spur model), in order.
        log: receives one line saying what was loaded.

    Raises:
        AntsegInputError: the checkpoint cannot be read, is another architecture, or shares no output channel.
    """
    ck = _resolve(init, channel_names)
    spec = model_spec(model)
    if spec["name"] != ck.model["name"]:
        raise AntsegInputError(
            ck.path, f"holds a {ck.model['name']!r} model; the model to train is {spec['name']!r} (use --model)"
        )
    src_names = _names(ck)
    pairs = [(i, src_names.index(n)) for i, n in enumerate(channel_names) if n in src_names]
    if not pairs:
        raise AntsegInputError(ck.path, f"shares no output channel with {', '.join(channel_names)}")
    dims = _channel_dims(spec)
    state = model.state_dict()
    copied = skipped = 0
    with torch.no_grad():
        for name, dst in state.items():
            src = ck.state_dict.get(name)
            if src is None:
                skipped += 1
            elif name in dims and len(dims[name]) <= 2 and _same_except(dst, src, dims[name]):
                _copy_channels(dst, src.to(dst.dtype), dims[name], pairs)
                copied += 1
            elif src.shape == dst.shape:
                dst.copy_(src.to(dst.dtype))
                copied += 1
            else:
                skipped += 1
    if copied < 0.5 * len(state):
        raise AntsegInputError(ck.path, f"only {copied} of {len(state)} tensors fit the model: another architecture")
    model.load_state_dict(state)
    if log:
        new = [n for n in channel_names if n not in src_names]
        log(
            f"initialised from {ck.path}: {copied} tensors, {len(pairs)} of {len(channel_names)} output channels"
            + (f" (new: {', '.join(new)})" if new else "")
            + (f", {skipped} tensors left as initialised" if skipped else "")
        )
