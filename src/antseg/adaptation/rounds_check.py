"""Whether the self-training rounds left the segmentation at least as good on the user's scans as before.

The rounds teach the model its own trusted masks; nothing else of the user's scans confirms what they changed. The
label-free evidence is the quality checks: after the last round, the adapted model labels the first
:data:`CHECK_SCANS` scans round 1 labelled (the same scans, in a seeded random order, so a sample of the whole
series), and it is kept only when it passes the checks on at least as many of them as the model before the rounds
did (round 1's verdicts on them). Passing the checks means consistent masks, not masks drawn the way the user
draws them: with corrected scans, the rounds must also not lower the Dice of any structure they label by more than
:data:`MAX_CORRECTED_DROP` (measured: rounds after one corrected scan made every scan of a device pass and took its
iris down by 0.10). Otherwise the model from before the rounds is installed. Either way the counts are what the
adaptation measured: they go into the record, the log and the installed model's description, which every report
made with it prints.

Rounds that learnt the device's look alone are judged by :mod:`antseg.adaptation.look_check` instead (a stricter
rule: they had no pseudo-labels at all).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from antseg.adaptation.config import AdaptConfig
from antseg.adaptation.pseudo import pseudo_label
from antseg.adaptation.spur_guard import CHECK_SCANS
from antseg.data.canonical import load_dataset
from antseg.metrics.segmentation import dice_iou
from antseg.scan.config import ScanConfig
from antseg.scan.pipeline import ScanPipeline

#: With corrected scans, the rounds may lower a structure's mean Dice on them by at most this much.
MAX_CORRECTED_DROP = 0.02


@dataclass
class RoundsCheck:
    """The verdict on the rounds of an adaptation.

    Attributes:
        kept: the model the rounds made is kept.
        before: (scans passing the checks, scans checked) with the model before the rounds (round 1's labelling).
        after: the same scans with the model the rounds made.
        why: one sentence for the log, the record and the installed model's description.
        corrected: with corrected scans, structure -> [mean Dice on them before the rounds, after].
        first_round: always 1: every round is judged together (the model from before them is the alternative).
    """

    kept: bool
    before: tuple[int, int]
    after: tuple[int, int]
    why: str
    corrected: dict[str, list[float]] = field(default_factory=dict)
    first_round: int = 1

    def as_record(self) -> dict:
        return asdict(self)


def scans_to_check(order: list[str], first: dict, n: int = CHECK_SCANS) -> list[tuple[str, bool]] | None:
    """The scans to check again and whether each passed round 1: the first ``n`` of round 1's ``order`` (file
    paths, as round 1 labelled them). None when round 1's record does not say which scans passed (a run started by
    an older antseg) or labelled none."""
    passed = first.get("accepted_scans")
    if passed is None or not first.get("scans"):
        return None
    passed = set(passed)
    return [(p, p in passed) for p in order[: min(n, int(first["scans"]))]]


def judge_rounds(
    before: tuple[int, int], after: tuple[int, int], corrected: dict[str, tuple[float, float]] | None = None
) -> RoundsCheck:
    """The verdict from (passing, checked) with the model before the rounds and with the one they made, on the
    same scans, and (with corrected scans) each structure's mean Dice on them before and after: kept when no fewer
    scans pass and no structure loses more than :data:`MAX_CORRECTED_DROP`."""
    corrected = corrected or {}
    now, then = f"{after[0]} of {after[1]}", f"{before[0]} of {before[1]}"
    said = f"{now} of the scans it was adapted to pass the quality checks ({then} before adaptation)"
    record = {s: [round(b, 4), round(a, 4)] for s, (b, a) in corrected.items()}
    if after[0] < before[0]:
        why = (f"the rounds left the model less consistent on the scans it was adapted to ({now} pass the quality "
               f"checks, {then} before): the model from before them is kept")  # fmt: skip
        return RoundsCheck(False, before, after, why, record)
    if corrected:
        worst = max(corrected, key=lambda s: corrected[s][0] - corrected[s][1])
        b, a = corrected[worst]
        if b - a > MAX_CORRECTED_DROP:
            name = worst.replace("_", " ")
            why = (f"the rounds took the {name} on the corrected scans from {b:.3f} to {a:.3f} Dice, while {said}: "
                   "the model from before them is kept")  # fmt: skip
            return RoundsCheck(False, before, after, why, record)
        said += f"; on the corrected scans no structure lost more than {MAX_CORRECTED_DROP:g} Dice"
    return RoundsCheck(True, before, after, said, record)


def dice_on_corrected(seg: str, data: Path, cfg: AdaptConfig) -> dict[str, float]:
    """Mean Dice of each structure the corrected scans in ``data`` label, as the per-scan pipeline segments them
    with the model ``seg`` (mirror pass and repairs: what the user gets)."""
    ds = load_dataset(data)
    pipe = ScanPipeline(seg, None, ScanConfig(spacing=cfg.spacing), cfg.device)
    common = [s for s in pipe.structures if s in ds.structures]
    scores: dict[str, list[float]] = {s: [] for s in common}
    for c in ds.cases:
        if not c.mask:
            continue
        res, truth = pipe.run(ds.load_image(c), c.case_id), ds.load_masks(c)
        for s in common:
            scores[s].append(dice_iou(res.masks[res.structures.index(s)], truth[ds.structures.index(s)])[0])
    return {s: float(np.mean(v)) for s, v in scores.items() if v}


def check_rounds(
    seg: str, order: list[str], first: dict, work: Path, cfg: AdaptConfig, corrected: tuple[str, Path] | None = None
) -> RoundsCheck | None:
    """Label the scans :func:`scans_to_check` picks with the model ``seg`` the rounds made (pseudo-labels written
    to ``work``) and judge it against round 1's verdicts (``first``: round 1's record; ``order``: the scans in
    the order round 1 labelled them); ``corrected``: (the model before the rounds, the corrected scans' dataset),
    both models are then compared on them. None when round 1's record cannot say."""
    todo = scans_to_check(order, first)
    if not todo:
        return None
    pipe = ScanPipeline(seg, None, ScanConfig(spacing=cfg.spacing), cfg.device)
    made = pseudo_label(pipe, [Path(p) for p, _ in todo], work, cfg.spur_mirror_mm)
    dice = None
    if corrected is not None:
        start, data = corrected
        old, new = dice_on_corrected(start, data, cfg), dice_on_corrected(seg, data, cfg)
        dice = {s: (old[s], new[s]) for s in old if s in new}
    return judge_rounds((sum(ok for _, ok in todo), len(todo)), (sum(p.accepted for p in made), len(made)), dice)
