"""Adaptation of the surgical model to unlabelled frames and videos: the trust checks on hand-made logits, the
dispatch, and ``antseg adapt surgical`` end to end on small phantom videos, then ``antseg predict`` with the run."""

from __future__ import annotations

import json
import shutil

import cv2
import numpy as np
import pytest
from tests.cli.refusal import Bad, assert_refused, run_main

from antseg.adaptation.surgical import adapt_surgical, surgical_start
from antseg.adaptation.surgical_frames import find_sources, sample_frames
from antseg.adaptation.surgical_pseudo import FrameLabeller, SurgicalPseudoConfig, dice
from antseg.errors import AntsegInputError
from antseg.io.images import write_png
from antseg.models import read_checkpoint
from antseg.models.shipped import surgical_checkpoint

H, W = 192, 256  # the shipped model's input: logits and frame at the same size


def _logits(mask: np.ndarray) -> np.ndarray:
    return np.where(mask > 0, 6.0, -6.0).astype(np.float32)


def _disc(cx: float, cy: float, a: float, b: float) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    cv2.ellipse(m, ((cx, cy), (2 * a, 2 * b), 0.0), 1, -1)
    return m


class HandMade(FrameLabeller):
    """The labeller with the network's two views replaced by hand-made (cornea, pupil) masks."""

    def __init__(self, one: tuple, mirror: tuple | None = None) -> None:
        super().__init__(surgical_checkpoint(), "cpu", cfg=SurgicalPseudoConfig())
        self.one, self.mirror = one, mirror or one

    def views(self, image):
        from antseg.preprocessing import Letterbox

        lb = Letterbox((H, W), tuple(self.meta.input_size))
        return lb, np.stack([_logits(m) for m in self.one]), np.stack([_logits(m) for m in self.mirror])


FRAME = np.zeros((H, W, 3), np.uint8)


def test_a_limbus_ellipse_with_its_pupil_becomes_a_pseudo_label_cleaned_to_its_ellipse():
    limbus, pupil = _disc(128, 96, 60, 56), _disc(128, 96, 28, 28)
    notched = limbus.copy()
    notched[90:102, 60:128] = 0  # an instrument across the disc: the label is the whole disc
    lab = HandMade((notched, pupil))(FRAME)
    assert lab.accepted and lab.why == ""
    assert dice(lab.masks[0], limbus) > 0.97 and dice(lab.masks[1], pupil) > 0.97


def test_a_sclera_painted_as_cornea_is_rejected():
    # The exposed globe between the lids: wide, flat and cut by the frame's sides, not the limbus' ellipse.
    sclera = np.zeros((H, W), np.uint8)
    cv2.ellipse(sclera, ((128, 96), (330, 150), 0.0), 1, -1)
    lab = HandMade((sclera, _disc(128, 96, 28, 28)))(FRAME)
    assert not lab.accepted and lab.why.startswith("limbus not found") and lab.masks is None


@pytest.mark.parametrize(
    "one, mirror, why",
    [
        ((_disc(128, 96, 60, 56), _disc(128, 96, 28, 28)), (_disc(100, 96, 60, 56), _disc(100, 96, 28, 28)),
         "the mirrored frame disagrees on the limbus"),
        ((_disc(128, 96, 60, 56), _disc(128, 96, 28, 28)), (_disc(128, 96, 60, 56), _disc(112, 96, 14, 14)),
         "the mirrored frame disagrees on the pupil"),
        ((_disc(128, 96, 60, 56), _disc(150, 96, 4, 4)), None, "pupil: "),
        ((np.zeros((H, W), np.uint8), _disc(128, 96, 28, 28)), None, "limbus not found: no limbus-like region"),
    ],
)  # fmt: skip
def test_what_is_not_a_pseudo_label(one, mirror, why):
    lab = HandMade(one, mirror)(FRAME)
    assert not lab.accepted and lab.why.startswith(why), lab.why


def test_the_dispatch_recognises_surgical_models(tmp_path):
    shipped = surgical_checkpoint()
    assert surgical_start("surgical") == shipped and surgical_start(shipped) == shipped
    assert surgical_start("default") is None and surgical_start(tmp_path / "missing") is None


@pytest.fixture(scope="module")
def videos(surgical_phantom, tmp_path_factory):
    """A folder of three short phantom videos (4 frames each, 256 x 192), no labels."""
    folder = tmp_path_factory.mktemp("surg") / "videos"
    shutil.copytree(surgical_phantom / "videos", folder)
    return folder


