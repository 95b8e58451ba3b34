"""``antseg train seg|spur``: argument handling; the work is in :mod:`antseg.training`."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg import checks
from antseg.cli.common import console, device_option, parse_size, progress_bar
from antseg.models.registry import DEFAULT_MODEL, list_models
from antseg.training.config import RECIPES, resolve_train_config

app = typer.Typer(help="Train models.", no_args_is_help=True)


def _hw(size: str | None) -> tuple[int, int] | None:
    wh = parse_size(size, "--input-size")
    return (wh[1], wh[0]) if wh else None


@app.command("seg")
def train_seg(
    dataset: Path = typer.Argument(..., help="Canonical dataset folder (uses its train/val split)."),
    out: Path = typer.Option(..., "--out", help="Run folder: checkpoints, metrics.csv, curves.png, config.yaml."),
    model: str = typer.Option(None, help=f"Architecture: {', '.join(list_models())} (default {DEFAULT_MODEL})."),
    recipe: str = typer.Option(None, help=f"Named recipe: {', '.join(sorted(RECIPES))}."),
    config: Path = typer.Option(None, help="YAML file with TrainConfig fields."),
    epochs: int = typer.Option(None),
    batch_size: int = typer.Option(None),
    lr: float = typer.Option(None),
    input_size: str = typer.Option(None, help="WIDTHxHEIGHT of the network input (default 512x256)."),
    encoder_weights: str = typer.Option(None, help="imagenet (needs internet) or a local .pth file."),
    no_augment: bool = typer.Option(False, "--no-augment", help="Turn augmentation off."),
    seed: int = typer.Option(None),
    device: str = device_option(None),
    time_budget: float = typer.Option(None, help="Stop after this many seconds of training."),
    init: str = typer.Option(None, help="Start from these weights: a run folder, a checkpoint, or 'default'."),
    keep_init: bool = typer.Option(
        None,
        "--keep-init-structures/--drop-init-structures",
        help="With --init: keep the structures your labels lack (default: keep).",
    ),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its last.pt."),
) -> None:
    """Train a segmentation model (Dice+Focal, AdamW, cosine schedule; AMP on CUDA)."""
    from antseg.training.trainer import train_segmentation

    cfg = resolve_train_config(
        config, recipe, resume_run=out if resume else None, model=model, epochs=epochs, batch_size=batch_size,
        lr=lr, input_size=_hw(input_size), encoder_weights=encoder_weights, augment=False if no_augment else None,
        seed=seed, device=device, time_budget_s=time_budget, init=init,
        keep_init_structures=keep_init,
    )  # fmt: skip
    console.print(
        f"training [bold]{cfg.model}[/] on {dataset} -> {out} "
        f"({cfg.epochs} epochs, input {cfg.input_size[1]}x{cfg.input_size[0]})"
    )
    with progress_bar("train") as update:
        res = train_segmentation(dataset, out, cfg, resume=resume, log=console.print, step_cb=update)
    console.print(
        f"[green]done[/]: best validation score {res.best_score:.4f} at epoch {res.best_epoch}; "
        f"{res.seconds:.0f} s; {out}/best.pt"
    )


@app.command("spur")
def train_spur(
    dataset: Path = typer.Argument(..., help="Canonical dataset with left/right scleral spur landmarks."),
    out: Path = typer.Option(..., "--out", help="Run folder: stage1/ (generic run files) and spur.pt."),
    config: Path = typer.Option(None, help="YAML file with TrainConfig fields (stage 1)."),
    epochs: int = typer.Option(None, help="Stage-1 epochs (default 60)."),
    refine_steps: int = typer.Option(None, help="Stage-2 optimisation steps (default 1500)."),
    input_size: str = typer.Option(None, help="WIDTHxHEIGHT of the stage-1 input (default 512x256)."),
    seed: int = typer.Option(None),
    device: str = device_option(None),
    time_budget: float = typer.Option(None, help="Stop stage 1 after the epoch in which this many seconds passed."),
    init: str = typer.Option(None, help="Start stage 1 from these weights: a spur run, spur.pt, or 'default'."),
    freeze_stage1: bool = typer.Option(
        False, "--freeze-stage1", help="With --init: keep its stage 1, fine-tune the refiner alone (1-2 labelled scans)"
    ),
) -> None:
    """Two-stage spur model: heatmaps on the whole scan, then refinement on full-resolution crops."""
    from antseg.training.spurs import SpurConfig, train_spurs

    cfg = resolve_train_config(
        config, epochs=epochs, input_size=_hw(input_size), seed=seed, device=device, time_budget_s=time_budget,
        init=init,
    )  # fmt: skip
    steps = {} if refine_steps is None else {"refine_steps": checks.count(refine_steps, "--refine-steps")}
    spur = SpurConfig(**steps, freeze_stage1=freeze_stage1)
    with progress_bar("train spur (stage 1)") as update:
        res = train_spurs(dataset, out, cfg, spur, log=console.print, step_cb=update)
    console.print(f"[green]done[/]: {res['checkpoint']}")
