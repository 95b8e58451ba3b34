"""Whether rounds that learnt the device's look alone made the models consistent on the user's scans.

A round learns the look alone when too few scans pass the quality checks to give pseudo-labels
(:mod:`antseg.adaptation.run`): phantom scans in the grey levels of the user's scans then teach the model, with the
phantom's way of drawing each structure. Nothing of the user's scans confirms such a change, and it can take a
structure away (measured on a second device: iris Dice 0.75 -> 0.65, its area to 0.74 of the labels'). The only
label-free evidence is the checks themselves: the change is kept when the adapted model passes them on at least
``min_accepted`` scans and on a larger share of the scans than the model before those rounds did; otherwise the
model from before them is kept, and the record and the installed model say why.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from antseg.adaptation.config import AdaptConfig
from antseg.adaptation.pseudo import pseudo_label
from antseg.scan.config import ScanConfig
from antseg.scan.pipeline import ScanPipeline


@dataclass
class LookCheck:
    """The verdict on the look-alone rounds that ended an adaptation.

    Attributes:
        kept: the model they made is kept.
        first_round: the first of those rounds (1-based); the rounds before it were taught by pseudo-labels.
        before: (scans passing the checks, scans checked) with the model before those rounds.
        after: the same with the model they made.
        why: one sentence for the log, the record and the installed model's description.
    """

    kept: bool
    first_round: int
    before: tuple[int, int]
    after: tuple[int, int]
    why: str

    def as_record(self) -> dict:
        return asdict(self)


def look_alone_start(rounds: list[dict]) -> int | None:
    """Index of the first of the look-alone rounds that end ``rounds`` (None: the last round had pseudo-labels)."""
    if not rounds or not rounds[-1].get("look_alone"):
        return None
    j = len(rounds) - 1
    while j > 0 and rounds[j - 1].get("look_alone"):
        j -= 1
    return j


def judge_look_rounds(first: dict, after: tuple[int, int], min_accepted: int) -> LookCheck:
    """The verdict, from the first look-alone round's record (its scans were checked with the model before it)
    and the checks of the model the rounds made on the user's scans, ``after`` = (passing, checked)."""
    before = (int(first["accepted"]), int(first["scans"]))

    def share(n: tuple[int, int]) -> float:
        return n[0] / max(n[1], 1)

    kept = after[0] >= min_accepted and share(after) > share(before)
    said = f"{before[0]} of {before[1]} scans passed the checks before, {after[0]} of {after[1]} after"
    if kept:
        why = f"learning the device's look made the models consistent on these scans ({said})"
    else:
        why = (f"learning the device's look alone did not make the models consistent on these scans ({said}): "
               "the model from before is kept")  # fmt: skip
    return LookCheck(kept, int(first["round"]), before, after, why)


def check_look_rounds(j: int, seg: str, order: list[str], rounds: list[dict], work: Path, cfg: AdaptConfig,
                      t0: float) -> LookCheck:  # fmt: skip
    """The verdict on the look-alone rounds from round ``j`` on (0-based) that made the model ``seg``: a last
    round that stopped untrained has checked that model already; otherwise the scans (``order``) are labelled with
    it now (pseudo-labels written to ``work``), until the adaptation's budget from ``t0`` is spent."""
    last = rounds[-1]
    if not last.get("trained", True):
        after = (int(last["accepted"]), int(last["scans"]))
    else:
        pipe = ScanPipeline(seg, None, ScanConfig(spacing=cfg.spacing), cfg.device)
        made = pseudo_label(pipe, [Path(p) for p in order], work, cfg.spur_mirror_mm, deadline=t0 + cfg.limit_s)
        after = (sum(p.accepted for p in made), len(made))
    return judge_look_rounds(rounds[j], after, cfg.min_accepted)
