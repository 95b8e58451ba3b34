"""Video: the frame on screen at a timestamp, and prediction on it through the CLI."""

from __future__ import annotations

import numpy as np
import pytest

from antseg.errors import AntsegInputError
from antseg.inference import read_frame_at


def _make_video(path, fps=10, n=20, size=(64, 48)):
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = size[0], size[1], "yuv420p"
        s.codec_context.qmin, s.codec_context.qmax = 1, 2
        for k in range(n):
            frame = np.full((size[1], size[0], 3), 10 * k + 5, np.uint8)
            for pkt in s.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)


def test_frame_at_timestamp_is_the_frame_on_screen(tmp_path):
    v = tmp_path / "v.mp4"
    _make_video(v)
    for t, k in ((0.0, 0), (0.25, 2), (0.299, 2), (0.3, 3), (1.95, 19)):
        assert abs(read_frame_at(v, t).mean() - (10 * k + 5)) < 3, (t, k)
    with pytest.raises(AntsegInputError, match="past the end"):
        read_frame_at(v, 2.5)
    (tmp_path / "x.mp4").write_text("not a video")
    with pytest.raises(AntsegInputError, match="not a readable video"):
        read_frame_at(tmp_path / "x.mp4", 0.0)


def test_predict_video_at_timestamp(tmp_path, cli):
    from tests.inference.videos import tiny_cornea

    model = tiny_cornea(tmp_path / "cornea.pt")  # a surgical-video model: an AS-OCT one is refused on video
    v = tmp_path / "v.mp4"
    _make_video(v, size=(128, 96))
    r = cli("predict", model, v, "--timestamp", "0.5", "--out", tmp_path / "o", "--device", "cpu")
    assert r.code == 0, r.err
    for f in ("original.png", "cornea.png", "overlay.png", "areas.csv"):
        assert (tmp_path / "o" / f).is_file()
    r = cli("predict", model, v, "--timestamp", "9", "--out", tmp_path / "o2")
    assert r.code == 2 and "past the end" in r.err and not (tmp_path / "o2").exists()
    r = cli("predict", model, v, "--out", tmp_path / "o3", "--device", "cpu")  # no --timestamp: the whole video
    assert r.code == 0 and (tmp_path / "o3" / "frames.csv").is_file(), r.err
