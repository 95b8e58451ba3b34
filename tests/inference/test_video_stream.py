"""Whole-video prediction: frame order, count and times, ranges, sizes, rotation, bad input, flat memory."""

from __future__ import annotations

import csv
import json
import tracemalloc
from fractions import Fraction

import numpy as np
import pytest
from tests.inference.videos import (
    decode_frames,
    pattern,
    read_pattern,
    source_times,
    tiny_cornea,
    write_index_video,
)

from antseg.errors import AntsegInputError
from antseg.inference.video_reader import VideoReader
from antseg.inference.video_stream import VideoOptions, predict_video


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return tiny_cornea(tmp_path_factory.mktemp("m") / "cornea.pt")


def _rows(out):
    with open(out / "frames.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def _leftovers(parent):
    return [p.name for p in parent.iterdir() if p.name.startswith(".")]


def test_reader_gives_every_frame_in_order_with_source_times(tmp_path):
    """B-frames (decode order differs from display order) and variable frame rate with a late start."""
    v = write_index_video(tmp_path / "b.mp4", 30, codec="libx264", options={"qp": "4", "bf": "3"})
    with VideoReader(v) as r:
        got = [(f.index, read_pattern(f.image), f.time_s) for f in r]
    assert [g[0] for g in got] == list(range(30)) and [g[1] for g in got] == list(range(30))
    assert [g[2] for g in got] == pytest.approx(source_times(v), abs=1e-9)
    assert r.stopped is None
    pts = [500 + p for p in (0, 40, 80, 150, 160, 300, 310, 700, 720, 760)]  # ms: irregular gaps
    v = write_index_video(tmp_path / "vfr.mkv", 10, pts=pts, time_base=Fraction(1, 1000))
    with VideoReader(v, start=0.1, every=2) as r:
        got = [(f.index, read_pattern(f.image), f.time_s) for f in r]
    times = [(p - 500) / 1000 for p in pts]
    assert source_times(v) == pytest.approx(times)
    kept = [k for k in range(10) if times[k] >= 0.1][::2]  # 150, 300, 700, 760 ms
    assert [g[0] for g in got] == kept and [g[1] for g in got] == kept
    assert [g[2] for g in got] == pytest.approx([times[k] for k in kept], abs=1e-9)


def test_whole_video_outputs_match_the_source_frame_for_frame(model, tmp_path, cli):
    v = write_index_video(tmp_path / "v.mp4", 40, size=(160, 120), codec="libx264", options={"qp": "4", "bf": "2"})
    out = tmp_path / "o"
    r = cli("predict", model, v, "--out", out, "--device", "cpu", "--masks", "png")
    assert r.code == 0, r.err
    rows = _rows(out)
    src = source_times(v)
    assert [int(x["frame"]) for x in rows] == list(range(40))
    assert [float(x["time_s"]) for x in rows] == pytest.approx(src, abs=1e-6)
    overlay = decode_frames(out / "overlay.mp4")
    assert [read_pattern(f) for f in overlay] == list(range(40))  # count and order survive the whole pipeline
    assert source_times(out / "overlay.mp4") == pytest.approx(src, abs=1e-6)
    assert len(list((out / "masks" / "cornea").glob("*.png"))) == 40
    doc = json.loads((out / "summary.json").read_text())
    assert doc["complete"] and doc["frames"] == 40 and doc["backend"] == "pytorch"
    for col in ("cornea_present", "cornea_confidence", "cornea_area_px", "cornea_ellipse_angle_deg"):
        assert col in rows[0]
    assert _leftovers(tmp_path) == []


def test_start_end_every_and_mask_video(model, tmp_path):
    v = write_index_video(tmp_path / "v.mp4", 30, fps=10)
    out = tmp_path / "o"
    res = predict_video(model, v, out, VideoOptions(start=0.5, end=2.2, every=3, smooth=True), device="cpu")
    rows = _rows(out)
    shown = [read_pattern(f) for f in decode_frames(out / "overlay.mp4")]
    assert [int(x["frame"]) for x in rows] == [5, 8, 11, 14, 17, 20] == shown
    assert res.frames == 6 and set(res.stage_ms) >= {"decode", "inference", "write"}
    masks = decode_frames(out / "cornea.mkv")
    assert len(masks) == 6 and masks[0].shape == (48, 64, 3)


@pytest.mark.parametrize(
    "size,codec,pix_fmt", [((1920, 1080), "mpeg4", "yuv420p"), ((65, 49), "ffv1", "yuv444p")], ids=["hd", "odd"]
)
def test_any_frame_size(model, tmp_path, size, codec, pix_fmt):
    v = write_index_video(tmp_path / "v.mkv", 3, size=size, codec=codec, pix_fmt=pix_fmt)
    out = tmp_path / "o"
    predict_video(model, v, out, VideoOptions(masks="png", mask_detail=0), device="cpu")
    import cv2

    m = cv2.imread(str(out / "masks" / "cornea" / "000002.png"), cv2.IMREAD_UNCHANGED)
    assert m.shape == (size[1], size[0]) and set(np.unique(m)) <= {0, 255}
    assert [read_pattern(f[: size[1], : size[0]]) for f in decode_frames(out / "overlay.mp4")] == [0, 1, 2]
    if size[0] > 4 * 64:  # by default, masks of a large frame stop at 4x the network's 64x48 input
        predict_video(model, v, tmp_path / "o2", VideoOptions(masks="png"), device="cpu")
        m = cv2.imread(str(tmp_path / "o2" / "masks" / "cornea" / "000002.png"), cv2.IMREAD_UNCHANGED)
        assert m.shape == (144, 256)
        assert [f.shape[:2] for f in decode_frames(tmp_path / "o2" / "overlay.mp4")] == [(1080, 1920)] * 3


def test_display_rotation_is_applied(model, tmp_path):
    v = write_index_video(tmp_path / "phone.mp4", 4, size=(64, 48), rotation=90)
    with VideoReader(v) as r:
        frames = [f.image for f in r]
    assert frames[0].shape == (64, 48, 3)  # upright: 48 wide, 64 tall
    assert read_pattern(np.rot90(frames[3], -1)) == 3
    assert np.abs(frames[3].astype(int) - np.rot90(pattern(3, 64, 48))).mean() < 10
    predict_video(model, v, tmp_path / "o", device="cpu")
    assert decode_frames(tmp_path / "o" / "overlay.mp4")[0].shape == (64, 48, 3)


def _audio_only(path):
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for pkt in s.encode(frame):
            c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)


