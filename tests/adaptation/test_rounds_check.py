"""The verdict on an adaptation's rounds: which scans are checked again, and when the adapted model is kept."""

from __future__ import annotations

import pytest

from antseg.adaptation.rounds_check import CHECK_SCANS, MAX_CORRECTED_DROP, judge_rounds, scans_to_check


def test_the_scans_checked_are_round_ones_first_with_their_verdicts():
    order = [f"/s/{k}.png" for k in range(20)]
    first = {"scans": 15, "accepted_scans": ["/s/0.png", "/s/3.png", "/s/13.png", "/s/14.png"]}
    todo = scans_to_check(order, first)
    assert len(todo) == CHECK_SCANS == 12
    assert [p for p, _ in todo] == order[:12]
    assert [p for p, ok in todo if ok] == ["/s/0.png", "/s/3.png"]  # 13 and 14 passed but lie past the 12
    assert scans_to_check(order, {"scans": 5, "accepted_scans": []}) == [(p, False) for p in order[:5]]


def test_no_check_without_round_ones_verdicts():
    order = ["/s/a.png", "/s/b.png"]
    assert scans_to_check(order, {"scans": 2, "accepted": 1}) is None  # a record from before the check
    assert scans_to_check(order, {"scans": 0, "accepted_scans": []}) is None


def test_the_rounds_are_kept_when_no_fewer_scans_pass():
    same = judge_rounds((5, 8), (5, 8))
    assert same.kept and same.first_round == 1 and same.corrected == {}
    assert same.why == "5 of 8 of the scans it was adapted to pass the quality checks (5 of 8 before adaptation)"
    assert judge_rounds((5, 8), (7, 8)).kept
    worse = judge_rounds((6, 12), (4, 12))
    assert not worse.kept
    assert worse.why == (
        "the rounds left the model less consistent on the scans it was adapted to (4 of 12 pass the quality checks, "
        "6 of 12 before): the model from before them is kept"
    )
    assert worse.as_record() == {"kept": False, "before": (6, 12), "after": (4, 12), "why": worse.why,
                                 "corrected": {}, "first_round": 1}  # fmt: skip


def test_with_corrected_scans_no_structure_may_lose_more_than_the_limit():
    assert MAX_CORRECTED_DROP == pytest.approx(0.02)
    ok = judge_rounds((4, 5), (5, 5), {"cornea": (0.95, 0.94), "left_iris": (0.93, 0.911)})
    assert ok.kept and ok.corrected == {"cornea": [0.95, 0.94], "left_iris": [0.93, 0.911]}
    assert ok.why.endswith("; on the corrected scans no structure lost more than 0.02 Dice")
    drift = judge_rounds((4, 5), (5, 5), {"cornea": (0.95, 0.94), "right_iris": (0.93, 0.82)})
    assert not drift.kept  # more scans pass, yet the iris is drawn away from the user's
    assert drift.why == (
        "the rounds took the right iris on the corrected scans from 0.930 to 0.820 Dice, while 5 of 5 of the scans "
        "it was adapted to pass the quality checks (4 of 5 before adaptation): the model from before them is kept"
    )
    assert not judge_rounds((5, 5), (4, 5), {"cornea": (0.9, 0.95)}).kept  # fewer pass: not kept either way
