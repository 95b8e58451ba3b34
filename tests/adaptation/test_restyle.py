"""Rehearsal scans in the user's look: histogram matching, the bank of reference scans, and the merged dataset."""

from __future__ import annotations

import numpy as np
import pytest

from antseg.adaptation.pseudo import merge
from antseg.adaptation.restyle import StyleBank, check_style, restyle
from antseg.data.canonical import load_dataset, write_dataset_files
from antseg.data.schema import Manifest, Structure
from antseg.errors import AntsegInputError
from antseg.io.images import read_image, write_png


def test_restyle_maps_grey_levels_onto_the_reference_ones():
    image = np.array([[10, 10, 200, 200]] * 2, np.uint8)
    reference = np.array([[50, 100], [100, 50], [50, 100]], np.uint8)
    np.testing.assert_array_equal(restyle(image, reference), [[50, 50, 100, 100]] * 2)


def test_restyle_keeps_the_order_of_grey_levels_and_takes_the_reference_distribution():
    rng = np.random.default_rng(0)
    image = rng.permutation(256).astype(np.uint8).reshape(16, 16)
    reference = np.repeat(np.arange(0, 256, 4, dtype=np.uint8), 4).reshape(16, 16)
    out = restyle(image, reference)
    assert out.dtype == np.uint8 and out.shape == image.shape
    order = np.argsort(image, axis=None, kind="stable")
    assert np.all(np.diff(out.reshape(-1)[order].astype(int)) >= 0)  # brighter stays brighter
    assert abs(float(out.mean()) - float(reference.mean())) < 2.5 and out.min() == 0 and out.max() == 252


def test_restyle_takes_colour_images_as_grey():
    image = np.dstack([np.arange(64, dtype=np.uint8).reshape(8, 8)] * 3)
    out = restyle(image, np.full((4, 4), 7, np.uint8))
    assert out.shape == (8, 8) and set(np.unique(out)) == {7}


def test_the_bank_draws_its_scans_with_the_seed(tmp_path):
    refs = []
    for v in range(5):
        write_png(tmp_path / f"r{v}.png", np.full((6, 6), 40 * v, np.uint8))
        refs.append(tmp_path / f"r{v}.png")
    image = np.arange(36, dtype=np.uint8).reshape(6, 6)
    a = [StyleBank(refs, seed=3).apply(image)[0, 0] for _ in range(1)]
    b = [StyleBank(refs, seed=3).apply(image)[0, 0] for _ in range(1)]
    assert a == b and a[0] in {0, 40, 80, 120, 160}
    with pytest.raises(ValueError, match="no scans"):
        StyleBank([])


def test_an_unknown_look_names_the_valid_ones():
    assert check_style("none") == "none"
    with pytest.raises(AntsegInputError, match="valid: histogram, none"):
        check_style("fourier")


def test_merged_training_phantom_scans_take_the_look_and_validation_ones_keep_theirs(asoct_phantom, tmp_path):
    pseudo = tmp_path / "pseudo"
    pseudo.mkdir()
    ph = load_dataset(asoct_phantom)
    manifest = Manifest(name="p", modality="asoct", structures=[Structure(n, k + 1, (0, 0, 0)) for k, n in
                        enumerate(ph.structures)], landmarks=[], spacing_mm=None, groups=["unlabelled"],
                        provenance={})  # fmt: skip
    write_dataset_files(pseudo, manifest, [])
    write_png(tmp_path / "grey.png", np.full((20, 30), 99, np.uint8))
    out = merge(pseudo, asoct_phantom, tmp_path / "merged", look=StyleBank([tmp_path / "grey.png"]))
    merged = load_dataset(out)
    assert len(merged.cases) == len(ph.cases)
    for c in merged.cases:
        img = read_image(out / c.image)
        original = read_image(asoct_phantom / ph.case(c.case_id.removeprefix("ph_")).image)
        if c.split == "val":
            np.testing.assert_array_equal(img, original)
        else:
            assert set(np.unique(img)) == {99}
