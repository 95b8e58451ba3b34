"""The ``antseg`` command line: thin wrappers over the importable API."""

from __future__ import annotations

import os
import sys

import typer

import antseg
from antseg.cli.common import console_err, verbose_flag
from antseg.errors import AntsegInputError
from antseg.io.quiet import quiet_output

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

app = typer.Typer(
    name="antseg",
    help="Anterior-segment imaging: AS-OCT and cataract-surgery datasets, models, biometry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"antseg {antseg.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    verbose: bool = typer.Option(
        False, "--verbose", help="Show the warnings and logs of the libraries below antseg (anywhere on the line)."
    ),
) -> None:
    """antseg: one toolkit for anterior-segment OCT and cataract-surgery video."""


from antseg.cli import adapt as _adapt  # noqa: E402
from antseg.cli import benchmark as _benchmark  # noqa: E402
from antseg.cli import biometry as _biometry  # noqa: E402
from antseg.cli import data as _data  # noqa: E402
from antseg.cli import demo as _demo  # noqa: E402
from antseg.cli import evaluate as _evaluate  # noqa: E402
from antseg.cli import export as _export  # noqa: E402
from antseg.cli import info as _info  # noqa: E402
from antseg.cli import label as _label  # noqa: E402
from antseg.cli import predict as _predict  # noqa: E402
from antseg.cli import report as _report  # noqa: E402
from antseg.cli import train as _train  # noqa: E402

app.add_typer(_data.app, name="data")
app.add_typer(_train.app, name="train")
app.command("evaluate")(_evaluate.evaluate)
app.command("predict")(_predict.predict)
app.command("biometry")(_biometry.biometry)
app.command("benchmark")(_benchmark.benchmark)
app.command("report")(_report.report)
app.command("demo")(_demo.demo)
app.command("info")(_info.info)
app.command("adapt")(_adapt.adapt)
app.command("label")(_label.label)
app.add_typer(_export.app, name="export")


def main(argv: list[str] | None = None) -> None:
    """Entry point: bad input gives one line on stderr and exit code 2, never a traceback.

    Third-party warnings and logs (OpenCV, libpng, FFmpeg, torch) are kept off the terminal unless
    ``--verbose`` is given, anywhere on the command line.
    """
    args, verbose = verbose_flag(list(sys.argv[1:] if argv is None else argv))
    try:
        with quiet_output(not verbose):
            app(args=args, prog_name="antseg", standalone_mode=True)
    except AntsegInputError as exc:
        console_err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console_err.print("interrupted")
        sys.exit(130)
