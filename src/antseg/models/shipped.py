"""The word ``default``: antseg's shipped models, their files and how a path argument names them.

The files themselves are package data of :mod:`antseg.pretrained` (which also holds the scripts that rebuild
them): ``segmentation.pt``, ``spurs.pt``, ``surgical.pt``/``surgical.onnx`` and their cards. Wherever antseg
accepts a run folder or checkpoint, the word ``default`` names these: the AS-OCT models, and the surgical model
wherever a surgical video (or a frame of one) is predicted. A file or folder that is really called ``default``
in the working directory is used instead.
"""

from __future__ import annotations

import importlib.util
import json
from importlib import resources
from pathlib import Path

from antseg.errors import AntsegInputError

#: The package whose data files are the shipped models.
PACKAGE = "antseg.pretrained"

#: The word that names the shipped models.
DEFAULT = "default"
#: Checkpoint file per task (the tasks of :mod:`antseg.models.checkpoint`).
FILES: dict[str, str] = {"segmentation": "segmentation.pt", "landmarks": "spurs.pt"}
#: The surgical-video model, its ONNX twin and its card (measured figures and confidence calibration).
SURGICAL_FILE = "surgical.pt"
SURGICAL_ONNX = "surgical.onnx"
SURGICAL_CARD = "surgical.card.json"


def is_default(path: str | Path | None) -> bool:
    """True when ``path`` is the word ``default`` (and no file or folder of that name exists)."""
    return path is not None and str(path).strip().lower() == DEFAULT and not Path(str(path)).exists()


def checkpoint(task: str) -> Path:
    """The shipped checkpoint file of ``task`` (``segmentation`` or ``landmarks``).

    Raises:
        AntsegInputError: the file is not installed (a source checkout without the weights).
    """
    if task not in FILES:
        raise AntsegInputError(None, f"no default model for task {task!r}; tasks: {', '.join(FILES)}")
    res = resources.files(PACKAGE) / FILES[task]
    if not res.is_file():
        raise AntsegInputError(
            None,
            f"the default {task} model ({FILES[task]}) is not installed; "
            "rebuild it with: python -m antseg.pretrained.train --out runs/pretrained --install",
        )
    return Path(str(res))  # package data is installed as plain files (wheel or editable install)


def surgical_checkpoint(prefer_onnx: bool = False) -> Path:
    """The shipped surgical model: ``surgical.onnx`` when ``prefer_onnx`` and ONNX Runtime is installed (the
    faster engine on a CPU), else ``surgical.pt``.

    Raises:
        AntsegInputError: the file is not installed.
    """
    pkg = resources.files(PACKAGE)
    if prefer_onnx and importlib.util.find_spec("onnxruntime") is not None and (pkg / SURGICAL_ONNX).is_file():
        return Path(str(pkg / SURGICAL_ONNX))
    if not (pkg / SURGICAL_FILE).is_file():
        raise AntsegInputError(
            None,
            f"the default surgical model ({SURGICAL_FILE}) is not installed; rebuild it with: "
            "python -m antseg.pretrained.train_surgical --out runs/surgical --install",
        )
    return Path(str(pkg / SURGICAL_FILE))


def surgical_card() -> dict:
    """The shipped surgical model's card (its measured figures), or {} when it is not installed."""
    res = resources.files(PACKAGE) / SURGICAL_CARD
    return json.loads(res.read_text(encoding="utf-8")) if res.is_file() else {}


#: What the shipped models measure on real scans (the README's "Default model" table); reports repeat it.
REAL_DATA_FIGURES = (
    "Measured zero-shot on 8 real CASIA SS-1000 scans of one eye (AGE challenge): Dice 0.95 anterior chamber, "
    "0.85 iris, 0.91 cornea; scleral spurs 23 px (0.17 mm) mean error, 54 px at worst, as reported here (kept "
    "on the segmented angle wall; the spur model alone: 31 px, 78 px at worst). Other eyes and devices may do "
    "worse."
)


def is_shipped(path: str | Path | None) -> bool:
    """True when ``path`` is one of the shipped checkpoint files (however it was named)."""
    if path is None:
        return False
    p = Path(path).resolve()
    shipped = [*FILES.values(), SURGICAL_FILE, SURGICAL_ONNX]
    return any(p == (Path(str(resources.files(PACKAGE))) / f).resolve() for f in shipped)
