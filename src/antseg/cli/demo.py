"""``antseg demo``: the whole pipeline on phantom data, on any machine, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console
from antseg.cli.render import print_demo
from antseg.config import dump_config, load_config


def demo(
    out: Path = typer.Option(None, help="Output folder (default ./antseg-demo; replaced if made by the demo)."),
    n: int = typer.Option(None, help="AS-OCT phantom scans (default 40)."),
    no_train: bool = typer.Option(False, "--no-train", help="Only the data steps (about 20 s)."),
    seed: int = typer.Option(None, help="Random seed (default 0)."),
    quick: bool = typer.Option(False, "--quick", help="Every step on tiny data with tiny budgets (about a minute)."),
    config: Path = typer.Option(None, help="YAML file with DemoConfig fields."),
) -> None:
    """The whole pipeline on phantom data, offline: data, training, evaluation, biometry and a surgical video.

    AS-OCT and surgical phantoms are written in real source formats (LabelMe, Supervisely), imported, split and
    validated; then (unless --no-train) a segmentation model, the two-stage scleral-spur model and the cornea
    model are trained, each within its time budget (DemoConfig's train_budget_s, spur_budget_s,
    cornea_budget_s), evaluated on the test split, the test scans measured against their analytic biometry, and
    a phantom surgical video segmented end to end."""
    from antseg.demo_pipeline import DemoConfig, run_demo

    cfg = load_config(
        DemoConfig, config, out=out, n_asoct=n, seed=seed, train=False if no_train else None, quick=quick or None
    ).resolved()
    res = run_demo(cfg, log=console.print)
    dump_config(cfg, cfg.out / "demo_config.yaml")
    print_demo(res)
    console.print(f"[bold green]demo finished[/] in {sum(res.timings.values()):.1f} s; everything is under {cfg.out}")
