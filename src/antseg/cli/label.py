"""``antseg label``: argument handling; the work is :func:`antseg.adaptation.labelling.prelabel`."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, device_option, parse_floats, progress_bar


def label(
    weights: str = typer.Argument(..., help="Segmentation model: 'default', an adapted or trained run, a checkpoint."),
    scans: list[Path] = typer.Argument(..., help="Scans and folders of scans to pre-label."),
    out: Path = typer.Option(..., "--out", help="Folder for labelme/, to_correct.csv and prelabels/."),
    spurs: str = typer.Option("default", help="Spur model ('none': no spur points)."),
    spacing: str = typer.Option(None, help="mm per pixel 'S' or 'SX,SY' (default: the model's)."),
    device: str = device_option(),
    overwrite: bool = typer.Option(False),
) -> None:
    """Pre-labels to correct in LabelMe (polygons per structure, the spurs as points), with the scans ranked by how
    much the pipeline doubts them. Then: antseg adapt default SCANS --labels OUT/labelme --out RUN (it fine-tunes on
    the files you changed and leaves the others out)."""
    from antseg.adaptation.labelling import prelabel
    from antseg.scan.config import ScanConfig

    cfg = ScanConfig(spacing=parse_floats(spacing, 2, "--spacing"))
    with progress_bar("label") as update:
        res = prelabel(weights, scans, out, spurs=None if spurs.lower() == "none" else spurs, config=cfg,
                       device=device, overwrite=overwrite, progress=update)  # fmt: skip
    first = ", ".join(name for name, _ in res["ranking"][:3])
    console.print(f"[green]pre-labelled[/] {res['n_scans']} scans into {res['labelme']} (correct first: {first}; "
                  f"the full order is in {out}/to_correct.csv); 'antseg adapt ... --labels {res['labelme']}' then "
                  "fine-tunes on the files you changed only", markup=True, highlight=False)  # fmt: skip
