"""``antseg report``: argument handling; the work is :func:`antseg.report.make_report`."""

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


def report(
    scans: list[Path] = typer.Argument(
        ..., help="AS-OCT scans (JPEG/PNG/DICOM), folders of scans, manifests (a CSV with a 'path' column)."
    ),
    out: Path = typer.Option(
        Path("report"), "--out", help="Folder for report.html, scans.csv, eyes.csv, report.json, overlays/."
    ),
    weights: str = typer.Option(
        "default", help="Segmentation model: run folder, checkpoint, or 'default' (shipped, synthetic-trained)."
    ),
    spurs: str = typer.Option("default", help="Spur model: run folder, spur.pt, or 'default'."),
    spacing: str = typer.Option(
        None, help="mm per pixel 'S' or 'SX,SY' for every scan (default: a DICOM's own, else the model's)."
    ),
    meta: Path = typer.Option(None, help="CSV with image (or case_id), patient_id, eye: groups scans by eye."),
    reference: Path = typer.Option(None, help="CSV with image (or case_id) and reference measures: agreement plots."),
    narrow_aod500: float = typer.Option(0.15, help="Flag an angle narrow when AOD500 (mm) is below this..."),
    narrow_tisa500: float = typer.Option(0.05, help="...or TISA500 (mm2) is below this."),
    spur_wall: float = typer.Option(None, "--spur-wall", help=SPUR_WALL_HELP),
    eye_regex: str = typer.Option(
        None, help="Group scans into eyes by name: a regex with (?P<patient>...) [and (?P<eye>...)] on the stem."
    ),
    mirror: bool = typer.Option(None, "--mirror/--no-mirror", help=MIRROR_HELP),
    repair: bool = typer.Option(None, "--repair/--no-repair", help=REPAIR_HELP),
    config: Path = typer.Option(None, "--config", help=SCAN_CONFIG_HELP),
    dicom_out: Path = typer.Option(
        None, "--dicom-out", help="Also write a DICOM SEG and SR per DICOM scan here (needs antseg[dicom])."
    ),
    show_identifiers: bool = typer.Option(
        False, "--show-identifiers", help="Show DICOM patient IDs, names and birth dates (default: a pseudonym)."
    ),
    device: str = device_option(),
    overwrite: bool = typer.Option(False),
    resume: bool = typer.Option(False, "--resume", help=RESUME_HELP),
    workers: int = typer.Option(1, "--workers", help=WORKERS_HELP),
    cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
) -> None:
    """One command from raw scans to a report a clinician can read: per scan an overlay (structures, spurs, ACD,
    AOD500), every measure with a status (ok, check, not measured) and its reasons, and quality warnings; per eye
    the scans checked against each other and every measure summarised, with typical ranges and narrow-angle
    flags."""
    from antseg.biometry.dataset import AngleThresholds
    from antseg.report import make_report

    with progress_bar("report") as update:
        res = make_report(
            scans, out, weights, spurs, spacing=parse_floats(spacing, 2, "--spacing"), meta=meta,
            reference=reference, thresholds=AngleThresholds(narrow_aod500, narrow_tisa500), device=device,
            overwrite=overwrite, progress=update, spur_wall_mm=spur_wall, eye_regex=eye_regex,
            config=scan_config(config, mirror, repair), dicom_out=dicom_out, show_identifiers=show_identifiers,
            resume=resume, workers=workers, cluster=cluster, log=lambda s: console.print(s, markup=False),
        )  # fmt: skip
    for w in res["warnings"]:
        console.print(f"[yellow]warning:[/] {w}", highlight=False, soft_wrap=True)
    console.print(
        f"[green]report[/] of {res['n_scans']} scan{'s' * (res['n_scans'] != 1)} ({res['n_eyes']} "
        f"eye{'s' * (res['n_eyes'] != 1)}): {res['html']} "
        f"({res['seconds_per_scan']:.2f} s per scan)"
    )
