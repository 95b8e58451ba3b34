"""Phantom datasets written either canonically or in a source layout (LabelMe, masks, Supervisely, ...).

A phantom in a source layout is what a user's own annotated data looks like before import; its exact
reference biometry is kept beside it as ``reference_biometry.csv``.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from antseg.data.exporters import EXPORTERS, run_exporter
from antseg.data.phantom.writer import (
    REFERENCE_BIOMETRY,
    AsoctPhantomConfig,
    SurgicalPhantomConfig,
    generate_asoct_dataset,
    generate_surgical_dataset,
)
from antseg.errors import AntsegInputError

#: Name of the exact reference values written beside a phantom in a source layout.
SOURCE_REFERENCE_BIOMETRY = "reference_biometry.csv"
CANONICAL = "canonical"


def write_phantom(
    cfg: AsoctPhantomConfig | SurgicalPhantomConfig,
    out: str | Path,
    fmt: str = CANONICAL,
    image_format: str = "keep",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Generate a phantom (AS-OCT or surgical, by the type of ``cfg``) into ``out`` in layout ``fmt``.

    Args:
        fmt: ``canonical`` or a registered exporter (``labelme``, ``masks``, ``supervisely``, ``yolo-pose``).
        image_format: for a source layout: ``keep``, ``png`` or ``jpg``.

    Returns:
        ``out``.
    """
    out = Path(out)
    make = generate_asoct_dataset if isinstance(cfg, AsoctPhantomConfig) else generate_surgical_dataset
    if fmt == CANONICAL:
        return make(out, cfg, overwrite=overwrite, progress=progress)
    if fmt not in EXPORTERS:
        raise AntsegInputError(None, f"unknown format {fmt!r}; valid: {CANONICAL}, {', '.join(EXPORTERS.names())}")
    with tempfile.TemporaryDirectory(prefix="antseg-phantom-") as tmp:
        canonical = make(Path(tmp) / CANONICAL, cfg, overwrite=False, progress=progress)
        run_exporter(fmt, canonical, out, image_format=image_format, overwrite=overwrite)
        ref = canonical / REFERENCE_BIOMETRY
        if ref.is_file():  # keep the exact reference values beside the source-format copy
            (out / SOURCE_REFERENCE_BIOMETRY).write_bytes(ref.read_bytes())
    return out
