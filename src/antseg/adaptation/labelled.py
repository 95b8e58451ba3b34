"""Corrected scans in adaptation: the models are fine-tuned on them first, then self-train from there.

One to three scans labelled the way the user draws do what unlabelled scans cannot (measured on two real devices:
``docs/results/adaptation.md``): they teach the device's look *and* the user's way of drawing the structures and
the spurs. ``antseg adapt MODEL SCANS --labels LABELS`` takes the LabelMe files ``antseg label`` wrote and the user
corrected (or any canonical dataset) and fine-tunes both models on them. Self-training rounds follow only when
asked (``--rounds``): they start from the fine-tuned models, with the corrected scans in every round's training
data (measured on the development eye, they undid part of what the corrected scans taught). The spur model
fine-tuned on them is kept only when the pipeline is as sure of its spurs on the user's other scans as of the
model before's (:func:`antseg.adaptation.spur_guard.judge_on_scans`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from antseg.adaptation.config import AdaptConfig, train_budget
from antseg.adaptation.pseudo import spread
from antseg.adaptation.spur_guard import CHECK_SCANS, count_doubts, judge_on_scans
from antseg.data.canonical import MANIFEST, load_dataset
from antseg.errors import AntsegInputError
from antseg.models import runs

#: Fine-tuning on the corrected scans takes this share of the whole budget when rounds follow (all of it when
#: none do), and of that the segmentation this share, the rest the spur model.
LABELS_SHARE = 0.5
SEG_SHARE = 0.4


def labelled_dataset(
    labels: Path, out: Path, spacing: tuple[float, float] | None, keep_unchanged: bool = False
) -> tuple[Path, list[str]]:
    """The corrected scans as a canonical dataset, every case in the ``train`` split (a user with one corrected
    scan has nothing to hold out). ``labels``: a LabelMe folder (``antseg label``'s ``labelme/``) or a canonical
    dataset; ``out``: where an import or a copy is written.

    When ``labels`` is the LabelMe folder ``antseg label`` wrote (its pre-labels beside it), the scans left exactly
    as it wrote them are not corrected and are left out (:mod:`antseg.data.prelabels`), unless ``keep_unchanged``
    (the user checked them and found them right).

    Returns:
        (the dataset, the case ids left out as unchanged pre-labels).
    Raises:
        AntsegInputError: no scan in ``labels`` differs from its pre-label (and ``keep_unchanged`` is off).
    """
    from antseg.data.importers.labelme import import_labelme
    from antseg.data.importers.records import ImportOptions
    from antseg.data.prelabels import prelabels_beside

    if out.exists():
        shutil.rmtree(out)
    unchanged: list[str] = []
    if (labels / MANIFEST).exists():
        shutil.copytree(labels, out)
    else:
        read = import_labelme(labels, out, ImportOptions(spacing=spacing, workers=1))
        unchanged = [] if keep_unchanged else read.unchanged
    ds = load_dataset(out)
    if unchanged and len(unchanged) == len(ds.cases):
        raise AntsegInputError(labels, f"none of its {len(ds.cases)} scan(s) differs from the pre-labels 'antseg "
                               f"label' wrote ({prelabels_beside(labels)}): correct at least one in LabelMe and "
                               "save it, or give --keep-unchanged to use them as they are")  # fmt: skip
    left_out = set(unchanged)
    for c in ds.cases:
        if c.case_id in left_out:
            for rel in (c.image, c.mask):
                if rel:
                    (out / rel).unlink(missing_ok=True)
    ds.cases = [c for c in ds.cases if c.case_id not in left_out]
    for c in ds.cases:
        c.split = "train"
    ds.save()
    return out, unchanged


def fine_tune_on_labels(
    seg: str, spur: str | None, data: Path, work: Path, cfg: AdaptConfig, budget: float,
    log: Callable[[str], None] = print, scans: list[Path] | None = None,
) -> dict:  # fmt: skip
    """Fine-tune ``seg`` (and ``spur``, when the corrected scans have spur points) on ``data`` within ``budget``
    seconds; returns the record: scans, checkpoints, seconds.

    With ``scans`` (the user's scans), the fine-tuned spur model is kept only when the pipeline is as sure of its
    spurs on those not corrected as of the model before's (:func:`antseg.adaptation.spur_guard.judge_on_scans`);
    otherwise ``spurs`` is None (the model before stays) and ``spur_check`` says why.
    """
    from antseg.training import TrainConfig, train_segmentation
    from antseg.training.spurs import SpurConfig, train_spurs

    t0 = time.monotonic()
    ds = load_dataset(data)
    if not ds.cases:
        raise AntsegInputError(data, "no corrected scans in the labels")
    points = sum(v is not None for c in ds.cases for v in c.landmarks.values())
    share = SEG_SHARE if spur and points else 1.0  # no spur to fine-tune: the segmentation has it all
    tcfg = TrainConfig(init=str(seg), epochs=200, seed=cfg.seed, threads=cfg.threads, device=cfg.device,
                       time_budget_s=train_budget(share * budget), val_every=5)  # fmt: skip
    res = train_segmentation(data, work / "seg", tcfg, log=lambda s: None)
    record = {"scans": len(ds.cases), "segmentation": str(work / "seg" / runs.BEST), "spurs": None}
    log(f"corrected scans: segmentation fine-tuned on {len(ds.cases)} for {res.epochs_done} epoch(s)")
    if spur and points:
        others, before, check_s = _check_scans(scans or [], ds), None, 0.0
        if others:  # the model before, with the fine-tuned segmentation; its time is kept for the candidate's check
            c0 = time.monotonic()
            before = count_doubts(record["segmentation"], spur, others, cfg.spacing, cfg.device)
            check_s = time.monotonic() - c0
        left = budget - (time.monotonic() - t0) - check_s
        # Both stages at the fine-tuning rate: at training's own rate, one corrected scan taught stage 1 where that
        # scan's spurs lie rather than what a spur looks like.
        scfg = TrainConfig(init=str(spur), epochs=60, lr=cfg.lr, seed=cfg.seed, threads=cfg.threads,
                           device=cfg.device, time_budget_s=train_budget(left))  # fmt: skip
        # Both stages, however few the scans: the refiner alone (SpurConfig.freeze_stage1) was better on its own
        # but its models failed the check below more often, and the result was worse (docs/results/adaptation.md).
        scon = SpurConfig(refine_steps=400, refine_lr=cfg.lr)
        record["spurs"] = str(train_spurs(data, work / "spur", scfg, scon, log=lambda s: None)["checkpoint"])
        log(f"corrected scans: spur model fine-tuned on {points} spur point(s)")
        if before is not None:
            after = count_doubts(record["segmentation"], record["spurs"], others, cfg.spacing, cfg.device)
            keep, why = judge_on_scans(before, after)
            record["spur_check"] = {"kept": keep, "why": why, "scans": len(others), "before": before.as_record(),
                                    "after": after.as_record()}  # fmt: skip
            if not keep:
                record["spurs"] = None
                log(f"corrected scans: the fine-tuned spur model is not kept ({why}); the spur model from before "
                    "stays: correct another scan or two")  # fmt: skip
    elif spur:
        log("corrected scans: no spur points, the spur model is not fine-tuned")
    record["seconds"] = time.monotonic() - t0
    return record


def _check_scans(scans: list[Path], corrected) -> list[Path]:
    """Up to :data:`CHECK_SCANS` of the user's scans that were not corrected, spread over the series."""
    names = {Path(c.image).stem for c in corrected.cases} | {c.case_id for c in corrected.cases}
    return spread([f for f in scans if f.stem not in names], CHECK_SCANS)
