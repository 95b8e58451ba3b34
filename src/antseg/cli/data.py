"""``antseg data ...``: import, export, validate, split, phantom, info."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, parse_floats, parse_size, progress_bar
from antseg.cli.render import print_report, print_split
from antseg.config import load_config
from antseg.data.exporters import EXPORTERS
from antseg.data.importers import IMPORTERS, ImportOptions
from antseg.data.labels import LabelPolicy
from antseg.data.phantom.choices import DEVICES, STYLES

# The commands import the library where they use it: ``antseg data ... --help`` loads no NumPy or OpenCV.

app = typer.Typer(help="Import, check, split and synthesise datasets.", no_args_is_help=True)
phantom_app = typer.Typer(help="Synthetic datasets with exact ground truth.", no_args_is_help=True)
app.add_typer(phantom_app, name="phantom")


@app.command("import")
def import_cmd(
    fmt: str = typer.Argument(..., metavar="FORMAT", help=f"Source format: {', '.join(IMPORTERS.names())}."),
    src: Path = typer.Argument(..., help="Source folder (or, for age, the label table)."),
    out: Path = typer.Argument(..., help="Canonical dataset folder to create."),
    map_: list[str] = typer.Option(None, "--map", help="Rename a label: OLD=NEW (repeatable)."),
    ignore: list[str] = typer.Option(None, "--ignore", help="Drop a label (repeatable)."),
    keep: list[str] = typer.Option(None, "--keep", help="Keep only these labels (repeatable)."),
    spacing: str = typer.Option(None, help="Pixel spacing in mm: 'S' or 'SX,SY'."),
    name: str = typer.Option(None, help="Dataset name (default: the output folder name)."),
    patient_regex: str = typer.Option(None, help="Regex with (?P<patient>...) [and (?P<eye>...)] on case ids."),
    meta: Path = typer.Option(None, help="CSV with case_id or image, and patient_id / eye / group columns."),
    modality: str = typer.Option(None, help="asoct or surgical (default: the format's)."),
    workers: int = typer.Option(0, help="Worker processes (0: one per core)."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
) -> None:
    """Turn an annotated source into a checked canonical dataset (nothing is written on error)."""
    from antseg.data.importers import run_importer

    opts = ImportOptions(
        policy=LabelPolicy.from_cli(map_, ignore, keep),
        name=name,
        spacing=parse_floats(spacing, 2, "--spacing"),
        patient_regex=patient_regex,
        meta=meta,
        modality=modality,
        workers=workers,
        overwrite=overwrite,
    )
    with progress_bar(f"import {fmt}") as update:
        res = run_importer(fmt, src, out, opts, progress=update)
    console.print(f"[green]imported[/] {res.n_cases} cases into {res.out}")
    console.print(f"structures: {', '.join(res.structures) or '-'}; landmarks: {', '.join(res.landmarks) or '-'}")
    for w in res.warnings:
        console.print(f"[yellow]warning:[/] {w}")


@app.command("export")
def export_cmd(
    fmt: str = typer.Argument(..., metavar="FORMAT", help=f"Target format: {', '.join(EXPORTERS.names())}."),
    dataset: Path = typer.Argument(..., help="Canonical dataset folder."),
    out: Path = typer.Argument(..., help="Folder to create."),
    image_format: str = typer.Option("keep", help="keep, png or jpg."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
) -> None:
    """Write a canonical dataset in another tool's layout."""
    from antseg.data.exporters import run_exporter

    run_exporter(fmt, dataset, out, image_format=image_format, overwrite=overwrite)
    console.print(f"[green]exported[/] {dataset} as {fmt} into {out}")


@app.command("validate")
def validate_cmd(dataset: Path = typer.Argument(..., help="Canonical dataset folder.")) -> None:
    """Check files, sizes, masks, landmarks, duplicates and patient leakage; exit 1 when invalid."""
    from antseg.data.validate import validate_dataset

    rep = validate_dataset(dataset)
    print_report(rep)
    if not rep.ok:
        raise typer.Exit(1)


@app.command("split")
def split_cmd(
    dataset: Path = typer.Argument(..., help="Canonical dataset folder (its cases.csv is rewritten)."),
    ratios: str = typer.Option(None, help="train,val,test fractions (default 0.7,0.15,0.15)."),
    folds: int = typer.Option(None, help="Cross-validation folds over the non-test patients."),
    seed: int = typer.Option(None, help="Random seed (default 0)."),
    no_stratify: bool = typer.Option(False, "--no-stratify", help="Ignore diagnosis groups."),
    config: Path = typer.Option(None, help="YAML file with SplitConfig fields."),
) -> None:
    """Split by patient (by video for surgical data), stratified by diagnosis group, seeded."""
    from antseg.data.split import SplitConfig, split_dataset

    cfg = load_config(
        SplitConfig,
        config,
        ratios=parse_floats(ratios, 3, "--ratios"),
        folds=folds,
        seed=seed,
        stratify=False if no_stratify else None,
    )
    ds = split_dataset(dataset, cfg)
    print_split(ds)


