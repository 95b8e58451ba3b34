"""A spur model fine-tuned on pseudo-labels is kept only when it does not move the spurs it should know.

Self-training a spur model on the few spurs a round trusts can make a few spurs go far off (measured on a phantom
device shift: 10.8 px mean for the shipped model, 77 px after one adapted round). So a candidate is compared with
the model it would replace on scans it was not trained on: the phantom's validation scans (exact spurs) and the
user's held-out scans whose spurs the checks trusted (the pipeline's spurs, confirmed on the mirrored scan). It is
kept only when it is no worse on the first and stays on the second.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antseg.data.canonical import load_dataset
from antseg.io.images import read_image

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
