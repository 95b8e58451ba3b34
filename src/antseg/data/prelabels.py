"""Pre-labels and the user's corrections: which scans of a LabelMe folder from ``antseg label`` were corrected.

``antseg label`` writes a pre-label for every scan (``LABELS/labelme/``) and the same pre-labels as a canonical
dataset (``LABELS/prelabels/``). A user corrects the few most doubtful ones and leaves the others as they were
written. Those are the model's own output, which nobody checked: fine-tuning on them teaches the model what it
already does, its errors included, and they outnumber the corrected scans (measured on the real development eye:
``docs/results/adaptation.md``). So the scans read back from the folder are compared with the pre-labels, mask by
mask and point by point, and the ones left as written are told apart.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from antseg.data.canonical import MANIFEST, CanonicalDataset, load_dataset
from antseg.errors import AntsegInputError

#: The folder, beside the LabelMe folder, that holds the pre-labels as a canonical dataset.
PRELABELS = "prelabels"
#: What the pre-label dataset's provenance names as its generator.
GENERATOR = "antseg label"
#: Two spur points closer than this (pixels) are the same point (LabelMe stores them as decimals).
SAME_POINT_PX = 1e-3


def prelabels_beside(labelme: Path) -> Path | None:
    """The pre-label dataset ``antseg label`` wrote beside the LabelMe folder ``labelme``; None when there is none
    (a LabelMe folder from elsewhere, or moved away from it)."""
    found = Path(labelme).parent / PRELABELS
    if not (found / MANIFEST).is_file():
        return None
    try:
        ds = load_dataset(found)
    except AntsegInputError:
        return None
    return found if ds.manifest.provenance.get("generator") == GENERATOR else None


def _masks(ds: CanonicalDataset, case) -> dict[str, np.ndarray]:
    return dict(zip(ds.structures, ds.load_masks(case), strict=True))


def _solid(mask: np.ndarray) -> np.ndarray:
    from scipy.ndimage import binary_fill_holes

    return binary_fill_holes(mask)


def is_unchanged(data: CanonicalDataset, case, pre: CanonicalDataset) -> bool:
    """Whether ``case`` of ``data`` is exactly its pre-label in ``pre``: every structure's mask (a structure one of
    them lacks counts as empty) and every spur point (present in both at the same place, or absent in both).

    Masks are compared with their holes filled: a LabelMe polygon has none, so a pre-label whose mask had a hole
    (a chamber around a speck the pipeline left out) reads back without it although nobody changed it."""
    try:
        before = pre.case(case.case_id)
    except KeyError:
        return False  # a scan antseg label did not write
    if (before.height, before.width) != (case.height, case.width):
        return False
    now, then = _masks(data, case), _masks(pre, before)
    empty = np.zeros((case.height, case.width), np.uint8)
    for name in set(now) | set(then):
        a, b = now.get(name, empty) > 0, then.get(name, empty) > 0
        if not np.array_equal(a, b) and not np.array_equal(_solid(a), _solid(b)):
            return False
    for name in set(case.landmarks) | set(before.landmarks):
        p, q = case.landmarks.get(name), before.landmarks.get(name)
        if (p is None) != (q is None):
            return False
        if p is not None and not np.allclose(p, q, rtol=0.0, atol=SAME_POINT_PX):
            return False
    return True


def unchanged_cases(data: Path, prelabels: Path) -> list[str]:
    """Case ids of the dataset ``data`` (the LabelMe folder read back) that are exactly the pre-labels in
    ``prelabels``, in the dataset's order."""
    ds, pre = load_dataset(data), load_dataset(prelabels)
    return [c.case_id for c in ds.cases if is_unchanged(ds, c, pre)]