def test_frames_are_sampled_evenly_over_videos_and_files(videos, tmp_path):
    write_png(tmp_path / "still.png", np.full((300, 900, 3), 90, np.uint8))
    found = find_sources([videos, tmp_path / "still.png"])
    assert [s.video for s in found] == [True, True, True, False] and sum(s.frames for s in found) == 13
    rows = sample_frames(found, 5, tmp_path / "frames", width=640)  # frames 0, 2, 5, 7, 10 of the 13
    assert [(r["source"][-12:], r["time_s"]) for r in rows] == [
        ("case5000.mp4", 0.0), ("case5000.mp4", 0.2), ("case5001.mp4", 0.1), ("case5001.mp4", 0.3),
        ("case5002.mp4", 0.2)]  # fmt: skip
    rows = sample_frames(found, 50, tmp_path / "all", width=128)
    assert len(rows) == 13 and rows[-1]["time_s"] is None
    assert cv2.imread(str(tmp_path / "all" / rows[-1]["file"])).shape == (43, 128, 3)  # downsized, RGB
    with pytest.raises(AntsegInputError, match="holds no frames"):
        (tmp_path / "empty").mkdir()
        find_sources([tmp_path / "empty"])


def test_adapt_surgical_then_predict_a_video_with_the_run(videos, tmp_path, cli):
    cfg = tmp_path / "adapt.yaml"
    cfg.write_text("rehearsal: 4\nepochs: 2\nbatch_size: 4\n")
    run = tmp_path / "adapted"
    r = cli("adapt", "surgical", videos, "--out", run, "--budget", "60", "--rounds", "1", "--config", cfg,
            "--device", "cpu")  # fmt: skip
    assert r.code == 0, r.err
    record = json.loads((run / "adaptation.json").read_text())
    assert record["done"] and record["modality"] == "surgical" and len(record["frames"]) == 12
    assert record["rounds"][0]["accepted"] >= 3 and record["from"]["segmentation"] == "surgical"
    meta = read_checkpoint(run / "best.pt").meta
    assert meta.recipe == "adapted" and not meta.synthetic and meta.modality == "surgical"
    assert meta.dataset.startswith("adapted without labels") and meta.structures == ["cornea", "pupil"]
    r = cli("predict", run, videos / "case5000.mp4", "--out", tmp_path / "pred", "--masks", "none", "--device", "cpu")
    assert r.code == 0, r.err
    summary = json.loads((tmp_path / "pred" / "summary.json").read_text())
    assert summary["frames"] == 4 and summary["surgical"]["limbus_found"] >= 1
    r = cli("adapt", "surgical", videos, "--out", run, "--budget", "60")  # an existing run is not replaced silently
    assert r.code == 2 and "--overwrite" in r.err
    r = cli("adapt", "surgical", videos, "--out", run, "--rounds", "1", "--resume", "--device", "cpu")
    assert r.code == 0, r.err  # all its rounds are done: nothing more to do, the same frames and rounds
    again = json.loads((run / "adaptation.json").read_text())
    assert again["frames"] == record["frames"] and again["rounds"] == record["rounds"]


def test_bad_sources_are_refused_and_nothing_is_written(tmp_path, capfd):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("no frames here")
    bad = Bad(["adapt", "surgical", empty, "--out", tmp_path / "run1"], tmp_path / "run1", "empty",
              ["holds no frames"])  # fmt: skip
    assert_refused(run_main(capfd, bad.args), bad)
    grey = tmp_path / "grey"
    grey.mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):  # no eye anywhere: colour noise and a grey scan
        write_png(grey / f"f{i}.png", rng.integers(0, 255, (192, 256, 3), np.uint8) if i else np.full((192, 256), 80,
                  np.uint8))  # fmt: skip
    bad = Bad(["adapt", "surgical", grey, "--out", tmp_path / "run2", "--budget", "30", "--device", "cpu"],
              tmp_path / "run2", "only 0 of 4 frames pass the trust checks")  # fmt: skip
    assert_refused(run_main(capfd, bad.args), bad)


def test_resume_refuses_an_adaptation_of_as_oct_scans(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "adaptation.json").write_text(json.dumps({"from": {"segmentation": "default"}, "rounds": []}))
    with pytest.raises(AntsegInputError, match="not a surgical adaptation"):
        adapt_surgical("surgical", [], run, resume=True)
