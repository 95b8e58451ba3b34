"""``antseg predict``: segment images, folders, or a video frame."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import typer

from antseg.cli.common import (
    CLUSTER_HELP,
    MIRROR_HELP,
    REPAIR_HELP,
    SCAN_CONFIG_HELP,
    SPUR_WALL_HELP,
    WORKERS_HELP,
    console,
    device_option,
    parse_floats,
    progress_bar,
    scan_config,
)


def predict(
    weights: Path = typer.Argument(
        ...,
        help="Segmentation run folder (best.pt), checkpoint, .onnx file, 'default' (antseg's shipped model: "
        "the surgical one for a video), or 'none'.",
    ),
    inputs: list[Path] = typer.Argument(
        ..., help="Images, folders of images, manifests (a CSV with a 'path' column), or one video."
    ),
    out: Path = typer.Option(Path("predictions"), "--out", help="Output folder (default ./predictions)."),
    timestamp: float = typer.Option(None, help="Seconds into the video: segment the frame shown then."),
    spurs: Path = typer.Option(None, help="Spur model (run folder or spur.pt): adds spurs.csv/json and markers."),
    spur_wall: float = typer.Option(None, "--spur-wall", help=SPUR_WALL_HELP),
    device: str = device_option(),
    overwrite: bool = typer.Option(False, help="Start over: replace --out and drop an unfinished run into it."),
    resume: bool = typer.Option(
        False, "--resume", help="Continue an interrupted run into --out (or add images to it): skip finished images."
    ),
    start: float = typer.Option(None, help="Whole video: first second to process (default 0)."),
    end: float = typer.Option(None, help="Whole video: stop before this second (default: the end)."),
    every: int = typer.Option(None, help="Whole video: process every N-th frame (default 1)."),
    smooth: bool = typer.Option(None, "--smooth", help="Whole video: smooth the measures and ellipse over time."),
    masks: str = typer.Option(None, help="Whole video: masks as 'video' (lossless .mkv, default), 'png' or 'none'."),
    spacing: str = typer.Option(
        None, help="mm per pixel 'S' or 'SX,SY' (default: the model's): areas in mm2, the spur wall check, video mm."
    ),
    overlay_scale: float = typer.Option(
        None,
        "--overlay-scale",
        help="Whole video: overlay size as a fraction of the frame's (default 1; 0.5 is 4x less to encode).",
    ),  # fmt: skip
    white_to_white: float = typer.Option(
        None,
        "--white-to-white",
        help="Whole surgical video without --spacing: the limbus diameter taken as the "
        "scale of the pupil's mm (default 11.7, the adult average).",
    ),  # fmt: skip
    mirror: bool = typer.Option(None, "--mirror/--no-mirror", help=MIRROR_HELP),
    repair: bool = typer.Option(None, "--repair/--no-repair", help=REPAIR_HELP),
    config: Path = typer.Option(None, "--config", help=SCAN_CONFIG_HELP),
    workers: int = typer.Option(1, "--workers", help=WORKERS_HELP),
    cluster: str = typer.Option(None, "--cluster", help=CLUSTER_HELP),
) -> None:
    """Write a mask per structure, an overlay and areas.csv (video: original.png, <structure>.png, overlay.png)."""
    from antseg.inference.video import VIDEO_SUFFIXES
    from antseg.inference.video_stream import VideoOptions
    from antseg.scan.predict import predict_paths

    sp = parse_floats(spacing, 2, "--spacing")
    given = {"start": start, "end": end, "every": every, "smooth": smooth, "masks": masks,
             "overlay_scale": overlay_scale, "white_to_white_mm": white_to_white}  # fmt: skip
    given = {k: v for k, v in given.items() if v is not None}
    whole = timestamp is None and len(inputs) == 1 and inputs[0].suffix.lower() in VIDEO_SUFFIXES
    video = VideoOptions(**given, **({"spacing": sp} if sp else {})) if given or (whole and sp) else None
    cfg = replace(scan_config(config, mirror, repair), spacing=sp)
    with progress_bar("predict", unit="frames" if whole else "images") as update:
        w = None if str(weights).lower() == "none" else weights
        predict_paths(
            w, inputs, out, timestamp=timestamp, device=device, overwrite=overwrite, progress=update, spurs=spurs,
            resume=resume, log=lambda s: console.print(s, markup=False), video=video, spur_wall_mm=spur_wall,
            config=cfg, workers=workers, cluster=cluster,
        )  # fmt: skip
    console.print(f"[green]wrote[/] predictions to {out}")
