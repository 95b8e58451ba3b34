"""``antseg predict``: segment images, folders, or a video frame."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, progress_bar
from antseg.inference import predict_paths


def predict(
    weights: Path = typer.Argument(..., help="Segmentation run folder (best.pt) or checkpoint; 'none' for spurs only."),
    inputs: list[Path] = typer.Argument(..., help="Images, folders of images, or one video (with --timestamp)."),
    out: Path = typer.Option(..., "--out", help="Output folder."),
    timestamp: float = typer.Option(None, help="Seconds into the video: segment the frame shown then."),
    spurs: Path = typer.Option(None, help="Spur model (run folder or spur.pt): adds spurs.csv/json and markers."),
    device: str = typer.Option("auto"),
    overwrite: bool = typer.Option(False),
) -> None:
    """Write a mask per structure, an overlay and areas.csv (video: original.png, <structure>.png, overlay.png)."""
    with progress_bar("predict") as update:
        w = None if str(weights).lower() == "none" else weights
        predict_paths(
            w, inputs, out, timestamp=timestamp, device=device, overwrite=overwrite, progress=update, spurs=spurs
        )
    console.print(f"[green]wrote[/] predictions to {out}")
