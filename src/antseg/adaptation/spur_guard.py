"""A spur model fine-tuned on pseudo-labels is kept only when it does not move the spurs it should know.

Self-training a spur model on the few spurs a round trusts can make a few spurs go far off (measured on a phantom
device shift: 10.8 px mean for the shipped model, 77 px after one adapted round). So a candidate is compared with
the model it would replace on scans it was not trained on: the phantom's validation scans (exact spurs) and the
user's held-out scans whose spurs the checks trusted (the pipeline's spurs, confirmed on the mirrored scan). It is
kept only when it is no worse on the first and stays on the second.

A spur model fine-tuned on one to three corrected scans has no held-out spur to be checked on, so it is compared
with the model before on the user's other scans, with the quality checks of the pipeline
(:func:`judge_on_scans`): measured on the development eye, one corrected scan could teach the model where that
scan's spurs lie, and the spurs of the other scans went far off while the masks improved.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antseg.anatomy import side_of
from antseg.data.canonical import load_dataset
from antseg.io.images import read_image

#: At most this many of the user's scans are run again by a check of an adapted model (here: each twice, to
#: compare two spur models; :mod:`antseg.adaptation.rounds_check`: once, with the rounds' segmentation).
CHECK_SCANS = 12

#: A candidate may be this much worse on the phantom's validation spurs (mean px) before it is refused: the
#: refinement's own jitter between two good models.
PHANTOM_SLACK = 1.15
PHANTOM_SLACK_PX = 1.0


@dataclass
class SpurVerdict:
    """The guard's decision on a fine-tuned spur model, with what it measured."""

    keep: bool
    why: str
    phantom_px: tuple[float, float]  # mean error, (current model, candidate), on the phantom's validation scans
    held_out_mm: float  # the candidate's largest distance to a trusted held-out spur
    held_out_n: int


def spur_distances(weights: str | Path, root: Path, case_ids: list[str], device: str = "cpu") -> list[float]:
    """Pixel distances between a spur model's predictions and the spurs of ``case_ids`` in dataset ``root``
    (a spur the model misses counts as infinitely far; an unknown true spur is skipped)."""
    from antseg.inference.spurs import SpurPredictor

    pred, ds, out = SpurPredictor(weights, device), load_dataset(root), []
    for cid in case_ids:
        c = ds.case(cid)
        got = pred.predict(read_image(root / c.image))
        for n, truth in c.landmarks.items():
            if truth is None or n not in got:
                continue
            p = got[n]
            out.append(math.inf if p["x"] is None else math.hypot(p["x"] - truth[0], p["y"] - truth[1]))
    return out


def judge_spur_round(current: str | Path, candidate: str | Path, data: Path, spacing: tuple[float, float] | None,
                     limit_mm: float, device: str = "cpu") -> SpurVerdict:  # fmt: skip
    """Keep ``candidate`` or not, on the validation cases of the merged spur dataset ``data``.

    Args:
        current: the spur model the candidate would replace.
        candidate: the fine-tuned spur model.
        data: the dataset it was fine-tuned on (:func:`antseg.adaptation.pseudo.merge`): its ``val`` cases of
            group ``phantom`` have exact spurs, those of group ``unlabelled`` trusted pseudo-spurs.
        spacing: mm per pixel of the user's scans (None: distances on them are judged at 0.015 mm per pixel).
        limit_mm: the candidate must stay within this distance of every trusted held-out spur.
    """
    ds = load_dataset(data)
    val = [c for c in ds.cases if c.split == "val"]
    phantom = [c.case_id for c in val if c.group == "phantom"]
    users = [c.case_id for c in val if c.group != "phantom"]
    before = float(np.mean(spur_distances(current, data, phantom, device))) if phantom else math.nan
    after = float(np.mean(spur_distances(candidate, data, phantom, device))) if phantom else math.nan
    mm = float(np.mean(spacing)) if spacing else 0.015
    held = spur_distances(candidate, data, users, device)
    worst = max(held) * mm if held else math.nan
    verdict = SpurVerdict(True, "", (before, after), worst, len(held))
    if not held:
        verdict.keep, verdict.why = False, "no held-out scan with trusted spurs to check it on"
    elif math.isfinite(before) and not after <= PHANTOM_SLACK * before + PHANTOM_SLACK_PX:
        verdict.keep, verdict.why = False, f"worse on the phantom's validation spurs ({before:.1f} -> {after:.1f} px)"
    elif not worst <= limit_mm:
        verdict.keep, verdict.why = False, (f"moved a trusted held-out spur by {worst:.2f} mm (limit {limit_mm:g})")
    return verdict


@dataclass
class SpurDoubts:
    """How sure the pipeline is of a spur model's spurs on a set of scans."""

    spurs: int  # spurs looked for (two per scan)
    unsure: int  # not found, or found with a doubt (low confidence, moved, off the wall, not at an angle, mirror)
    astray: int  # off the angle wall or not at an angle: a spur somewhere else in the scan

    def as_record(self) -> dict:
        return {"spurs": self.spurs, "unsure": self.unsure, "astray": self.astray}


def count_doubts(seg: str | Path, spur: str | Path, scans: list[Path], spacing: tuple[float, float] | None,
                 device: str = "cpu") -> SpurDoubts:  # fmt: skip
    """Run the pipeline (``seg`` with ``spur``) on ``scans`` and count the spurs its checks doubt."""
    from antseg.scan.config import QualityLimits, ScanConfig
    from antseg.scan.pipeline import ScanPipeline
    from antseg.scan.quality import spur_astray, spur_doubts

    limits = QualityLimits()
    pipe = ScanPipeline(seg, spur, ScanConfig(spacing=spacing, limits=limits), device)
    total = unsure = astray = 0
    for f in scans:
        res = pipe.run(read_image(f), f.stem)
        for name, p in res.spurs.items():
            total += 1
            astray += spur_astray(p, limits)
            unsure += not p.get("visible") or bool(spur_doubts(p, side_of(name) or name, limits))
    return SpurDoubts(total, unsure, astray)


def judge_on_scans(before: SpurDoubts, after: SpurDoubts) -> tuple[bool, str]:
    """(keep, why) for a spur model fine-tuned on corrected scans: kept when, on the user's other scans, the
    pipeline doubts no more of its spurs than of the model before, and finds none more of them astray."""
    counts = f"{after.unsure} of {after.spurs} spurs unsure ({after.astray} astray) against {before.unsure} " \
             f"({before.astray}) with the model before"  # fmt: skip
    if after.astray > before.astray or after.unsure > before.unsure:
        return False, f"less consistent on your other scans: {counts}"
    return True, f"as consistent or more on your other scans: {counts}"
