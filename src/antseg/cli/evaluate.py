"""``antseg evaluate``: metrics you can publish."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, progress_bar
from antseg.errors import AntsegInputError
from antseg.evaluation import evaluate_landmarks, evaluate_segmentation
from antseg.models import read_checkpoint


def checkpoints_in(path: Path) -> list[tuple[str, Path]]:
    """(task, checkpoint) pairs in a run folder (``best.pt`` and/or ``spur.pt``) or for one file."""
    if path.is_dir():
        found = [
            (k, path / f) for k, f in (("segmentation", "best.pt"), ("landmarks", "spur.pt")) if (path / f).is_file()
        ]
        if not found:
            raise AntsegInputError(path, "no best.pt or spur.pt in this run folder")
        return found
    task = read_checkpoint(path)["meta"].get("task", "segmentation")
    return [("landmarks" if task == "landmarks" else "segmentation", path)]


def evaluate(
    weights: Path = typer.Argument(..., help="Run folder (best.pt and/or spur.pt) or checkpoint file."),
    dataset: Path = typer.Argument(..., help="Canonical dataset folder."),
    out: Path = typer.Option(..., "--out", help="Folder for the CSV, JSON and markdown tables."),
    split: str = typer.Option("test", help="train, val, test or all."),
    device: str = typer.Option("auto"),
    overwrite: bool = typer.Option(False),
) -> None:
    """Segmentation: Dice, IoU, HD95, ASSD per case and structure; mean ± sd per structure and group.
    Spur models: error per side in px and um, PCK@5/10/20/50 px, misses; per group."""
    jobs = checkpoints_in(weights)
    for kind, path in jobs:
        dest = out if len(jobs) == 1 else out / kind
        fn = evaluate_segmentation if kind == "segmentation" else evaluate_landmarks
        with progress_bar(f"evaluate {kind} on {split}") as update:
            res = fn(path, dataset, dest, split=split, device=device, overwrite=overwrite, progress=update)
        console.print(res["markdown"], markup=False, soft_wrap=True)
    console.print(f"written to {out}")
