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
    spurs: Path = typer.Option(None, help="Spur model: adds a biometry block (predicted vs reference values)."),
    device: str = typer.Option("auto"),
    overwrite: bool = typer.Option(False),
) -> None:
    """Segmentation: Dice, IoU, HD95, ASSD per case and structure; mean ± sd per structure and group.
    Spur models: error per side in px and um, PCK@5/10/20/50 px, misses; per group.
    Both (a folder with best.pt and spur.pt, or --spurs): also biometry, predicted vs reference values
    (mean/max error, ICC, Bland-Altman)."""
    jobs = checkpoints_in(weights)
    for kind, path in jobs:
        dest = out if len(jobs) == 1 else out / kind
        fn = evaluate_segmentation if kind == "segmentation" else evaluate_landmarks
        with progress_bar(f"evaluate {kind} on {split}") as update:
            res = fn(path, dataset, dest, split=split, device=device, overwrite=overwrite, progress=update)
        console.print(res["markdown"], markup=False, soft_wrap=True)
    seg = next((p for k, p in jobs if k == "segmentation"), None)
    spur = spurs or next((p for k, p in jobs if k == "landmarks"), None)
    if seg is not None and spur is not None:
        from antseg.biometry.predicted import predicted_biometry

        dest = out / "biometry" if len(jobs) > 1 or spurs is not None else out
        with progress_bar(f"biometry on {split}") as update:
            res = predicted_biometry(
                seg, spur, dataset, dest, split=split, device=device, overwrite=overwrite, progress=update
            )
        console.print(res["markdown"], markup=False, soft_wrap=True)
    console.print(f"written to {out}")
