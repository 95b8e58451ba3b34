"""Whether the self-training rounds left the segmentation at least as consistent on the user's scans as before.

The rounds teach the model its own trusted masks; nothing else of the user's scans confirms what they changed. The
label-free evidence is the quality checks: after the last round, the adapted model labels the first
:data:`CHECK_SCANS` scans round 1 labelled (the same scans, in a seeded random order, so a sample of the whole
series), and it is kept when it passes the checks on at least as many of them as the model before the rounds did
(round 1's verdicts on them). Otherwise the model from before the rounds is installed. Either way the two counts
are what the adaptation measured on the user's scans: they go into the record, the log and the installed model's
description, which every report made with it prints.

Rounds that learnt the device's look alone are judged by :mod:`antseg.adaptation.look_check` instead (a stricter
rule: they had no pseudo-labels at all).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from antseg.adaptation.config import AdaptConfig
from antseg.adaptation.pseudo import pseudo_label
from antseg.scan.config import ScanConfig
from antseg.scan.pipeline import ScanPipeline

#: At most this many of the user's scans are labelled again to check the adapted model (about as many seconds
#: as a round's labelling of that many scans, reserved inside the budget).
CHECK_SCANS = 12


@dataclass
class RoundsCheck:
    """The verdict on the rounds of an adaptation.

    Attributes:
        kept: the model the rounds made is kept.
        first_round: always 1: every round is judged together (the model from before them is the alternative).
        before: (scans passing the checks, scans checked) with the model before the rounds (round 1's labelling).
        after: the same scans with the model the rounds made.
        why: one sentence for the log, the record and the installed model's description.
    """

    kept: bool
    before: tuple[int, int]
    after: tuple[int, int]
    why: str
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


def judge_rounds(before: tuple[int, int], after: tuple[int, int]) -> RoundsCheck:
    """The verdict from (passing, checked) with the model before the rounds and with the one they made, on the
    same scans: kept when no fewer pass."""
    now, then = f"{after[0]} of {after[1]}", f"{before[0]} of {before[1]}"
    if after[0] >= before[0]:
        said = f"{now} of these scans pass the quality checks ({then} before adaptation)"
        return RoundsCheck(True, before, after, said)
    why = (f"the rounds left the model less consistent on these scans: {now} pass the quality checks, {then} before "
           "adaptation; the model from before them is kept")  # fmt: skip
    return RoundsCheck(False, before, after, why)


def check_rounds(seg: str, order: list[str], first: dict, work: Path, cfg: AdaptConfig) -> RoundsCheck | None:
    """Label the scans :func:`scans_to_check` picks with the model ``seg`` the rounds made (pseudo-labels written
    to ``work``) and judge it against round 1's verdicts (``first``: round 1's record; ``order``: the scans in
    the order round 1 labelled them). None when round 1's record cannot say."""
    todo = scans_to_check(order, first)
    if not todo:
        return None
    pipe = ScanPipeline(seg, None, ScanConfig(spacing=cfg.spacing), cfg.device)
    made = pseudo_label(pipe, [Path(p) for p, _ in todo], work, cfg.spur_mirror_mm)
    return judge_rounds((sum(ok for _, ok in todo), len(todo)), (sum(p.accepted for p in made), len(made)))
