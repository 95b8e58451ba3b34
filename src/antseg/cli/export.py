"""``antseg export``: trained models in other formats (ONNX)."""

from __future__ import annotations

from pathlib import Path

import typer

from antseg.cli.common import console

app = typer.Typer(help="Export a trained model (ONNX, for ONNX Runtime).", no_args_is_help=True)


@app.command("onnx")
def onnx(
    weights: Path = typer.Argument(..., help="Segmentation run folder (best.pt) or checkpoint."),
    out: Path = typer.Argument(..., help="The .onnx file to write (one file, metadata included)."),
    overwrite: bool = typer.Option(False, help="Replace an existing file."),
) -> None:
    """Write RUN's model as one checked .onnx file; `antseg predict FILE.onnx ...` runs it with ONNX Runtime."""
    from antseg.export import export_onnx

    res = export_onnx(weights, out, overwrite=overwrite)
    size = "batch and size (multiples of the stride)" if res.dynamic_size else "batch (size fixed to the model's input)"
    shapes = ", ".join("x".join(map(str, s)) for s in res.checked_shapes)
    console.print(f"[green]wrote[/] {res.path} (dynamic {size}) in {res.seconds:.1f} s", highlight=False)
    console.print(
        f"ONNX Runtime vs PyTorch on {shapes}: max abs logit difference {res.max_abs_diff:.2e}", highlight=False
    )
