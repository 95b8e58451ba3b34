"""The spur predictor: checkpoints it cannot use are one clear line; the refinement starts vote by median."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from antseg.data.canonical import load_dataset
from antseg.inference.spurs import REFINE_STARTS, SpurPredictor


def test_old_or_wrong_spur_checkpoint_is_a_clear_error(tiny_spur_run, tmp_path, cli):
    ds, run = tiny_spur_run
    ck = torch.load(run / "spur.pt", weights_only=True)
    del ck["meta"]["head"]  # as written by the first release (sigmoid heatmaps)
    torch.save(ck, tmp_path / "old.pt")
    img = tmp_path / "in.png"
    img.write_bytes((ds / load_dataset(ds).cases[1].image).read_bytes())
    r = cli("predict", "none", img, "--spurs", tmp_path / "old.pt", "--out", tmp_path / "p", "--device", "cpu")
    assert r.code == 2 and "old.pt" in r.err and "train it again" in r.err and "Traceback" not in r.err
    r = cli("predict", "none", img, "--spurs", run / "stage1" / "best.pt", "--out", tmp_path / "q")
    assert r.code == 2 and "not a spur" in r.err


class _BrightestPixel(torch.nn.Module):
    """A stand-in refiner whose logits peak on the brightest pixel of each crop."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 50.0 * x


def _dots(true_xy, distractor_xy):
    img = np.zeros((600, 900), np.uint8)
    img[true_xy[1], true_xy[0]] = 200
    img[distractor_xy[1], distractor_xy[0]] = 255  # brighter: a crop that holds it locks onto it
    return img


@pytest.mark.parametrize("name", ["left_scleral_spur", "right_scleral_spur"])
def test_refinement_starts_outvote_a_crop_that_locks_onto_the_wrong_spot(name):
    pred = SpurPredictor("default", device="cpu")
    pred.refiner = _BrightestPixel()
    s = int(pred.meta.crop)
    true_xy, distractor_xy = (400, 300), (400 + s // 2 - 4, 300 + s // 2 - 4)
    img = _dots(true_xy, distractor_xy)
    # One start: its crop holds both dots and takes the brighter one.
    pred.starts = 0
    assert pred.refine_point(img, name, *true_xy, passes=1) == pytest.approx(distractor_xy, abs=1e-3)
    # Eight more on a ring of 3/8 crop: five of the nine crops hold only the true dot, and the median is it.
    pred.starts = REFINE_STARTS
    assert pred.refine_point(img, name, *true_xy, passes=1) == pytest.approx(true_xy, abs=1e-3)


def test_refinement_is_exact_from_every_start_and_zero_passes_keep_the_estimate():
    pred = SpurPredictor("default", device="cpu")
    pred.refiner = _BrightestPixel()
    img = _dots((400, 300), (0, 0))
    img[0, 0] = 0
    for name in ("left_scleral_spur", "right_scleral_spur"):
        assert pred.refine_point(img, name, 420.0, 290.0, passes=2) == pytest.approx((400, 300), abs=1e-3)
    assert pred.refine_point(img, "left_scleral_spur", 420.0, 290.0, passes=0) == (420.0, 290.0)


def test_negative_starts_are_refused():
    with pytest.raises(ValueError, match="starts"):
        SpurPredictor("default", device="cpu", starts=-1)
