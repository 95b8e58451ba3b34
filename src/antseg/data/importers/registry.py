"""The importer registry."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from antseg.data.importers.records import ImportOptions, ImportResult
from antseg.errors import AntsegInputError
from antseg.registry import Registry

Importer = Callable[..., ImportResult]
IMPORTERS: Registry[Importer] = Registry("importer")
for _name, _module in (
    ("age", "age"),
    ("labelme", "labelme"),
    ("masks", "mask_folders"),
    ("supervisely", "supervisely"),
):
    IMPORTERS.declare(_name, f"antseg.data.importers.{_module}")


def run_importer(
    name: str, src: str | Path, out: str | Path, opts: ImportOptions | None = None, progress=None
) -> ImportResult:
    """Import ``src`` (in format ``name``) into the canonical dataset folder ``out``.

    Raises:
        AntsegInputError: unknown importer, missing source, or any bad input in it.
    """
    try:
        fn = IMPORTERS.get(name)
    except KeyError as exc:
        raise AntsegInputError(None, str(exc.args[0])) from None
    src = Path(src)
    if not src.exists():
        raise AntsegInputError(src, "does not exist")
    return fn(src, Path(out), opts or ImportOptions(), progress=progress)
