"""Adaptation without labels and the labelling loop, end to end on small phantoms with the shipped models."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from antseg.adaptation.pseudo import judge
from antseg.data.canonical import load_dataset
from antseg.io.tables import read_csv
from antseg.models import read_checkpoint
from antseg.scan.result import CHECK, Measure, ScanResult


@pytest.fixture(scope="module")
def scans(asoct_phantom, tmp_path_factory):
    """Eight phantom scans as a plain folder of images (no labels)."""
    ds = load_dataset(asoct_phantom)
    folder = tmp_path_factory.mktemp("unlab") / "scans"
    folder.mkdir()
    for c in ds.cases[:8]:
        shutil.copy(asoct_phantom / c.image, folder / f"{c.case_id}.png")
    return folder


def _result(in_domain=True, doubted=(), spur=None):
    measures = {m: Measure(1.0) for m in ("iris_area_mm2_left", "acd_mm", "pupil_diameter_mm")}
    for m in doubted:
        measures[m].doubt("in this test")
    spur = spur or {"visible": True, "x": 5.0, "y": 6.0, "confidence": 0.95, "moved_mm": 0.0, "mirror_mm": 0.02}
    return ScanResult("s.png", np.zeros((4, 4), np.uint8), [], np.zeros((0, 4, 4), np.uint8),
                      {"left_scleral_spur": spur}, measures, ["w"], [], in_domain, (0.01, 0.01))  # fmt: skip


def test_what_becomes_a_pseudo_label():
    ok, why, spurs = judge(_result(), 0.1, 0.8)
    assert ok and why == "" and spurs == {"left_scleral_spur": (5.0, 6.0)}
    assert judge(_result(doubted=["acd_mm"]), 0.1, 0.8)[0]  # a spur measure: the masks may still be right
    ok, why, _ = judge(_result(doubted=["iris_area_mm2_left"]), 0.1, 0.8)
    assert not ok and why.startswith("iris_area_mm2_left")
    assert not judge(_result(in_domain=False), 0.1, 0.8)[0]
    for bad in ({"mirror_mm": 0.3}, {"moved_mm": 0.4}, {"confidence": 0.5}, {"visible": False}):
        spur = {"visible": True, "x": 5.0, "y": 6.0, "confidence": 0.95, "moved_mm": 0.0, "mirror_mm": 0.02, **bad}
        assert judge(_result(spur=spur), 0.1, 0.8)[2] == {"left_scleral_spur": None}, bad
    assert CHECK == "check"


def test_labelling_loop_round_trip_is_exact(scans, tmp_path, cli):
    out = tmp_path / "labels"
    r = cli("label", "default", scans, "--out", out, "--spacing", "0.025", "--device", "cpu")
    assert r.code == 0, r.err
    ranking = read_csv(out / "to_correct.csv")
    assert [int(x["rank"]) for x in ranking] == list(range(1, 9))
    doubts = [float(x["doubt"]) for x in ranking]
    assert doubts == sorted(doubts, reverse=True)
    r = cli("data", "import", "labelme", out / "labelme", tmp_path / "back")
    assert r.code == 0, r.err
    pre, back = load_dataset(out / "prelabels"), load_dataset(tmp_path / "back")
    assert pre.structures == back.structures
    for c in pre.cases:
        b = back.case(c.case_id)
        np.testing.assert_array_equal(pre.load_masks(c), back.load_masks(b))
        for n, p in c.landmarks.items():
            q = b.landmarks.get(n)
            assert (p is None) == (q is None) and (p is None or np.allclose(p, q, atol=1e-3))


def test_adapt_then_report_with_the_adapted_models(scans, tmp_path, cli):
    run = tmp_path / "adapted"
    r = cli("adapt", "default", scans, "--out", run, "--spacing", "0.025", "--budget", "40", "--rounds", "1",
            "--device", "cpu")  # fmt: skip
    assert r.code == 0, r.err
    record = json.loads((run / "adaptation.json").read_text())
    assert record["done"] and record["rounds"][0]["accepted"] >= 3 and record["from"]["segmentation"] == "default"
    meta = read_checkpoint(run / "best.pt").meta
    assert meta.recipe == "adapted" and not meta.synthetic and "adapted without labels" in meta.dataset
    assert meta.spacing_mm == [0.025, 0.025]  # the spacing it was adapted at, not the pseudo-labels' none
    assert set(meta.structures) == {"anterior_chamber", "lens", "nucleus", "left_iris", "right_iris", "cornea"}
    r = cli("report", scans, "--weights", run, "--spurs", run, "--spacing", "0.025", "--out", tmp_path / "rep",
            "--device", "cpu")  # fmt: skip
    assert r.code == 0, r.err
    page = (tmp_path / "rep" / "report.html").read_text()
    assert "adapted without labels" in page
    r = cli("adapt", "default", scans, "--out", run, "--budget", "40")  # an existing run is not replaced silently
    assert r.code == 2 and "--overwrite" in r.err


def test_adapt_refuses_scans_that_are_not_b_scans(tmp_path, cli):
    folder = tmp_path / "photos"
    folder.mkdir()
    from antseg.io.images import write_png

    rng = np.random.default_rng(0)
    for i in range(4):
        write_png(folder / f"p{i}.png", rng.integers(0, 255, (300, 640, 3), np.uint8))
    r = cli("adapt", "default", folder, "--out", tmp_path / "run", "--budget", "30", "--spurs", "none")
    assert r.code == 2 and "pass the quality checks" in r.err and "\n" not in r.err.strip()
    assert not (tmp_path / "run").exists()
