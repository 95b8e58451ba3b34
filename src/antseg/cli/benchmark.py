"""``antseg benchmark``: argument handling; the work is :func:`antseg.comparison.run_benchmark`."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, device_option, parse_options, progress_bar
from antseg.errors import AntsegInputError


def benchmark(
    dataset: Path = typer.Argument(..., help="Canonical dataset with a train/val/test split."),
    out: Path = typer.Option(..., "--out", help="Folder for results.md/.csv/.json, figures and each method's run."),
    models: str = typer.Option(
        None,
        help="Comma-separated segmentation methods: antseg models (unet-lite, transresunet, ...) and engines "
        "(nnunet, medsam, medsam-oracle); 'none' for spurs only.",
    ),
    spurs: str = typer.Option(
        None, help="Comma-separated scleral-spur methods: antseg (the two-stage model), yolo11-pose."
    ),
    budget: float = typer.Option(None, help="Training budget per method, seconds (default 600; 0: own schedule)."),
    epochs: int = typer.Option(None, help="Training epochs per method (default: each method's own)."),
    seed: int = typer.Option(None, help="Random seed (default 0)."),
    device: str = device_option(None, "; every method uses the same"),
    split: str = typer.Option(None, help="Split to score (default test)."),
    option: list[str] = typer.Option(
        None, "--option", help="Engine option METHOD.KEY=VALUE, e.g. nnunet.configuration=2d (repeatable)."
    ),
    weights: list[str] = typer.Option(
        None,
        "--weights",
        help="Initial weights METHOD=FILE, e.g. medsam=medsam_vit_b.pth (repeatable; never downloaded).",
    ),
    trust_weights: bool = typer.Option(
        False,
        "--trust-weights",
        help="Load --weights files that are full Python pickles (Ultralytics .pt) outside the safe mode. RISK: "
        "loading a pickle can run any code on this machine; use only for files from a source you trust.",
    ),
    force: bool = typer.Option(False, "--force", help="Run again the methods that finished in an earlier call."),
    config: Path = typer.Option(None, help="YAML file with BenchmarkConfig fields."),
) -> None:
    """Train every method on the same split, predict the same test images in-process, score them with antseg's
    metrics at full resolution: the reference results table (Dice, IoU, HD95, ASSD), per group, the scleral-spur
    table (--spurs) and speed."""
    from antseg.comparison import BenchmarkConfig, run_benchmark
    from antseg.config import load_config

    options = parse_options(option)
    for item in weights or []:
        method, sep, path = item.partition("=")
        if not sep or not method or not path:
            raise AntsegInputError(None, f"--weights must look like METHOD=FILE, got {item!r}")
        options.setdefault(method, {})["weights"] = path
    cfg = load_config(
        BenchmarkConfig, config, models=models, spurs=spurs, budget_s=budget, epochs=epochs, seed=seed,
        device=device, split=split, force=force or None, options=options or None,
        trust_weights=trust_weights or None,
    )  # fmt: skip
    res = run_benchmark(dataset, out, cfg, log=lambda s: console.print(s, markup=False), progress=progress_bar)
    console.print(res.markdown, markup=False, soft_wrap=True)
    console.print(f"written to {out}")
