"""An adaptation's run folder: its record (``adaptation.json``), written after every round so ``--resume`` can
continue, and its work folder; shared by the AS-OCT and the surgical routes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.io.atomic import atomic_write_text
from antseg.io.output_folder import check_output_folder

#: The adaptation's own record in the run folder, and the folder of its rounds' work.
RECORD = "adaptation.json"
WORK = "work"


def write_record(out: Path, state: dict) -> None:
    """Write the record of the adaptation in ``out`` (atomically: a kill leaves the previous one)."""
    atomic_write_text(out / RECORD, json.dumps(state, indent=1, default=str) + "\n")


def read_record(out: Path) -> dict:
    """The record of the adaptation to resume in ``out``.

    Raises:
        AntsegInputError: there is no adaptation in ``out``.
    """
    if not (out / RECORD).is_file():
        raise AntsegInputError(out, "nothing to resume: no adaptation here (run without --resume)")
    return json.loads((out / RECORD).read_text(encoding="utf-8"))


def new_run_folder(out: Path, overwrite: bool, inputs: list[Path]) -> None:
    """Make ``out`` empty for a new adaptation (refused when it is an input or a folder antseg did not make)."""
    check_output_folder(out, overwrite, inputs)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
