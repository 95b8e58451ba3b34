"""The ``antseg`` command line: thin wrappers over the importable API."""

from __future__ import annotations

import os
import sys

import typer

import antseg
from antseg.cli.common import console_err
from antseg.errors import AntsegInputError

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
) -> None:
    """antseg: one toolkit for anterior-segment OCT and cataract-surgery video."""


from antseg.cli import benchmark as _benchmark  # noqa: E402
from antseg.cli import biometry as _biometry  # noqa: E402
from antseg.cli import data as _data  # noqa: E402
from antseg.cli import demo as _demo  # noqa: E402
from antseg.cli import evaluate as _evaluate  # noqa: E402
from antseg.cli import predict as _predict  # noqa: E402
from antseg.cli import train as _train  # noqa: E402

app.add_typer(_data.app, name="data")
app.add_typer(_train.app, name="train")
app.command("evaluate")(_evaluate.evaluate)
app.command("predict")(_predict.predict)
app.command("biometry")(_biometry.biometry)
app.command("benchmark")(_benchmark.benchmark)
app.command("demo")(_demo.demo)


def main(argv: list[str] | None = None) -> None:
    """Entry point: bad input gives one line on stderr and exit code 2, never a traceback."""
    try:
        app(args=argv, prog_name="antseg")
    except AntsegInputError as exc:
        console_err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except KeyboardInterrupt:
        console_err.print("interrupted")
        sys.exit(130)
