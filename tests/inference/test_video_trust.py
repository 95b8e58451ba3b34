"""Trust on surgical video, on hand-made masks: the limbus checks (shape, size, frame, confidence, jumps and
re-acquisition), the calibration, the clinical measures (scale, pupil, centration, miosis alerts) and the
whole video's verdict."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from antseg.inference.video_clinical import ClinicalConfig, PupilMonitor, frame_scale, pupil_problem
from antseg.inference.video_measures import Ellipse, measure_mask
from antseg.inference.video_trust import Calibration, LimbusTracker, VerdictConfig, ellipse_shape, video_verdict

H, W = 240, 320


def disc(cx=160.0, cy=120.0, r=60.0, ry=None) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    cv2.ellipse(m, ((cx, cy), (2 * r, 2 * (ry or r)), 0), 1, -1)
    return m


def _cross() -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[105:135, 100:220] = 1
    m[60:180, 145:175] = 1
    return m


def check(tracker, t, mask, p=0.95):
    return tracker(t, measure_mask(mask, p, convex=True), mask)  # as surgical videos are measured


def test_a_plausible_disc_is_found_and_implausible_ones_are_not():
    tr = LimbusTracker()
    v = check(tr, 0.0, disc())
    assert v.found and v.fit > 0.97 and v.confidence == pytest.approx(0.95 * v.fit)
    cases = {
        "implausible size": disc(r=8),
        "not round enough": disc(r=60, ry=20),
        "not an ellipse": _cross(),
        "mostly outside the frame": disc(cx=-20, cy=120, r=60),
    }
    for reason, m in cases.items():
        v = check(LimbusTracker(), 0.0, m)
        assert not v.found and v.reason.startswith(reason), (reason, v.reason)
    v = check(LimbusTracker(), 0.0, disc(), p=0.08)
    assert not v.found and v.reason.startswith("low confidence")
    assert not check(LimbusTracker(), 0.0, np.zeros((H, W), np.uint8)).found


def test_a_disc_cut_by_the_frame_edge_keeps_its_ellipse():
    m = disc(cx=40, cy=120, r=70)  # 30 px of it beyond the left edge
    for convex in (False, True):
        e = measure_mask(m, 0.9, convex=convex).ellipse
        assert e.cx == pytest.approx(40, abs=1) and e.major == pytest.approx(140, abs=2)
    s = ellipse_shape(m, e)
    assert s.fit_iou > 0.97 and 0.8 < s.visible < 0.95


def test_a_convex_fit_ignores_a_notch_and_a_bump():
    m = disc(r=70, ry=55)
    m[120:180, 150:175] = 0  # an instrument the mask left out
    m[20:70, 100:115] = 1  # a blob it added
    plain, robust = measure_mask(m, 0.9), measure_mask(m, 0.9, convex=True)
    assert robust.ellipse.cx == pytest.approx(160, abs=0.5) and robust.ellipse.cy == pytest.approx(120, abs=0.5)
    assert robust.ellipse.major == pytest.approx(140, abs=1.5) and robust.ellipse.minor == pytest.approx(110, abs=1.5)
    assert abs(plain.ellipse.major - 140) + abs(plain.ellipse.minor - 110) > 3  # what a plain fit makes of it
    assert 0.7 < robust.fit_share < 0.95 and plain.fit_share is None


def test_jumps_are_refused_until_the_new_place_holds():
    tr = LimbusTracker()
    for k in range(5):
        assert check(tr, k * 0.04, disc(cx=160 + k)).found
    far = disc(cx=240)  # 0.6 diameters away from the last frames
    results = [check(tr, 0.2 + k * 0.04, far) for k in range(5)]
    assert [r.found for r in results] == [False] * 4 + [True]
    assert results[0].reason.startswith("jumped")
    assert check(tr, 0.45, disc(cx=241)).found  # the new place is the track now
    tr2 = LimbusTracker()
    assert check(tr2, 0.0, disc(r=60)).found and not check(tr2, 0.04, disc(r=80)).found  # 33 % larger at once
    assert check(tr2, 1.0, disc(r=80)).found  # after the memory's half second, a new start


def test_calibration():
    cal = Calibration(2.0, 4.0, -5.0, "phantom")
    z = 2.0 * math.log(0.9 / 0.1) + 4.0 * 0.95 - 5.0
    assert cal(0.9, 0.95) == pytest.approx(1 / (1 + math.exp(-z)))
    assert Calibration.from_card({"calibration": {"a": 2.0, "b": 4.0, "c": -5.0, "source": "x"}}) == Calibration(
        2.0, 4.0, -5.0, "x"
    )
    assert not Calibration.from_card({}).calibrated and Calibration()(0.8, 0.5) == pytest.approx(0.4)


def test_scale_pupil_and_centration():
    cfg = ClinicalConfig()
    limbus = Ellipse(100, 100, 234, 220, 0)
    assert frame_scale(limbus, None, cfg).mm_per_px == pytest.approx(0.05)  # 11.7 mm over 234 px
    assert frame_scale(limbus, (0.02, 0.02), cfg).source == "spacing"
    assert frame_scale(None, None, cfg).mm_per_px is None
    assert pupil_problem(limbus, Ellipse(105, 100, 140, 138, 0), cfg) == ""
    assert pupil_problem(limbus, Ellipse(100, 100, 230, 230, 0), cfg).startswith("implausible pupil size")
    assert pupil_problem(limbus, Ellipse(170, 100, 100, 100, 0), cfg).startswith("pupil centre")
    assert pupil_problem(limbus, None, cfg) == "no pupil region"


def test_miosis_alert_is_causal_and_timed():
    mon = PupilMonitor(ClinicalConfig(miosis_drop=0.2, miosis_min_s=0.5, median_s=0.2))
    fps = 25
    states = []
    for k in range(4 * fps):
        t = k / fps
        d = 7.0 if t < 2.0 else 5.0  # 29 % smaller from 2 s on
        states.append((t, *mon(t, d)))
    alert_times = [t for t, _, a in states if a]
    assert alert_times and alert_times[0] == pytest.approx(2.0 + 0.1 + 0.5, abs=0.05)  # median lag + min duration
    (a,) = mon.alerts
    assert a.reference_mm == 7.0 and a.smallest_mm == 5.0 and a.drop == pytest.approx(2 / 7)
    assert mon(4.1, None) == (None, True)  # a frame without a pupil keeps the state
    assert mon(4.2, 7.0)[1] is False  # back to the reference: the alert ends


def test_whole_video_verdict():
    cfg = VerdictConfig()
    assert video_verdict([True] * 10, [0.9] * 10, [0.2] * 10, cfg) == []
    w = video_verdict([True] * 3 + [False] * 7, [0.9] * 10, [0.2] * 10, cfg)
    assert len(w) == 1 and "found in only 30%" in w[0]
    assert any("grey" in x for x in video_verdict([False] * 4, [0.0] * 4, [0.0] * 4, cfg))
    assert any("median confidence" in x for x in video_verdict([True] * 4, [0.45] * 4, [0.2] * 4, cfg))
