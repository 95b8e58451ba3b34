"""Corrected scans in adaptation: the models are fine-tuned on them first, then self-train from there.

One to three scans labelled the way the user draws do what unlabelled scans cannot (measured on two real devices:
``docs/results/adaptation.md``): they teach the device's look *and* the user's way of drawing the structures and
the spurs. ``antseg adapt MODEL SCANS --labels LABELS`` takes the LabelMe files ``antseg label`` wrote and the user
corrected (or any canonical dataset) and fine-tunes both models on them. Self-training rounds follow only when
asked (``--rounds``): they start from the fine-tuned models, with the corrected scans in every round's training
data (measured on the development eye, they undid part of what the corrected scans taught).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from antseg.adaptation.config import AdaptConfig
from antseg.data.canonical import MANIFEST, load_dataset
from antseg.errors import AntsegInputError
from antseg.models import runs

#: Fine-tuning on the corrected scans takes this share of the whole budget when rounds follow (all of it when
#: none do), and of that the segmentation this share, the rest the spur model.
LABELS_SHARE = 0.5
SEG_SHARE = 0.4


def labelled_dataset(labels: Path, out: Path, spacing: tuple[float, float] | None) -> Path:
    """The corrected scans as a canonical dataset, every case in the ``train`` split (a user with one corrected
    scan has nothing to hold out). ``labels``: a LabelMe folder (``antseg label``'s ``labelme/``) or a canonical
    dataset; ``out``: where an import or a copy is written."""
    from antseg.data.importers.labelme import import_labelme
    from antseg.data.importers.records import ImportOptions

    if out.exists():
        shutil.rmtree(out)
    if (labels / MANIFEST).exists():
        shutil.copytree(labels, out)
    else:
        import_labelme(labels, out, ImportOptions(spacing=spacing, workers=1))
    ds = load_dataset(out)
    for c in ds.cases:
        c.split = "train"
    ds.save()
    return out


def fine_tune_on_labels(
    seg: str, spur: str | None, data: Path, work: Path, cfg: AdaptConfig, budget: float,
    log: Callable[[str], None] = print,
) -> dict:  # fmt: skip
    """Fine-tune ``seg`` (and ``spur``, when the corrected scans have spur points) on ``data`` within ``budget``
    seconds; returns the record: scans, checkpoints, seconds."""
    from antseg.training import TrainConfig, train_segmentation
    from antseg.training.spurs import SpurConfig, train_spurs

    t0 = time.monotonic()
    ds = load_dataset(data)
    if not ds.cases:
        raise AntsegInputError(data, "no corrected scans in the labels")
    points = sum(v is not None for c in ds.cases for v in c.landmarks.values())
    share = SEG_SHARE if spur and points else 1.0  # no spur to fine-tune: the segmentation has it all
    tcfg = TrainConfig(init=str(seg), epochs=200, seed=cfg.seed, threads=cfg.threads, device=cfg.device,
                       time_budget_s=max(1.0, share * budget), val_every=5)  # fmt: skip
    res = train_segmentation(data, work / "seg", tcfg, log=lambda s: None)
    record = {"scans": len(ds.cases), "segmentation": str(work / "seg" / runs.BEST), "spurs": None}
    log(f"corrected scans: segmentation fine-tuned on {len(ds.cases)} for {res.epochs_done} epoch(s)")
    if spur and points:
        left = budget - (time.monotonic() - t0)
        scfg = TrainConfig(init=str(spur), epochs=60, seed=cfg.seed, threads=cfg.threads, device=cfg.device,
                           time_budget_s=max(1.0, left))  # fmt: skip
        record["spurs"] = str(train_spurs(data, work / "spur", scfg, SpurConfig(refine_steps=400),
                                          log=lambda s: None)["checkpoint"])  # fmt: skip
        log(f"corrected scans: spur model fine-tuned on {points} spur point(s)")
    elif spur:
        log("corrected scans: no spur points, the spur model is not fine-tuned")
    record["seconds"] = time.monotonic() - t0
    return record
