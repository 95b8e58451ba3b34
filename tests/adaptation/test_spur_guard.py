"""The spur guard keeps a fine-tuned spur model only when it is no worse on scans it was not trained on."""

from __future__ import annotations

import math
import shutil

import pytest
import torch

from antseg.adaptation.spur_guard import judge_spur_round, spur_distances
from antseg.data.canonical import load_dataset
from antseg.models import read_checkpoint, runs, save_checkpoint


@pytest.fixture(scope="module")
def merged(asoct_phantom, tmp_path_factory):
    """A merged spur dataset as adaptation writes it: two held-out phantom scans with exact spurs and two held-out
    user scans whose trusted spurs are where the shipped model puts them (the pipeline's, in adaptation)."""
    from antseg.inference.spurs import SpurPredictor
    from antseg.io.images import read_image

    root = tmp_path_factory.mktemp("guard") / "data"
    shutil.copytree(asoct_phantom, root)
    ds = load_dataset(root)
    pred = SpurPredictor("default", "cpu")
    ds.cases = ds.cases[:4]
    for k, c in enumerate(ds.cases):
        c.split = "val"
        c.group = "phantom" if k < 2 else "unlabelled"
        if c.group == "unlabelled":
            got = pred.predict(read_image(root / c.image))
            c.landmarks = {n: (p["x"], p["y"]) for n, p in got.items() if p["x"] is not None}
    ds.save()
    return root


@pytest.fixture(scope="module")
def broken(tmp_path_factory):
    """The shipped spur model with its heatmap network scrambled: spurs land anywhere."""
    ck = read_checkpoint(runs.spur_checkpoint("default"))
    model = ck.build()
    gen = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * p.abs().mean().clamp(min=1e-3) * 3)
    out = tmp_path_factory.mktemp("broken") / "spur.pt"
    return save_checkpoint(out, model, ck.meta, refiner=ck.build_refiner())


def test_the_same_model_is_kept(merged):
    v = judge_spur_round("default", "default", merged, (0.025, 0.025), 0.25, "cpu")
    assert v.keep and v.why == "" and v.held_out_n == 4
    assert v.phantom_px[0] == pytest.approx(v.phantom_px[1])
    assert v.held_out_mm == pytest.approx(0.0, abs=1e-4)  # the dataset stores spurs to 1e-3 px


def test_a_model_that_moves_trusted_spurs_is_refused(merged, broken):
    v = judge_spur_round("default", broken, merged, (0.025, 0.025), 0.25, "cpu")
    assert not v.keep and v.why
    assert v.held_out_mm > 0.25 or v.phantom_px[1] > v.phantom_px[0]


def test_a_trusted_spur_far_from_the_candidate_is_refused(merged, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(merged, data)
    ds = load_dataset(data)
    c = next(c for c in ds.cases if c.group == "unlabelled")
    n = next(iter(c.landmarks))
    c.landmarks[n] = (c.landmarks[n][0] + 40.0, c.landmarks[n][1])  # 40 px = 1 mm at 0.025 mm per pixel
    ds.save()
    v = judge_spur_round("default", "default", data, (0.025, 0.025), 0.25, "cpu")
    assert not v.keep and "moved a trusted held-out spur by 1.00 mm" in v.why


def test_nothing_to_check_on_is_refused(merged, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(merged, data)
    ds = load_dataset(data)
    ds.cases = [c for c in ds.cases if c.group == "phantom"]
    ds.save()
    v = judge_spur_round("default", "default", data, None, 0.25, "cpu")
    assert not v.keep and "no held-out scan" in v.why


def test_a_missed_spur_counts_as_infinitely_far(merged):
    ds = load_dataset(merged)
    ids = [c.case_id for c in ds.cases if c.group == "phantom"]
    d = spur_distances("default", merged, ids, "cpu")
    assert len(d) == sum(v is not None for c in ds.cases[:2] for v in c.landmarks.values())
    assert all(x >= 0 for x in d) and not any(math.isnan(x) for x in d)


def test_judge_on_scans_exact_verdicts():
    from antseg.adaptation.spur_guard import SpurDoubts, judge_on_scans

    before = SpurDoubts(spurs=16, unsure=5, astray=0)
    keep, why = judge_on_scans(before, SpurDoubts(16, 1, 0))
    assert keep and why == ("as consistent or more on your other scans: 1 of 16 spurs unsure (0 astray) against 5 "
                            "(0) with the model before")  # fmt: skip
    assert judge_on_scans(before, SpurDoubts(16, 5, 0))[0]
    # Measured on the development eye: a model fine-tuned on one scan put 4 spurs on the central cornea (6.3-6.7 mm
    # from where the chamber ends) with the same number of doubted spurs as the model before.
    keep, why = judge_on_scans(before, SpurDoubts(16, 5, 4))
    assert not keep and why.startswith("less consistent on your other scans: 5 of 16 spurs unsure (4 astray)")
    assert not judge_on_scans(before, SpurDoubts(16, 6, 0))[0]
