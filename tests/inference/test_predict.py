"""Prediction on images and folders with a tiny trained model: files, areas, full-size masks."""

from __future__ import annotations

import csv

import numpy as np

from antseg.data.canonical import load_dataset
from antseg.inference import Predictor
from antseg.scan.predict import predict_paths


def test_predict_images_and_folder(tiny_run, split_phantom, tmp_path):
    ds = load_dataset(split_phantom)
    img_dir = tmp_path / "imgs"
    img_dir.mkdir()
    for c in ds.cases[:2]:
        (img_dir / f"{c.case_id}.png").write_bytes((split_phantom / c.image).read_bytes())
    out = predict_paths(tiny_run, [img_dir], tmp_path / "pred", device="cpu")
    first = out / ds.cases[0].case_id
    for s in ds.structures + ["overlay"]:
        assert (first / f"{s}.png").is_file()
    with open(out / "areas.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 2 * len(ds.structures) and rows[0]["area_mm2"] != ""
    p = Predictor(tiny_run / "best.pt", device="cpu").predict(ds.load_image(ds.cases[0], grayscale=True))
    assert p.masks.shape == (len(ds.structures), 300, 640) and p.probs.dtype == np.float32
