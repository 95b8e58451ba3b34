"""Shared CLI helpers: consoles, progress bars, option parsing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from antseg import checks
from antseg.config import parse_yaml
from antseg.errors import AntsegInputError

#: ``--spur-wall`` (predict, biometry, report): see :mod:`antseg.inference.spur_wall`.
MIRROR_HELP = (
    "Also run the models on the mirrored scan: masks average both views and each measure gets its mirror "
    "disagreement as an uncertainty (about twice the model time)."
)
REPAIR_HELP = "Make masks anatomically consistent (one chamber without holes, irises at its ends, lens below)."
SCAN_CONFIG_HELP = "YAML file with ScanConfig fields (mirror, repair, bridge_reflection, limits: ...)."
WORKERS_HELP = "Scans at once, each worker its own process with the cores shared out; same tables as 1 worker."
CLUSTER_HELP = "Send the scans to the Dask scheduler at this address (tcp://host:8786; needs antseg[cluster])."
RESUME_HELP = "Continue an interrupted run into --out (or add scans to it): skip the scans already done."


def scan_config(path: Path | None, mirror: bool | None, repair: bool | None):
    """The per-scan pipeline's settings: defaults, then ``path`` (YAML), then the flags that were given."""
    from antseg.config import load_config
    from antseg.scan.config import ScanConfig

    return load_config(ScanConfig, path, mirror=mirror, repair=repair)


SPUR_WALL_HELP = (
    "Move a predicted spur further than this (mm) from the angle wall the segmentation sees onto it "
    "(default 0.3; 0: off)."
)


def _checked_device(value: str | None) -> str | None:
    return None if value is None else checks.device(value)


def device_option(default: str | None = "auto", note: str = "") -> typer.models.OptionInfo:
    """``--device`` for every command, parsed by the one device parser (:func:`antseg.checks.device`) as the
    command line is read, so ``--device gpu`` is refused before anything loads."""
    return typer.Option(
        default, "--device", callback=_checked_device, help=f"auto, cpu, cuda or cuda:N (a GPU by number){note}."
    )


console = Console()
console_err = Console(stderr=True)


class RateColumn(ProgressColumn):
    """Items per second (``12.3 frames/s``), blank until rich has an estimate."""

    def __init__(self, unit: str) -> None:
        super().__init__()
        self.unit = unit

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:.1f} {self.unit}/s" if speed else "")


@contextlib.contextmanager
def progress_bar(description: str, unit: str | None = None) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar; yields ``update(done, total)``. With ``unit``, it shows the rate (``frames/s``)."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        *([RateColumn(unit)] if unit else []),
        console=console,
        transient=False,
    ) as prog:
        task = prog.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        yield update


def parse_size(text: str | None, what: str = "size") -> tuple[int, int] | None:
    """``"2130x998"`` -> (2130, 998); each side a whole number from 1 to :data:`antseg.checks.MAX_SIDE`."""
    if text is None:
        return None
    parts = text.lower().split("x")
    if len(parts) != 2:
        raise AntsegInputError(None, f"{what} must look like WIDTHxHEIGHT, got {text!r}")
    try:
        return checks.size(parts, what)
    except AntsegInputError:
        raise AntsegInputError(
            None, f"{what} must look like WIDTHxHEIGHT with sides from 1 to {checks.MAX_SIDE}, got {text!r}"
        ) from None


def parse_floats(text: str | None, n: int, what: str) -> tuple[float, ...] | None:
    """``"0.7,0.15,0.15"`` -> finite floats; a single value is repeated ``n`` times."""
    if text is None:
        return None
    try:
        vals = tuple(checks.number(v, what) for v in text.split(","))
    except AntsegInputError:
        raise AntsegInputError(None, f"{what} must be comma-separated finite numbers, got {text!r}") from None
    if len(vals) == 1:
        vals = vals * n
    if len(vals) != n:
        raise AntsegInputError(None, f"{what} needs {n} values, got {text!r}")
    return vals


def verbose_flag(argv: list[str]) -> tuple[list[str], bool]:
    """Take ``--verbose`` from anywhere on the command line (before a ``--``): (the other arguments, found)."""
    stop = argv.index("--") if "--" in argv else len(argv)
    found = "--verbose" in argv[:stop]
    return [a for i, a in enumerate(argv) if not (i < stop and a == "--verbose")], found


def parse_options(items: list[str] | None) -> dict[str, dict[str, object]]:
    """``["nnunet.configuration=2d", "unet-lite.lr=1e-3"]`` -> ``{"nnunet": {"configuration": "2d"}, ...}``.

    Values are parsed as YAML scalars (numbers, booleans, lists), else kept as text.
    """
    out: dict[str, dict[str, object]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        method, dot, name = key.partition(".")
        if not sep or not dot or not method or not name:
            raise AntsegInputError(None, f"--option must look like METHOD.KEY=VALUE, got {item!r}")
        try:
            parsed = parse_yaml(value, f"--option {key}")
        except AntsegInputError as exc:
            if "unreadable YAML" not in exc.problem:
                raise  # a value that expands without bound is refused, not kept as text
            parsed = value
        if name in out.get(method, {}):
            raise AntsegInputError(None, f"--option {key} is given twice")
        out.setdefault(method, {})[name] = parsed
    return out
