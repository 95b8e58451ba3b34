"""``antseg predict`` over a folder: a crash keeps the finished images, ``--resume`` skips them, and the final
folder appears complete or not at all."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from antseg.errors import AntsegInputError
from antseg.inference import Predictor
from antseg.io.images import write_png
from antseg.io.resumable import JOURNAL, partial_path
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.predict import predict_paths

N = 50


@pytest.fixture
def folder(tmp_path) -> Path:
    d = tmp_path / "scans"
    d.mkdir()
    rng = np.random.default_rng(0)
    for i in range(N):
        write_png(d / f"s{i:03d}.png", rng.integers(0, 255, (32, 64), np.uint8))
    return d


@pytest.fixture
def counted(monkeypatch) -> list[int]:
    """Counts the images the per-scan pipeline is run on."""
    calls = [0]
    original = ScanPipeline.run

    def run(self, image, *args, **kwargs):
        calls[0] += 1
        return original(self, image, *args, **kwargs)

    monkeypatch.setattr(ScanPipeline, "run", run)
    return calls


def _stop_after(k: int):
    def progress(done: int, total: int) -> None:
        if done == k:
            raise KeyboardInterrupt

    return progress


@pytest.fixture
def k(tiny_run) -> int:
    """Structures per image (rows per image in areas.csv)."""
    return len(Predictor(tiny_run, device="cpu").structures)


def _areas(out: Path) -> list[dict]:
    with open(out / "areas.csv", newline="") as fh:
        return list(csv.DictReader(fh))


def test_interrupted_run_resumes_and_skips_finished_images(tiny_run, folder, tmp_path, counted, k):
    out = tmp_path / "pred"
    with pytest.raises(KeyboardInterrupt):
        predict_paths(tiny_run, [folder], out, device="cpu", progress=_stop_after(20))
    partial = partial_path(out)
    assert not out.exists() and partial.is_dir()
    assert len([p for p in partial.iterdir() if p.is_dir()]) == 20 and counted[0] == 20
    with pytest.raises(AntsegInputError, match="use --resume to continue it or --overwrite"):
        predict_paths(tiny_run, [folder], out, device="cpu")
    notes: list[str] = []
    predict_paths(tiny_run, [folder], out, device="cpu", resume=True, log=notes.append)
    assert counted[0] == N, "a resumed run predicts only the images not yet done"
    assert "20 of 50 images are already done" in notes[0]
    assert out.is_dir() and not partial.exists() and (out / JOURNAL).is_file()
    rows = _areas(out)
    assert len(rows) == N * k and len({r["image"] for r in rows}) == N
    assert [r["image"] for r in rows[::k]] == sorted(f"s{i:03d}.png" for i in range(N))

    # New images in the folder: --resume on the finished run adds only them.
    write_png(folder / "t000.png", np.zeros((32, 64), np.uint8))
    predict_paths(tiny_run, [folder], out, device="cpu", resume=True)
    assert counted[0] == N + 1 and len(_areas(out)) == (N + 1) * k
    with pytest.raises(AntsegInputError, match="--overwrite"):
        predict_paths(tiny_run, [folder], out, device="cpu")


def test_bad_image_mid_run_keeps_finished_images(tiny_run, folder, tmp_path, counted, k):
    (folder / "s030.png").write_bytes(b"\x89PNG broken")
    out = tmp_path / "pred"
    with pytest.raises(AntsegInputError, match="30 finished images are kept: fix it and run again with --resume"):
        predict_paths(tiny_run, [folder], out, device="cpu")
    assert not out.exists() and partial_path(out).is_dir()
    (folder / "s030.png").unlink()
    predict_paths(tiny_run, [folder], out, device="cpu", resume=True)
    assert counted[0] == N - 1 and len(_areas(out)) == (N - 1) * k


def test_resume_refuses_other_weights(tiny_run, folder, tmp_path, tmp_path_factory):
    import shutil

    other = tmp_path_factory.mktemp("other") / "best.pt"
    shutil.copy(tiny_run / "best.pt", other)
    out = tmp_path / "pred"
    predict_paths(tiny_run, [folder / "s000.png"], out, device="cpu")
    with pytest.raises(AntsegInputError, match="the earlier run used another weights"):
        predict_paths(other, [folder], out, device="cpu", resume=True)
    assert out.is_dir() and not partial_path(out).exists()  # the finished folder is put back untouched


def test_resume_refuses_a_model_retrained_at_the_same_path(tiny_run, folder, tmp_path, capfd):
    """Item 5: the model is compared by content, not by path: rows of two models never mix in one folder."""
    import shutil

    import torch
    from tests.cli.refusal import run_main

    from antseg.models.checkpoint import read_checkpoint, save_checkpoint

    model = tmp_path / "model" / "best.pt"
    model.parent.mkdir()
    shutil.copy(tiny_run / "best.pt", model)
    out = tmp_path / "pred"
    predict_paths(model, [folder / "s000.png"], out, device="cpu")
    before = sorted(p.name for p in out.iterdir())
    ck = read_checkpoint(model)  # "retrained": other weights, same file name
    net = ck.build()
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01)
    save_checkpoint(model, net, ck.meta)
    code, _, err = run_main(capfd, ["predict", model, folder, "--out", out, "--resume", "--device", "cpu"])
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "best.pt has changed since the earlier run" in lines[0], err
    assert sorted(p.name for p in out.iterdir()) == before and not partial_path(out).exists()


def test_kill_9_then_resume(tiny_run, folder, tmp_path, counted, k):
    """A real process killed outright: what it finished is kept, and --resume does only the rest."""
    out = tmp_path / "pred"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "antseg", "predict", str(tiny_run), str(folder), "--out", str(out), "--device", "cpu"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    journal = partial_path(out) / JOURNAL
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if journal.is_file() and journal.read_text().count("\n") >= 6:  # header + 5 images
                break
            time.sleep(0.005)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    if proc.returncode == 0:
        pytest.skip("the run finished before it could be killed")
    done = journal.read_text().count('"key"')
    assert 5 <= done < N and not out.exists()
    predict_paths(tiny_run, [folder], out, device="cpu", resume=True)
    assert counted[0] == N - done
    rows = _areas(out)
    assert len(rows) == N * k and len({r["image"] for r in rows}) == N
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == sorted(f"s{i:03d}" for i in range(N))
