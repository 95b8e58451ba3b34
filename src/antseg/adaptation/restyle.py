"""Rehearsal scans in the user's device look: phantom scans whose grey levels follow a user's scan.

The phantom's labels are exact for every structure, its look is not the user's device. Giving each rehearsal scan
the grey-level distribution of one of the user's scans (histogram matching) lets fine-tuning learn the device's
contrast from exact labels too, not only from the pseudo-labels the checks trusted, which are fewer and as good as
the model that made them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from antseg.errors import AntsegInputError
from antseg.io.images import read_image, to_grey

#: How rehearsal scans are given the user's look.
STYLES = ("histogram", "none")


def restyle(image: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``image`` (grey or colour) as a grey uint8 scan whose grey-level histogram is that of ``reference``."""
    from skimage.exposure import match_histograms

    out = match_histograms(to_grey(image).astype(np.float32), to_grey(reference).astype(np.float32))
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def check_style(style: str) -> str:
    """``style`` if it is one of :data:`STYLES`, else an input error naming the valid ones."""
    if style not in STYLES:
        raise AntsegInputError(None, f"unknown rehearsal style {style!r}; valid: {', '.join(STYLES)}")
    return style


class StyleBank:
    """The user's scans a rehearsal scan takes its look from, one drawn at random (seeded) for each."""

    def __init__(self, references: list[Path], seed: int = 0, size: int = 16) -> None:
        if not references:
            raise ValueError("no scans to take the look from")
        rng = np.random.default_rng(seed)
        picked = rng.choice(len(references), min(size, len(references)), replace=False)
        self.images = [to_grey(read_image(references[k])) for k in sorted(picked)]
        self.rng = rng

    def apply(self, image: np.ndarray) -> np.ndarray:
        """``image`` in the look of one of the bank's scans."""
        return restyle(image, self.images[int(self.rng.integers(len(self.images)))])
