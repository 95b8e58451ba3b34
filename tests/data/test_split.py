"""Splitter: exact guarantees (no leakage, stratification, determinism, folds)."""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from antseg.data.canonical import load_dataset
from antseg.data.schema import Case
from antseg.data.split import SplitConfig, assign_splits, split_dataset
from antseg.errors import AntsegInputError


def make_cases(n_patients: int = 120, seed: int = 0) -> list[Case]:
    """Patients of four groups with 1-3 cases each."""
    import numpy as np

    rng = np.random.default_rng(seed)
    groups = ["normal", "cataract", "pacg", "pacg_cataract"]
    weights = [0.4, 0.3, 0.2, 0.1]
    cases = []
    for p in range(n_patients):
        g = groups[rng.choice(4, p=weights)]
        for k in range(int(rng.integers(1, 4))):
            cases.append(Case(f"p{p}_c{k}", f"p{p}", f"images/p{p}_{k}.png", 10, 10, group=g))
    return cases


def parts_by_patient(cases):
    out = defaultdict(set)
    for c in cases:
        out[c.patient_id].add((c.split, c.fold))
    return out


def test_no_patient_in_two_parts_and_sizes_follow_ratios():
    cases = make_cases()
    assign_splits(cases, SplitConfig())
    assert all(len(s) == 1 for s in parts_by_patient(cases).values())
    n = Counter(c.split for c in cases)
    total = len(cases)
    assert (
        abs(n["train"] / total - 0.7) < 0.03
        and abs(n["val"] / total - 0.15) < 0.03
        and abs(n["test"] / total - 0.15) < 0.03
    )


def test_stratified_by_group():
    cases = make_cases(200)
    assign_splits(cases, SplitConfig())
    for g in ("normal", "cataract", "pacg", "pacg_cataract"):
        gc = [c for c in cases if c.group == g]
        frac = Counter(c.split for c in gc)
        for part, r in (("train", 0.7), ("val", 0.15), ("test", 0.15)):
            assert abs(frac[part] / len(gc) - r) < 0.08, (g, part, frac)


def test_deterministic_and_seed_dependent():
    a, b, c = make_cases(), make_cases(), make_cases()
    assign_splits(a, SplitConfig(seed=3))
    assign_splits(b, SplitConfig(seed=3))
    assign_splits(c, SplitConfig(seed=4))
    assert [x.split for x in a] == [x.split for x in b]
    assert [x.split for x in a] != [x.split for x in c]


def test_tiny_strata_still_fill_every_part():
    cases = [
        Case(f"c{i}", f"p{i}", "i.png", 1, 1, group=g)
        for i, g in enumerate(["normal", "cataract", "pacg", "pacg_cataract"] * 3)
    ]
    assign_splits(cases, SplitConfig())
    assert set(Counter(c.split for c in cases)) == {"train", "val", "test"}


def test_folds_cover_non_test_patients_once():
    cases = make_cases()
    assign_splits(cases, SplitConfig(folds=5))
    per_patient = parts_by_patient(cases)
    assert all(len(s) == 1 for s in per_patient.values())
    folds = Counter(next(iter(s))[1] for s in per_patient.values() if next(iter(s))[0] == "train")
    assert sorted(folds) == [0, 1, 2, 3, 4] and max(folds.values()) - min(folds.values()) <= 3
    assert all(c.fold is None for c in cases if c.split == "test")
    assert {c.split for c in cases} == {"train", "test"}


def test_zero_ratio_part_stays_empty():
    cases = make_cases()
    assign_splits(cases, SplitConfig(ratios=(0.8, 0.2, 0.0)))
    assert "test" not in {c.split for c in cases}


@pytest.mark.parametrize(
    "cfg",
    [
        SplitConfig(ratios=(0.5, 0.5)),
        SplitConfig(ratios=(1, -1, 0)),
        SplitConfig(folds=1),
        SplitConfig(folds=1000),
    ],
)
def test_bad_settings(cfg):
    with pytest.raises(AntsegInputError):
        assign_splits(make_cases(), cfg)


def test_split_dataset_rewrites_cases_csv(asoct_copy):
    split_dataset(asoct_copy, SplitConfig(seed=1))
    ds = load_dataset(asoct_copy)
    assert {c.split for c in ds} <= {"train", "val", "test"} and all(c.split for c in ds)
    assert all(len(s) == 1 for s in parts_by_patient(ds.cases).values())  # two eyes, one part
    assert ds.manifest.provenance["split"]["seed"] == 1
