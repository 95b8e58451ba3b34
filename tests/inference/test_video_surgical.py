"""A surgical model's whole video: the limbus checks, the clinical columns, the miosis alert, the pupil plot,
the whole video's verdict and the smaller overlay, with a stand-in network whose output is known exactly."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from tests.inference.videos import decode_frames, write_index_video

from antseg.evaluation.video import read_frames_csv
from antseg.inference.video_stream import VideoOptions, predict_video
from antseg.models.checkpoint import CheckpointMeta

N = 40
LIMBUS_R = 30.0  # canvas px (the 256x192 frames are twice the 128x96 canvas)


class DiscNet:
    """Logits of a limbus disc and a pupil disc in the canvas, frame after frame: the pupil shrinks by 30 % from
    frame 10, and frames 30-33 show nothing."""

    name, size_multiple = "stand-in", 16

    def __init__(self, source: Path) -> None:
        self.meta = CheckpointMeta(structures=["cornea", "pupil", "instrument"], input_size=[96, 128], in_channels=3,
                                   modality="surgical")  # fmt: skip
        self.source = source
        self.calls = 0

    def __call__(self, batch: np.ndarray) -> np.ndarray:
        b, _, h, w = batch.shape
        out = np.full((b, 3, h, w), -8.0, np.float32)
        for i in range(b):
            k = self.calls
            self.calls += 1
            if 30 <= k < 34:
                continue
            yy, xx = np.mgrid[0:h, 0:w]
            d = np.hypot(xx + 0.5 - 64, yy + 0.5 - 48)
            pupil_r = 18.0 if k < 10 else 12.6
            out[i, 0] = np.clip((LIMBUS_R - d) * 4, -8, 8)
            out[i, 1] = np.clip((pupil_r - np.hypot(xx + 0.5 - 66, yy + 0.5 - 48)) * 4, -8, 8)
        return out


@pytest.fixture
def video(tmp_path) -> Path:
    return write_index_video(tmp_path / "v.mp4", N, size=(256, 192), fps=10, codec="mpeg4")


def test_clinical_columns_not_found_frames_and_the_pupil_plot(video, tmp_path):
    out = tmp_path / "o"
    lines = []
    r = predict_video("unused", video, out, VideoOptions(overlay_scale=0.5), backend=DiscNet(video), log=lines.append)
    rows = read_frames_csv(out / "frames.csv")
    assert len(rows) == N == r.frames
    ok = [row for row in rows if row["status"] == "ok"]
    lost = [row for row in rows if row["status"] == "not_found"]
    assert [int(row["frame"]) for row in lost] == [30, 31, 32, 33]
    assert lost[0]["reason"] == "no limbus-like region" and lost[0]["cornea_present"] == "0"
    assert lost[0]["pupil_diameter_mm"] == "" and lost[0]["cornea_area_px"] == ""
    first = ok[0]
    assert float(first["limbus_major_px"]) == pytest.approx(2 * 2 * LIMBUS_R, rel=0.02)
    assert float(first["limbus_cx"]) == pytest.approx(128, abs=1)
    assert first["scale_source"] == "limbus = 11.7 mm white-to-white"
    assert float(first["pupil_diameter_mm"]) == pytest.approx(11.7 * 18 / LIMBUS_R, rel=0.03)
    assert float(first["centration_dx_mm"]) == pytest.approx(2 * 2 * 11.7 / (4 * LIMBUS_R), rel=0.15)
    late = next(row for row in rows if row["frame"] == "25")
    assert float(late["pupil_diameter_mm"]) == pytest.approx(11.7 * 12.6 / LIMBUS_R, rel=0.03)
    assert float(late["pupil_drop_pct"]) == pytest.approx(30, abs=2) and late["miosis"] == "1"
    assert rows[5]["miosis"] == "0"
    summary = json.loads((out / "summary.json").read_text())
    s = summary["surgical"]
    assert s["limbus_found"] == N - 4 and s["not_found_reasons"] == {"no limbus-like region": 4}
    (alert,) = s["miosis_alerts"]
    assert 1.0 < alert["start_s"] < 1.8 and alert["drop_pct"] == pytest.approx(30, abs=2)
    assert s["confidence"]["calibrated"] is False
    assert [w.split(",")[0] for w in s["warnings"]] == ["the video is grey"]  # black and white test frames
    assert lines == [f"warning: {s['warnings'][0]}"]
    plot = cv2.imread(str(out / "pupil_diameter.png"))
    assert plot is not None and plot.shape[1] == 1000
    frames = decode_frames(out / "overlay.mp4")
    assert frames[0].shape[:2] == (96, 128)  # half size


def test_a_video_without_a_limbus_is_flagged(video, tmp_path):
    class Blank(DiscNet):
        def __call__(self, batch):
            return np.full((len(batch), 3, *batch.shape[2:]), -8.0, np.float32)

    lines = []
    opt = VideoOptions(masks="none")
    r = predict_video("unused", video, tmp_path / "o", opt, backend=Blank(video), log=lines.append)
    assert r.surgical["limbus_found"] == 0 and r.surgical["pupil_diameter_mm"] is None
    assert any("found in only 0%" in w for w in r.warnings) and lines and lines[0].startswith("warning:")
    rows = read_frames_csv(tmp_path / "o" / "frames.csv")
    assert {row["status"] for row in rows} == {"not_found"}
