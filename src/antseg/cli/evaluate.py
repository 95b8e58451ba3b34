"""``antseg evaluate``: metrics you can publish."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, progress_bar
from antseg.evaluation import evaluate_segmentation


def evaluate(
    weights: Path = typer.Argument(..., help="Run folder (best.pt) or checkpoint file."),
    dataset: Path = typer.Argument(..., help="Canonical dataset folder."),
    out: Path = typer.Option(..., "--out", help="Folder for per_case.csv, summary.csv/json, results.md."),
    split: str = typer.Option("test", help="train, val, test or all."),
    device: str = typer.Option("auto"),
    overwrite: bool = typer.Option(False),
) -> None:
    """Dice, IoU, HD95 and ASSD per case and structure; mean ± sd per structure and diagnosis group."""
    with progress_bar(f"evaluate {split}") as update:
        res = evaluate_segmentation(
            weights, dataset, out, split=split, device=device, overwrite=overwrite, progress=update
        )
    console.print(res["markdown"], markup=False, soft_wrap=True)
    console.print(f"written to {out}")
