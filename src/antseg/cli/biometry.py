"""``antseg biometry``: argument handling; the work is :func:`antseg.scan.biometry.run_biometry`."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import (
    CLUSTER_HELP,
    MIRROR_HELP,
    REPAIR_HELP,
    RESUME_HELP,
    SCAN_CONFIG_HELP,
    SPUR_WALL_HELP,
    WORKERS_HELP,
    console,
    device_option,
    parse_floats,
    progress_bar,
    scan_config,
)


def biometry(
    images: list[Path] = typer.Argument(
        None,
        help="Images, folders or manifests (CSV with a 'path' column) to predict and measure (with "
        "--weights/--spurs, or antseg's shipped default models).",
    ),
    dataset: Path = typer.Option(None, "--dataset", help="Canonical dataset: measure its ground truth."),
    weights: Path = typer.Option(None, help="Segmentation model: measure predictions instead of ground truth."),
    spurs: Path = typer.Option(None, help="Spur model (with --weights)."),
    spur_wall: float = typer.Option(None, "--spur-wall", help=SPUR_WALL_HELP),
    mirror: bool = typer.Option(None, "--mirror/--no-mirror", help=MIRROR_HELP),
    repair: bool = typer.Option(None, "--repair/--no-repair", help=REPAIR_HELP),
    config: Path = typer.Option(None, "--config", help=SCAN_CONFIG_HELP),
    device: str = device_option(),
    out: Path = typer.Option(
        Path("biometry"), "--out", help="Folder for biometry.csv, by_group.csv, agreement.csv, overlays/."
    ),
    spacing: str = typer.Option(None, help="mm per pixel 'S' or 'SX,SY' (overrides the dataset's)."),
    split: str = typer.Option(
        None, help="Only this split (default: every case for ground truth, the test split for predictions)."
    ),
    narrow_aod500: float = typer.Option(0.15, help="Flag an angle narrow when AOD500 (mm) is below this..."),
    narrow_tisa500: float = typer.Option(0.05, help="...or TISA500 (mm2) is below this."),
    no_overlays: bool = typer.Option(False, "--no-overlays", help="Skip the per-scan measurement images."),
    overwrite: bool = typer.Option(False),
    resume: bool = typer.Option(False, "--resume", help=RESUME_HELP),
    workers: int = typer.Option(1, "--workers", help=WORKERS_HELP),
    cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
) -> None:
    """ACD, ACW, LV, AOD500/750, TISA500/750, ARA500/750, pupil diameter, AC and iris area, per scan and group.

    With --dataset only: the ground truth. With --weights and --spurs: predictions, on images or on a dataset
    split (then compared with its reference values and ground truth: MAE, ICC, Bland-Altman).

    Values that cannot be measured (spur not visible, structure missing) are left empty, with the reason.
    """
    from antseg.biometry.dataset import AngleThresholds
    from antseg.scan.biometry import run_biometry

    with progress_bar("biometry") as update:
        res = run_biometry(
            out, images=images or None, dataset=dataset, weights=weights, spurs=spurs,
            spacing=parse_floats(spacing, 2, "--spacing"), split=split,
            thresholds=AngleThresholds(narrow_aod500, narrow_tisa500), overlays=not no_overlays, device=device,
            overwrite=overwrite, progress=update, spur_wall_mm=spur_wall, config=scan_config(config, mirror, repair),
            resume=resume, workers=workers, cluster=cluster, log=lambda s: console.print(s, markup=False),
        )  # fmt: skip
    if res["mode"] == "images":
        console.print(f"[green]measured[/] {res['n_images']} input(s) into {out}/biometry.csv")
        return
    if res["mode"] == "predicted":
        console.print(res["markdown"], markup=False, soft_wrap=True)
        return
    console.print(f"[green]measured[/] {res['n_cases']} scans into {out}/biometry.csv")
    for a in res.get("agreement", []):
        if a.get("n"):
            console.print(
                f"  {a['measure']:<22} vs reference: mean abs error {a['mean_abs_error']:.4f}, "
                f"max {a['max_abs_error']:.4f}, ICC {a['icc']:.4f} (n={a['n']})"
            )