def _zero_length(path):
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("mpeg4", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        c.start_encoding()


def test_bad_videos_are_one_line_errors_and_write_nothing(model, tmp_path, cli):
    good = write_index_video(tmp_path / "good.mp4", 10)
    (tmp_path / "corrupt.mp4").write_bytes(np.random.default_rng(0).bytes(5000))
    _audio_only(tmp_path / "audio.mkv")
    _zero_length(tmp_path / "empty.mp4")
    _zero_length(tmp_path / "empty.mkv")
    (tmp_path / "zero.mp4").write_bytes(b"")
    cases = [
        ("corrupt.mp4", [], "not a readable video"),
        ("audio.mkv", [], "has no video stream"),
        ("empty.mp4", [], "zero-length video"),
        ("empty.mkv", [], "zero-length"),
        ("zero.mp4", [], "is empty"),
        ("good.mp4", ["--start", "5"], "past the end"),
        ("good.mp4", ["--start", "1", "--end", "0.5"], "must be after"),
        ("good.mp4", ["--every", "0"], "--every"),
        ("good.mp4", ["--masks", "gif"], "--masks"),
        ("good.mp4", ["--overlay-scale", "0"], "--overlay-scale"),
        ("good.mp4", ["--overlay-scale", "1.5"], "--overlay-scale"),
        ("good.mp4", ["--overlay-scale", "nan"], "--overlay-scale"),
        ("good.mp4", ["--white-to-white", "0"], "--white-to-white"),
        ("good.mp4", ["--white-to-white", "-11"], "--white-to-white"),
        ("good.mp4", ["--timestamp", "0.2", "--every", "2"], "whole video"),
    ]
    for name, extra, msg in cases:
        out = tmp_path / f"out-{name}-{len(extra)}"
        r = cli("predict", model, tmp_path / name, "--out", out, "--device", "cpu", *extra)
        assert r.code == 2 and msg in r.err, (name, extra, r.err)
        assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
        assert not out.exists()
    assert good.exists() and _leftovers(tmp_path) == []


def test_a_video_that_breaks_part_way_keeps_what_was_done(model, tmp_path):
    v = write_index_video(tmp_path / "v.mkv", 60, size=(160, 120))
    data = v.read_bytes()
    cut = tmp_path / "cut.mkv"
    cut.write_bytes(data[: len(data) // 2])
    out = tmp_path / "o"
    with pytest.raises(AntsegInputError, match=r"stopped after .* s \(frame \d+\).*frames before it are in"):
        predict_video(model, cut, out, device="cpu")
    doc = json.loads((out / "summary.json").read_text())
    rows = _rows(out)
    assert not doc["complete"] and 5 < doc["frames"] == len(rows) < 60
    assert [read_pattern(f) for f in decode_frames(out / "overlay.mp4")] == list(range(len(rows)))
    assert _leftovers(tmp_path) == []


def _peak(model, video, out) -> int:
    tracemalloc.start()
    try:
        predict_video(model, video, out, VideoOptions(masks="video"), device="cpu")
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_video_length(model, tmp_path):
    short = write_index_video(tmp_path / "short.mp4", 30, size=(160, 120), fps=25)
    long = write_index_video(tmp_path / "long.mp4", 200, size=(160, 120), fps=25)
    _peak(model, short, tmp_path / "warm")  # imports and caches first
    p_short, p_long = _peak(model, short, tmp_path / "s"), _peak(model, long, tmp_path / "l")
    # Holding the frames would add 170 x 57.6 kB = 9.8 MB; the bounded queues hold about 20 (1.1 MB) at most.
    assert p_long < p_short + 2_000_000, (p_short, p_long)
