"""``antseg demo``: the whole pipeline on phantom data, on any machine, offline."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console
from antseg.cli.data import print_report, print_split
from antseg.config import dump_config, load_config
from antseg.data.canonical import load_dataset
from antseg.demo import DemoConfig, run_demo


def demo(
    out: Path = typer.Option(None, help="Output folder (default ./antseg-demo; replaced if made by the demo)."),
    n: int = typer.Option(None, help="AS-OCT phantom scans (default 40)."),
    no_train: bool = typer.Option(False, "--no-train", help="Only the data steps (about 20 s)."),
    seed: int = typer.Option(None, help="Random seed (default 0)."),
    config: Path = typer.Option(None, help="YAML file with DemoConfig fields."),
) -> None:
    """Generate phantoms, write them in real source formats, import, split and validate them."""
    cfg = load_config(DemoConfig, config, out=out, n_asoct=n, seed=seed, train=False if no_train else None)
    res = run_demo(cfg, log=console.print)
    dump_config(cfg, cfg.out / "demo_config.yaml")
    for name, path in (("AS-OCT", res.asoct), ("surgical", res.surgical)):
        ds = load_dataset(path)
        console.rule(f"{name}: {path}")
        console.print(f"structures: {', '.join(ds.structures)}; landmarks: {', '.join(ds.landmarks) or '-'}")
        print_split(ds)
        print_report(res.reports["asoct" if name == "AS-OCT" else "surgical"])
    if res.evaluation:
        console.rule("segmentation, AS-OCT phantom test split")
        console.print(res.evaluation["markdown"], markup=False, soft_wrap=True)
    if res.spur_evaluation:
        console.rule("scleral spurs, AS-OCT phantom test split (2130x998 px)")
        console.print(res.spur_evaluation["markdown"], markup=False, soft_wrap=True)
        ms = res.spur_evaluation["ms_per_image"]
        console.print(f"spur model CPU time per image: stage 1 {ms['stage1']:.0f} ms, stage 2 {ms['stage2']:.0f} ms")
    if res.biometry:
        console.rule("biometry of the test scans: predicted vs analytic truth (mm, mm2)")
        console.print(res.biometry["markdown"], markup=False, soft_wrap=True)
    console.print(f"[bold green]demo finished[/] in {sum(res.timings.values()):.1f} s; everything is under {cfg.out}")
