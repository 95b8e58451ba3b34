"""The verdict on an adaptation's rounds: which scans are checked again, and when the adapted model is kept."""

from __future__ import annotations

from antseg.adaptation.rounds_check import CHECK_SCANS, judge_rounds, scans_to_check


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
    assert same.kept and same.first_round == 1
    assert same.why == "5 of 8 of these scans pass the quality checks (5 of 8 before adaptation)"
    assert judge_rounds((5, 8), (7, 8)).kept
    worse = judge_rounds((6, 12), (4, 12))
    assert not worse.kept
    assert worse.why == (
        "the rounds left the model less consistent on these scans: 4 of 12 pass the quality checks, 6 of 12 before "
        "adaptation; the model from before them is kept"
    )
    assert worse.as_record() == {"kept": False, "before": (6, 12), "after": (4, 12), "why": worse.why,
                                 "first_round": 1}  # fmt: skip
