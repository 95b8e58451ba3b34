"""The verdict on look-alone rounds: exact decisions on hand-made round records."""

from __future__ import annotations

from antseg.adaptation.look_check import judge_look_rounds, look_alone_start


def _round(k: int, accepted: int, scans: int = 10, look_alone: bool = False) -> dict:
    return {"round": k, "accepted": accepted, "scans": scans, "look_alone": look_alone}


def test_the_look_alone_rounds_that_end_an_adaptation():
    assert look_alone_start([]) is None
    assert look_alone_start([_round(1, 5), _round(2, 6)]) is None  # taught by pseudo-labels
    assert look_alone_start([_round(1, 0, look_alone=True), _round(2, 0, look_alone=True)]) == 0
    assert look_alone_start([_round(1, 5), _round(2, 1, look_alone=True)]) == 1
    assert look_alone_start([_round(1, 0, look_alone=True), _round(2, 5), _round(3, 2, look_alone=True)]) == 2


def test_kept_only_when_enough_scans_and_a_larger_share_pass():
    first = _round(1, 1, 10, look_alone=True)
    kept = judge_look_rounds(first, (4, 10), min_accepted=3)
    assert kept.kept and kept.before == (1, 10) and kept.after == (4, 10) and kept.first_round == 1
    assert kept.why.startswith("learning the device's look made the models consistent")
    assert "1 of 10 scans passed the checks before, 4 of 10 after" in kept.why
    assert not judge_look_rounds(first, (2, 10), min_accepted=3).kept  # more, but fewer than min_accepted
    assert not judge_look_rounds(_round(1, 2, 4, look_alone=True), (3, 8), min_accepted=3).kept  # 50 % -> 37 %
    refused = judge_look_rounds(_round(1, 0, 5, look_alone=True), (0, 5), min_accepted=3)
    assert not refused.kept and refused.why.endswith("the model from before is kept")
    assert refused.as_record() == {"kept": False, "first_round": 1, "before": (0, 5), "after": (0, 5),
                                   "why": refused.why}  # fmt: skip
