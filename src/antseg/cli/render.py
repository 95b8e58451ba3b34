"""Terminal rendering shared by commands: validation findings and split tables."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table

from antseg.cli.common import console

if TYPE_CHECKING:
    from antseg.data.validate import ValidationReport
    from antseg.demo_pipeline import DemoResult


def print_report(rep: ValidationReport, limit: int = 30) -> None:
    if rep.findings:
        t = Table(title=f"findings ({len(rep.errors)} errors, {len(rep.warnings)} warnings)")
        for col in ("level", "check", "case", "problem"):
            t.add_column(col)
        for f in (rep.errors + rep.warnings)[:limit]:
            t.add_row(
                f"[red]{f.level}[/]" if f.level == "error" else f"[yellow]{f.level}[/]",
                f.check,
                f.case_id,
                f.message,
            )
        console.print(t)
        if len(rep.findings) > limit:
            console.print(f"... and {len(rep.findings) - limit} more")
    verdict = "[green]valid[/]" if rep.ok else "[red]INVALID[/]"
    console.print(
        f"{rep.dataset}: {rep.n_cases} cases, {verdict} ({len(rep.errors)} errors, {len(rep.warnings)} warnings)"
    )


def print_split(ds) -> None:
    from antseg.data.split import split_table

    table = split_table(ds)
    groups = sorted({g for gs in table.values() for g in gs})
    t = Table(title="cases (patients) per split and group")
    t.add_column("split")
    for g in groups:
        t.add_column(g, justify="right")
    t.add_column("total", justify="right")
    for part in [p for p in ("train", "val", "test", "(none)") if p in table]:
        row = [table[part].get(g, (0, 0)) for g in groups]
        tot = (sum(r[0] for r in row), sum(r[1] for r in row))
        t.add_row(part, *[f"{c} ({p})" for c, p in row], f"{tot[0]} ({tot[1]})")
    console.print(t)


def print_demo(res: DemoResult) -> None:
    """The demo's datasets, validation findings and result tables."""
    from antseg.data.canonical import load_dataset

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
        console.rule("scleral spurs, AS-OCT phantom test split")
        console.print(res.spur_evaluation["markdown"], markup=False, soft_wrap=True)
        ms = res.spur_evaluation["ms_per_image"]
        console.print(f"spur model CPU time per image: stage 1 {ms['stage1']:.0f} ms, stage 2 {ms['stage2']:.0f} ms")
    if res.biometry:
        console.rule("biometry of the test scans: predicted vs analytic truth (mm, mm2)")
        console.print(res.biometry["markdown"], markup=False, soft_wrap=True)
    if res.cornea:
        print_cornea(res.cornea)


def print_cornea(c: dict) -> None:
    """The demo's surgical-video step: training, frames/s and Dice per backend."""
    console.rule("cornea (cornea-lite), surgical phantom video of an unseen eye: every frame")
    console.print(f"trained {c['epochs']} epochs, validation Dice {c['val_dice']:.4f}; video {c['video']}")
    lines = [
        "| backend | frames | frames/s end to end | decode / infer / write ms per frame | Dice mean | Dice min |",
        "|---|---|---|---|---|---|",
    ]
    for r in c["runs"]:
        ms = r["stage_ms"]
        split = f"{ms['decode']:.0f} / {ms['inference']:.0f} / {ms['write']:.0f}"
        lines.append(f"| {r['backend']} | {r['frames']} | {r['fps']:.1f} | {split} | {r['dice_mean']:.4f} "
                     f"| {r['dice_min']:.4f} |")  # fmt: skip
    console.print("\n".join(lines), markup=False, soft_wrap=True)
