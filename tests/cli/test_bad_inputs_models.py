"""Bad input to ``antseg predict``, ``report``, ``train``, ``biometry`` and ``evaluate``, table by table: every row
must give exit 2, one line on stderr naming the file (or the flag), no traceback, and no output folder
(see :func:`tests.cli.refusal.assert_refused`)."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from pydicom.pixels import get_decoder
from pydicom.uid import JPEGLosslessSV1
from tests.cli.refusal import Bad, assert_refused, run_main
from tests.io.dicom_files import casia_like, no_pixels, undecodable, visante_like

from antseg.io.images import write_png


@pytest.fixture
def run_cli(capfd):
    return lambda args: run_main(capfd, args)


def make_video(path: Path, n: int = 20, fps: int = 10, faststart: bool = False) -> Path:
    import av

    rng = np.random.default_rng(0)
    with av.open(str(path), "w", options={"movflags": "faststart"} if faststart else {}) as c:
        s = c.add_stream("mpeg4", rate=fps)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for _ in range(n):
            frame = av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8), format="rgb24")
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    """Every input file the tables below refer to, made once."""
    d = tmp_path_factory.mktemp("inputs")
    rng = np.random.default_rng(0)
    (d / "imgs").mkdir()
    for name in ("a_bad", "b", "c"):
        write_png(d / "imgs" / f"{name}.png", rng.integers(0, 255, (48, 64), np.uint8))
    data = (d / "imgs" / "a_bad.png").read_bytes()
    (d / "imgs" / "a_bad.png").write_bytes(data[: len(data) // 3])  # truncated: OpenCV logs its own line
    (d / "dup").mkdir()
    write_png(d / "dup" / "b.png", np.zeros((48, 64), np.uint8))
    (d / "empty").mkdir()
    write_png(d / "still.png", rng.integers(0, 255, (48, 64), np.uint8))
    (d / "text.jpg").write_text("not an image, not a video")
    (d / "text.mp4").write_text("not a video")
    make_video(d / "v.mp4")
    full = make_video(d / "full.mp4", n=40, faststart=True).read_bytes()
    (d / "cut.mp4").write_bytes(full[: len(full) // 2])
    with open(d / "pickled.pt", "wb") as fh:
        pickle.dump({"format": "antseg-checkpoint", "weights": [1, 2, 3]}, fh)
    torch.save({"format": "antseg-checkpoint"}, d / "proto5.pt", pickle_protocol=5)  # torch warns about it
    (d / "train.yaml").write_text("epochs: 2.5\n")
    (d / "ensemble0.yaml").write_text("model: ensemble\nmodel_args:\n  members: 0\n")
    (d / "a_file").write_text("x")
    (d / "dcm").mkdir()
    good = casia_like(d / "dcm" / "good.dcm", rng.integers(0, 255, (48, 64), np.uint8), spacing=(0.02, 0.02))
    (d / "dcm" / "cut.dcm").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    no_pixels(d / "dcm" / "report.dcm")
    undecodable(d / "dcm" / "lossless.dcm", JPEGLosslessSV1)
    (d / "dcm" / "text.dcm").write_text("not a DICOM file")
    visante_like(d / "dcm" / "nospacing.dcm", rng.integers(0, 255, (48, 64), np.uint8))
    return d


@pytest.fixture
def no_jpeg_lossless_plugin(monkeypatch):
    """JPEG Lossless undecodable whatever is installed (pylibjpeg-libjpeg and python-gdcm decode it)."""
    decoder = get_decoder(JPEGLosslessSV1)
    monkeypatch.setattr(decoder, "_available", {})
    monkeypatch.setattr(decoder, "_unavailable", {"pylibjpeg": ("pylibjpeg>=2.0", "pylibjpeg-libjpeg>=2.1")})


PREDICT: dict[str, tuple[list[str], str]] = {
    "timestamp NaN": (["{d}/v.mp4", "--timestamp", "nan"], "--timestamp"),
    "timestamp inf": (["{d}/v.mp4", "--timestamp", "inf"], "--timestamp"),
    "timestamp negative": (["{d}/v.mp4", "--timestamp", "-1"], "negative"),
    "timestamp past the end": (["{d}/v.mp4", "--timestamp", "9"], "past the end"),
    "timestamp on a still image": (["{d}/still.png", "--timestamp", "1"], "still.png"),
    "timestamp on text named .jpg": (["{d}/text.jpg", "--timestamp", "0"], "text.jpg"),
    "timestamp on text named .mp4": (["{d}/text.mp4", "--timestamp", "0"], "text.mp4"),
    "timestamp in a truncated video": (["{d}/cut.mp4", "--timestamp", "3.5"], "cut.mp4"),
    "timestamp with two inputs": (["{d}/v.mp4", "{d}/v.mp4", "--timestamp", "0"], "exactly one video"),
    "corrupt image in a folder": (["{d}/imgs"], "a_bad.png"),
    "missing input": (["{d}/nope.png"], "nope.png"),
    "folder without images": (["{d}/empty"], "empty"),
    "two inputs, one name": (["{d}/imgs/b.png", "{d}/dup/b.png"], "b.png"),
    "one image twice": (["{d}/imgs/b.png", "{d}/imgs/b.png"], "given twice"),
    "resume with nothing to resume": (["{d}/imgs/b.png", "--resume"], "nothing to resume"),
    "resume and overwrite": (["{d}/imgs/b.png", "--resume", "--overwrite"], "--resume"),
    "truncated DICOM": (["{d}/dcm/cut.dcm"], "cut.dcm: cannot decode its pixel data, truncated or corrupt"),
    "DICOM without pixel data": (["{d}/dcm/report.dcm"], "report.dcm: DICOM without pixel data"),
    "DICOM compressed without its plugin": (["{d}/dcm/lossless.dcm"], "needs a decoder plugin: pip install pylibjpeg"),
    "text named .dcm": (["{d}/dcm/text.dcm"], "text.dcm: not a DICOM file"),
    "DICOM frame that does not exist": (["{d}/dcm/good#002.dcm"], "good#002.dcm: no such frame: good.dcm holds 1"),
    "workers 0": (["{d}/imgs/b.png", "--workers", "0"], "--workers must be a whole number from 1"),
    "workers on a video": (["{d}/v.mp4", "--workers", "2"], "a video runs in one process"),
}


@pytest.mark.parametrize("case", list(PREDICT))
def test_predict_bad_input(tiny_run, files, tmp_path, run_cli, case, no_jpeg_lossless_plugin):
    extra, names = PREDICT[case]
    out = tmp_path / "out"
    args = ["predict", tiny_run, *[a.format(d=files) for a in extra], "--out", out, "--device", "cpu"]
    assert_refused(run_cli(args), Bad(args, out, names))


@pytest.mark.parametrize("weights", ["pickled.pt", "proto5.pt", "a_file"])
def test_predict_and_evaluate_bad_checkpoint(files, split_phantom, tmp_path, run_cli, weights):
    out = tmp_path / "out"
    for args in (
        ["predict", files / weights, files / "imgs" / "b.png", "--out", out],
        ["evaluate", files / weights, split_phantom, "--out", out],
        [
            "biometry",
            "--dataset",
            split_phantom,
            "--weights",
            files / weights,
            "--spurs",
            files / weights,
            "--out",
            out,
        ],
    ):
        assert_refused(run_cli(args), Bad(args, out, weights))


BIOMETRY: dict[str, tuple[list[str], str]] = {
    "spacing NaN": (["--spacing", "nan"], "--spacing"),
    "spacing inf": (["--spacing", "inf"], "--spacing"),
    "spacing 0": (["--spacing", "0"], "--spacing must be positive"),
    "spacing negative": (["--spacing", "0.01,-0.01"], "--spacing must be positive"),
    "spacing 3 values": (["--spacing", "1,2,3"], "--spacing"),
    "narrow AOD500 NaN": (["--narrow-aod500", "nan"], "--narrow-aod500"),
    "narrow TISA500 negative": (["--narrow-tisa500", "-1"], "--narrow-tisa500"),
    "narrow AOD500 inf": (["--narrow-aod500", "inf"], "--narrow-aod500"),
    "narrow TISA500 above every angle": (["--narrow-tisa500", "5"], "--narrow-tisa500"),
    "missing dataset": (["--dataset", "{d}/nope"], "nope"),
    "workers on a dataset": (["--workers", "2"], "--workers"),
    "workers 0": (["--workers", "0"], "--workers must be a whole number from 1"),
}


@pytest.mark.parametrize("case", list(BIOMETRY))
def test_biometry_bad_input(split_phantom, files, tmp_path, run_cli, case):
    extra, names = BIOMETRY[case]
    out = tmp_path / "out"
    args = ["biometry", "--dataset", split_phantom, "--out", out, *[a.format(d=files) for a in extra]]
    assert_refused(run_cli(args), Bad(args, out, names))


REPORT: dict[str, tuple[list[str], str]] = {
    "DICOM without spacing": (["{d}/dcm/nospacing.dcm"], "nospacing.dcm: no pixel spacing in the file"),
    # a bad scan after good ones keeps the good ones for --resume: tests/batch/test_archive.py
    "truncated DICOM": (["{d}/dcm/cut.dcm", "{d}/dcm/good.dcm"], "cut.dcm: cannot decode its pixel data"),
    "DICOM compressed without its plugin": (
        ["{d}/dcm/lossless.dcm", "--spacing", "0.02"],
        "lossless.dcm: compressed as JPEG Lossless",
    ),
    "DICOM without pixel data": (["{d}/dcm/report.dcm"], "report.dcm: DICOM without pixel data"),
    "--dicom-out with an image file": (["{d}/still.png", "--dicom-out", "{d}/pacs"], "still.png: --dicom-out"),
    "--dicom-out inside --out": (["{d}/dcm/good.dcm", "--dicom-out", "{out}/pacs"], "--dicom-out must be a folder"),
}


@pytest.mark.parametrize("case", list(REPORT))
def test_report_bad_input(tiny_run, tiny_spur_run, files, tmp_path, run_cli, case, no_jpeg_lossless_plugin):
    extra, names = REPORT[case]
    out = tmp_path / "out"
    args = ["report", *[a.format(d=files, out=out) for a in extra], "--out", out, "--weights", tiny_run,
            "--spurs", tiny_spur_run[1], "--device", "cpu"]  # fmt: skip
    assert_refused(run_cli(args), Bad(args, out, names))
    assert not (files / "pacs").exists()


TRAIN: dict[str, tuple[list[str], str]] = {
    "input size 0x0": (["seg", "--input-size", "0x0"], "--input-size"),
    "input size 16x16": (["seg", "--input-size", "16x16"], "input_size must be a whole number >= 32"),
    "input size text": (["seg", "--input-size", "big"], "--input-size"),
    "epochs 0": (["seg", "--epochs", "0"], "epochs must be a whole number >= 1"),
    "epochs -3": (["seg", "--epochs", "-3"], "epochs must be a whole number >= 1"),
    "batch size 0": (["seg", "--batch-size", "0"], "batch_size"),
    "lr NaN": (["seg", "--lr", "nan"], "lr must be a finite number"),
    "lr 0": (["seg", "--lr", "0"], "lr must be positive"),
    "time budget inf": (["seg", "--time-budget", "inf"], "time_budget_s"),
    "time budget -1": (["seg", "--time-budget", "-1"], "time_budget_s"),
    "resume without a run": (["seg", "--resume"], "nothing to resume"),
    "config epochs 2.5": (["seg", "--config", "{d}/train.yaml"], "train.yaml"),
    "unknown recipe": (["seg", "--recipe", "nope"], "unknown recipe"),
    "ensemble of 0": (["seg", "--config", "{d}/ensemble0.yaml"], "an ensemble needs at least one member"),
    "spur epochs 0": (["spur", "--epochs", "0"], "epochs must be a whole number >= 1"),
    "spur refine steps 0": (["spur", "--refine-steps", "0"], "--refine-steps"),
    "spur input size 0x0": (["spur", "--input-size", "0x0"], "--input-size"),
}


@pytest.mark.parametrize("case", list(TRAIN))
def test_train_bad_input(split_phantom, files, tmp_path, run_cli, case):
    extra, names = TRAIN[case]
    out = tmp_path / "run"
    extra = [a.format(d=files) for a in extra]
    args = ["train", extra[0], split_phantom, "--out", out, *extra[1:]]
    assert_refused(run_cli(args), Bad(args, out, names))


def test_train_into_a_file_keeps_the_file(split_phantom, files, tmp_path, run_cli):
    target = tmp_path / "run"
    target.write_text("mine")
    code, _, err = run_cli(["train", "seg", split_phantom, "--out", target, "--epochs", "1"])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not a folder" in err
    assert target.read_text() == "mine"


@pytest.mark.parametrize(
    "args",
    [
        ["predict", "{d}/proto5.pt", "{d}/imgs/b.png", "--out", "{out}"],
        ["train", "seg", "{ds}", "--out", "{out}", "--model", "unet", "--encoder-weights", "{d}/proto5.pt"],
    ],
    ids=["checkpoint", "encoder weights"],
)
def test_torch_pickle_warning_stays_off_the_terminal(files, split_phantom, tmp_path, args):
    """A real process with every Python warning shown (-W always): still one line, from antseg."""
    args = [a.format(d=files, ds=split_phantom, out=tmp_path / "out") for a in args]
    r = subprocess.run(
        [sys.executable, "-W", "always", "-m", "antseg", *args], capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert "proto5.pt" in r.stderr and "Warning" not in r.stderr
    assert not (tmp_path / "out").exists()
