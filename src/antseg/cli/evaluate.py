"""``antseg evaluate``: argument handling; the work is :func:`antseg.evaluation.evaluate_run`."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, device_option, progress_bar


def evaluate(
    weights: Path = typer.Argument(..., help="Run folder (best.pt and/or spur.pt) or checkpoint file."),
    dataset: Path = typer.Argument(..., help="Canonical dataset folder."),
    out: Path = typer.Option(..., "--out", help="Folder for the CSV, JSON and markdown tables."),
    split: str = typer.Option("test", help="train, val, test or all."),
    spurs: Path = typer.Option(
        None,
        help="Spur model (run folder or spur.pt): adds its spur table and a biometry block (predicted vs reference).",
    ),
    device: str = device_option(),
    overwrite: bool = typer.Option(False),
) -> None:
    """Segmentation: Dice, IoU, HD95, ASSD per case and structure; mean ± sd per structure and group.
    Spur models: error per side in px and um, PCK@5/10/20/50 px, misses; per group.
    Both (a folder with best.pt and spur.pt, or --spurs): both tables, and biometry, predicted vs reference
    values (mean/max error, ICC, Bland-Altman)."""
    from antseg.evaluation import evaluate_run

    evaluate_run(
        weights, dataset, out, split=split, spurs=spurs, device=device, overwrite=overwrite,
        progress=progress_bar, report=lambda md: console.print(md, markup=False, soft_wrap=True),
    )  # fmt: skip
    console.print(f"written to {out}")
