"""``antseg adapt``: argument handling; the work is :func:`antseg.adaptation.adapt`."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console, device_option, parse_floats, progress_bar


def adapt(
    weights: str = typer.Argument(
        ...,
        help="Start from: 'default' (AS-OCT), 'surgical' (surgery frames), a run folder or a checkpoint.",
    ),
    scans: list[Path] = typer.Argument(
        ..., help="Unlabelled scans and folders of scans of your device (surgical: videos and frames)."
    ),
    out: Path = typer.Option(..., "--out", help="Run folder for the adapted models (use it wherever 'default' is)."),
    spurs: str = typer.Option("default", help="Spur model to put in the run folder ('none': no spur model)."),
    adapt_spurs: bool = typer.Option(
        None,
        "--adapt-spurs/--keep-spurs",
        help="Fine-tune the spur model too, kept only where a check finds it no worse (default: keep it as given).",
    ),
    labels: Path = typer.Option(
        None,
        "--labels",
        help="Corrected scans ('antseg label' LabelMe folder, corrected, or a dataset): fine-tune on them first.",
    ),
    keep_unchanged: bool = typer.Option(
        False,
        "--keep-unchanged",
        help="With --labels from 'antseg label': also fine-tune on the scans left as it wrote them (default: left "
        "out, they are the model's own output).",
    ),
    budget: float = typer.Option(
        None,
        help="Wall-clock seconds for the whole adaptation (default 300; 0: no limit, the same work on any machine).",
    ),
    rounds: int = typer.Option(None, help="Pseudo-label and fine-tune rounds (default 2; 0 with --labels)."),
    spacing: str = typer.Option(None, help="mm per pixel 'S' or 'SX,SY' of the scans (default: the model's)."),
    seed: int = typer.Option(None, help="Random seed (default 0)."),
    config: Path = typer.Option(None, "--config", help="YAML file with AdaptConfig fields."),
    device: str = device_option(),
    resume: bool = typer.Option(False, "--resume", help="Continue an interrupted adaptation in --out."),
    overwrite: bool = typer.Option(False, help="Replace an earlier adaptation in --out."),
) -> None:
    """Fit the models to your device: with --labels, fine-tune on your corrected scans first (the large gain);
    then self-train without labels: the pipeline labels your scans, the labels its quality checks trust are kept,
    phantom scans with exact labels in your scans' grey levels are mixed in, and the segmentation is fine-tuned,
    round by round; an AS-OCT result is kept only when no fewer of your scans pass the quality checks than before
    (with --labels, also only when it still matches the corrected scans). Then: antseg report SCANS --weights OUT
    --spurs OUT."""
    from antseg.adaptation import AdaptConfig
    from antseg.adaptation import adapt as run_adapt
    from antseg.config import load_config

    cfg = load_config(AdaptConfig, config, budget_s=budget, rounds=rounds, seed=seed, device=device, spurs=adapt_spurs,
                      keep_unchanged=keep_unchanged or None,
                      spacing=parse_floats(spacing, 2, "--spacing"))  # fmt: skip
    with progress_bar("adapt", unit="rounds") as update:
        res = run_adapt(
            weights, scans, out, spurs=None if spurs.lower() == "none" else spurs, cfg=cfg, labels=labels,
            resume=resume, overwrite=overwrite, log=lambda s: console.print(s, markup=False), progress=update,
        )  # fmt: skip
    check = res.get("look_check") or res.get("rounds_check")
    last = res["rounds"][-1] if res["rounds"] else None
    used = f"{last['accepted']} of {last['scans']} inputs trusted" if last and not check else ""
    if res.get("labelled"):
        used = f"{res['labelled']['scans']} corrected scan(s)" + (f", {used}" if used else "")
    if check and not check["kept"] and not res.get("labelled") and check["first_round"] == 1:
        console.print(f"[yellow]not adapted[/] in {res['seconds']:.0f} s: the starting models are in {out}; correct "
                      "a scan or two ('antseg label') and adapt with --labels")  # fmt: skip
        return
    console.print(f"[green]adapted[/] in {res['seconds']:.0f} s{f' ({used})' if used else ''}; models in {out}")
    if check:
        console.print(f"measured on your scans: {check['why']}", markup=False, highlight=False)
