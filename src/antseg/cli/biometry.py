"""``antseg biometry``: clinical measurements in mm from a labelled dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, parse_floats, progress_bar
from antseg.errors import AntsegInputError


def biometry(
    dataset: Path = typer.Option(..., "--dataset", help="Canonical dataset: measure its ground truth."),
    out: Path = typer.Option(..., "--out", help="Folder for biometry.csv, by_group.csv, agreement.csv, overlays/."),
    spacing: str = typer.Option(None, help="mm per pixel 'S' or 'SX,SY' (overrides the dataset's)."),
    split: str = typer.Option(None, help="Only this split (default: every case)."),
    narrow_aod500: float = typer.Option(0.15, help="Flag an angle narrow when AOD500 (mm) is below this..."),
    narrow_tisa500: float = typer.Option(0.05, help="...or TISA500 (mm2) is below this."),
    no_overlays: bool = typer.Option(False, "--no-overlays", help="Skip the per-scan measurement images."),
    overwrite: bool = typer.Option(False),
) -> None:
    """ACD, ACW, LV, AOD500/750, TISA500/750, ARA500/750, pupil diameter, AC and iris area, per scan and group.

    Values that cannot be measured (spur not visible, structure missing) are left empty, with the reason.
    """
    from antseg.biometry.report import AngleThresholds, dataset_biometry

    sp = parse_floats(spacing, 2, "--spacing")
    if sp is not None and min(sp) <= 0:
        raise AntsegInputError(None, "--spacing must be positive")
    with progress_bar("biometry") as update:
        res = dataset_biometry(
            dataset, out, spacing=sp, split=split, thresholds=AngleThresholds(narrow_aod500, narrow_tisa500),
            overlays=not no_overlays, overwrite=overwrite, progress=update,
        )  # fmt: skip
    console.print(f"[green]measured[/] {res['n_cases']} scans into {out}/biometry.csv")
    for a in res.get("agreement", []):
        if a.get("n"):
            console.print(
                f"  {a['measure']:<22} vs reference: mean abs error {a['mean_abs_error']:.4f}, "
                f"max {a['max_abs_error']:.4f}, ICC {a['icc']:.4f} (n={a['n']})"
            )
