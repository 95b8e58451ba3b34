"""The run-folder layout, known here only: where training writes checkpoints and where loading finds them.

A segmentation run holds ``best.pt`` (best validation score) and ``last.pt`` (with the training state, for
``--resume``). A spur run holds ``stage1/`` (a generic run folder for the stage-1 network) and ``spur.pt``
(both stages). Everything that accepts a model accepts either the run folder or the checkpoint file, or the
word ``default`` for antseg's shipped models (:mod:`antseg.models.shipped`).
"""

from __future__ import annotations

from pathlib import Path

from antseg.errors import AntsegInputError
from antseg.models.checkpoint import TASK_LANDMARKS, TASK_SEGMENTATION, read_checkpoint
from antseg.models.shipped import checkpoint as default_checkpoint
from antseg.models.shipped import is_default

BEST = "best.pt"
LAST = "last.pt"
SPUR = "spur.pt"
STAGE1 = "stage1"
CONFIG = "config.yaml"
METRICS = "metrics.csv"


def segmentation_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, the best (else last) checkpoint of a segmentation run folder, or ``default``."""
    if is_default(path):
        return default_checkpoint(TASK_SEGMENTATION)
    path = Path(path)
    if not path.is_dir():
        return path
    for name in (BEST, LAST):
        if (path / name).is_file():
            return path / name
    raise AntsegInputError(path, f"no {BEST} or {LAST} in this run folder")


def spur_checkpoint(path: str | Path) -> Path:
    """A checkpoint file, ``spur.pt`` of a spur run folder, or ``default``."""
    if is_default(path):
        return default_checkpoint(TASK_LANDMARKS)
    path = Path(path)
    if not path.is_dir():
        return path
    if not (path / SPUR).is_file():
        raise AntsegInputError(path, f"no {SPUR} in this run folder")
    return path / SPUR


def checkpoints_in(path: str | Path) -> list[tuple[str, Path]]:
    """(task, checkpoint) pairs in a run folder (segmentation and/or spur model) or for one file.

    A segmentation run counts when it holds ``best.pt`` or, failing that, ``last.pt`` (as for prediction).
    ``default``: both shipped models.
    """
    if is_default(path):
        return [(t, default_checkpoint(t)) for t in (TASK_SEGMENTATION, TASK_LANDMARKS)]
    path = Path(path)
    if path.is_dir():
        found = []
        seg = next((path / f for f in (BEST, LAST) if (path / f).is_file()), None)
        if seg is not None:
            found.append((TASK_SEGMENTATION, seg))
        if (path / SPUR).is_file():
            found.append((TASK_LANDMARKS, path / SPUR))
        if not found:
            raise AntsegInputError(path, f"no {BEST}, {LAST} or {SPUR} in this run folder")
        return found
    task = read_checkpoint(path).meta.task
    return [(TASK_LANDMARKS if task == TASK_LANDMARKS else TASK_SEGMENTATION, path)]