@app.command("info")
def info_cmd(dataset: Path = typer.Argument(..., help="Canonical dataset folder.")) -> None:
    """Summarise a canonical dataset."""
    from antseg.data.canonical import load_dataset

    ds = load_dataset(dataset)
    m = ds.manifest
    console.print(f"[bold]{m.name}[/] ({m.modality}): {len(ds)} cases, {len({c.patient_id for c in ds})} patients")
    console.print(f"structures: {', '.join(ds.structures) or '-'}; landmarks: {', '.join(ds.landmarks) or '-'}")
    console.print(f"spacing (mm/px): {m.spacing_mm or 'per case / unknown'}; groups: {', '.join(m.groups) or '-'}")
    print_split(ds)


@phantom_app.command("asoct")
def phantom_asoct(
    out: Path = typer.Argument(..., help="Canonical dataset folder to create."),
    n: int = typer.Option(None, help="Number of scans (default 40)."),
    seed: int = typer.Option(None, help="Random seed (default 0)."),
    size: str = typer.Option(None, help="WIDTHxHEIGHT (default 2130x998)."),
    spacing: str = typer.Option(None, help="mm per pixel: 'S' or 'SX,SY' (default: 16 mm / width)."),
    groups: str = typer.Option(None, help="Comma-separated groups (default normal,cataract,pacg,pacg_cataract)."),
    eyes_per_patient: int = typer.Option(None, help="1 (default) or 2."),
    hidden_spurs: float = typer.Option(
        None, help="Fraction of scans with one angle in shadow, its spur not visible (default 0)."
    ),
    style: str = typer.Option(
        None, help=f"{' or '.join(STYLES)} (default classic): realistic randomises framing, anatomy and look."
    ),
    devices: str = typer.Option(
        None, help=f"Comma-separated device geometries used in turn ({', '.join(DEVICES)}); overrides --size."
    ),
    narrow_fields: float = typer.Option(
        None,
        help="Fraction of scans whose field is narrower than their device's (at least 12 mm or 70 % of its "
        "width; default 0).",
    ),
    workers: int = typer.Option(None, help="Worker processes (default 1)."),
    fmt: str = typer.Option(
        "canonical", "--format", help=f"canonical, or a source layout: {', '.join(EXPORTERS.names())}."
    ),
    image_format: str = typer.Option("keep", help="For --format other than canonical: keep, png or jpg."),
    config: Path = typer.Option(None, help="YAML file with AsoctPhantomConfig fields."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
) -> None:
    """Synthetic CASIA-like B-scans with exact masks, spurs and analytic biometry (biometry.csv)."""
    from antseg.data.phantom.layouts import write_phantom
    from antseg.data.phantom.writer import AsoctPhantomConfig

    cfg = load_config(
        AsoctPhantomConfig,
        config,
        n=n,
        seed=seed,
        size=parse_size(size, "--size"),
        spacing=parse_floats(spacing, 2, "--spacing"),
        groups=groups.split(",") if groups else None,
        eyes_per_patient=eyes_per_patient,
        hidden_spurs=hidden_spurs,
        style=style,
        devices=tuple(devices.split(",")) if devices else None,
        narrow_fields=narrow_fields,
        workers=workers,
    )
    with progress_bar("phantom") as update:
        write_phantom(cfg, out, fmt, image_format, overwrite=overwrite, progress=update)
    console.print(f"[green]wrote[/] phantom ({fmt} layout) to {out}")


@phantom_app.command("surgical")
def phantom_surgical(
    out: Path = typer.Argument(..., help="Canonical dataset folder to create (Supervisely copy inside)."),
    videos: int = typer.Option(None, help="Number of videos (patients), default 6."),
    frames_per_video: int = typer.Option(None, help="Annotated frames per video, default 5."),
    seed: int = typer.Option(None, help="Random seed (default 0)."),
    size: str = typer.Option(None, help="WIDTHxHEIGHT (default 1024x768)."),
    video_seconds: float = typer.Option(None, help="Also write an mp4 of this length per video."),
    config: Path = typer.Option(None, help="YAML file with SurgicalPhantomConfig fields."),
    overwrite: bool = typer.Option(False, help="Replace an existing output folder."),
) -> None:
    """Synthetic microscope frames with an exact Cornea polygon, as canonical data and Supervisely JSON."""
    from antseg.data.phantom.layouts import write_phantom
    from antseg.data.phantom.writer import SurgicalPhantomConfig

    cfg = load_config(
        SurgicalPhantomConfig,
        config,
        videos=videos,
        frames_per_video=frames_per_video,
        seed=seed,
        size=parse_size(size, "--size"),
        video_seconds=video_seconds,
    )
    with progress_bar("phantom") as update:
        write_phantom(cfg, out, overwrite=overwrite, progress=update)
    console.print(f"[green]wrote[/] canonical phantom dataset {out}")
