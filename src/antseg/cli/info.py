"""``antseg info``: argument handling; the work is :func:`antseg.models.info.model_info`."""

from __future__ import annotations

import typer

from antseg.cli.common import console


def info(
    weights: str = typer.Argument(..., help="Run folder, checkpoint file, or 'default' (the shipped models)."),
) -> None:
    """What a model is: architecture, outputs, input size, pixel spacing and training data of each checkpoint; for
    the shipped models also what they measure (their model card)."""
    from antseg.models.info import model_info

    res = model_info(weights)
    for ck in res["checkpoints"]:
        console.print(f"[bold]{ck['task']}[/]: {ck['path']}", markup=True, highlight=False)
        trained = ck["dataset"] or "unknown data"
        if ck["synthetic"] and "synthetic" not in trained:
            trained += " (synthetic only)"
        console.print(
            f"  {ck['architecture']}, input {ck['input_size'][1]}x{ck['input_size'][0]}, "
            f"{ck['in_channels']} channel(s), spacing {ck['spacing_mm'] or 'unknown'} mm/px\n  trained on {trained}\n"
            f"  outputs: {', '.join(ck['outputs'])}",
            markup=False, highlight=False,
        )  # fmt: skip
    if res["summary"]:
        console.print(res["summary"], markup=False, highlight=False, soft_wrap=True)
