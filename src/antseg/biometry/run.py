"""``antseg biometry`` as one call: ground truth of a dataset, predictions on a dataset split, or new images."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from antseg import checks
from antseg.biometry.dataset import AngleThresholds, dataset_biometry
from antseg.errors import AntsegInputError


def run_biometry(
    out: str | Path,
    images: list[Path] | None = None,
    dataset: str | Path | None = None,
    weights: str | Path | None = None,
    spurs: str | Path | None = None,
    spacing: tuple[float, float] | None = None,
    split: str | None = None,
    thresholds: AngleThresholds | None = None,
    overlays: bool = True,
    device: str = "auto",
    overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
    spur_wall_mm: float | None = None,
) -> dict:
    """Measure biometry in mm, choosing the mode from what is given.

    - ``dataset`` only: its ground-truth masks and spurs (all cases, or ``split``).
    - ``weights`` + ``spurs`` + ``dataset``: predictions on ``split`` (default test), against the ground truth
      and the dataset's reference values.
    - ``weights`` + ``spurs`` + ``images``: predictions on new images; with images and neither model given, the
      shipped ``default`` models (trained on synthetic phantoms only).

    Args:
        spacing: (x, y) mm per pixel; overrides the dataset's or the checkpoint's in every mode.
        spur_wall_mm: with models: a predicted spur further than this (mm) from the angle wall the segmentation
            sees is moved onto it (None: 0.3 mm, 0: off; :mod:`antseg.inference.spur_wall`).

    Returns:
        a summary: ``mode``, ``n_cases`` or ``n_images``, and the mode's tables (``markdown``, ``agreement``).
    """
    spacing = checks.spacing(spacing, "--spacing")
    spur_wall_mm = checks.spur_wall(spur_wall_mm)
    if images and dataset is not None:
        raise AntsegInputError(None, "give images or --dataset, not both: which should be measured?")
    if images and weights is None and spurs is None:
        weights = spurs = "default"  # antseg's shipped models
    if (weights is None) != (spurs is None):
        raise AntsegInputError(None, "predicted biometry needs both --weights and --spurs")
    th = thresholds or AngleThresholds()
    if weights is None:
        if dataset is None:
            raise AntsegInputError(None, "give --dataset (ground truth) or --weights/--spurs with images")
        res = dataset_biometry(dataset, out, spacing=spacing, split=split, thresholds=th, overlays=overlays,
                               overwrite=overwrite, progress=progress)  # fmt: skip
        return {"mode": "ground_truth", **res}
    from antseg.biometry.predicted import image_biometry, predicted_biometry

    if images:
        image_biometry(weights, spurs, images, Path(out), spacing, device=device, overwrite=overwrite,
                       spur_wall_mm=spur_wall_mm)  # fmt: skip
        return {"mode": "images", "n_images": len(images)}
    if dataset is None:
        raise AntsegInputError(None, "give images or --dataset")
    res = predicted_biometry(weights, spurs, dataset, out, split=split or "test", device=device, thresholds=th,
                             overwrite=overwrite, progress=progress, spacing=spacing,
                             spur_wall_mm=spur_wall_mm)  # fmt: skip
    return {"mode": "predicted", **res}
