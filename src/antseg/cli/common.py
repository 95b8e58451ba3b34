"""Shared CLI helpers: consoles, progress bars, option parsing."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from antseg.errors import AntsegInputError

console = Console()
console_err = Console(stderr=True)


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar; yields ``update(done, total)``."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    ) as prog:
        task = prog.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            prog.update(task, completed=done, total=total)

        yield update


def parse_size(text: str | None) -> tuple[int, int] | None:
    """``"2130x998"`` -> (2130, 998)."""
    if text is None:
        return None
    try:
        w, h = (int(v) for v in text.lower().split("x"))
        return w, h
    except ValueError:
        raise AntsegInputError(None, f"size must look like WIDTHxHEIGHT, got {text!r}") from None


def parse_floats(text: str | None, n: int, what: str) -> tuple[float, ...] | None:
    """``"0.7,0.15,0.15"`` -> floats; a single value is repeated ``n`` times."""
    if text is None:
        return None
    try:
        vals = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise AntsegInputError(None, f"{what} must be comma-separated numbers, got {text!r}") from None
    if len(vals) == 1:
        vals = vals * n
    if len(vals) != n:
        raise AntsegInputError(None, f"{what} needs {n} values, got {text!r}")
    return vals


def parse_options(items: list[str] | None) -> dict[str, dict[str, object]]:
    """``["nnunet.configuration=2d", "unet-lite.lr=1e-3"]`` -> ``{"nnunet": {"configuration": "2d"}, ...}``.

    Values are parsed as YAML scalars (numbers, booleans, lists), else kept as text.
    """
    import yaml

    out: dict[str, dict[str, object]] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        method, dot, name = key.partition(".")
        if not sep or not dot or not method or not name:
            raise AntsegInputError(None, f"--option must look like METHOD.KEY=VALUE, got {item!r}")
        try:
            parsed = yaml.safe_load(value)
        except yaml.YAMLError:
            parsed = value
        out.setdefault(method, {})[name] = parsed
    return out
