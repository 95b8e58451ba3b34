"""Biometry from tiny trained models: the output files, the mode checks, and --spacing in every mode."""

from __future__ import annotations

import pytest

from antseg.biometry.run import run_biometry
from antseg.data.canonical import load_dataset
from antseg.io.tables import read_csv


def test_predicted_biometry_cli(tiny_run, tiny_spur_run, tmp_path, cli):
    """Predict masks and spurs, measure, and compare with the reference values (tiny untrained-ish models:
    only the plumbing and the output files are checked here)."""
    ds, spur_run = tiny_spur_run
    seg = tiny_run  # trained on another copy of the same phantom scans
    r = cli(
        "biometry", "--dataset", ds, "--weights", seg, "--spurs", spur_run, "--out", tmp_path / "b", "--split", "all"
    )
    assert r.code == 0, r.err
    for f in ("biometry_predicted.csv", "biometry_ground_truth.csv", "agreement.csv", "biometry.md"):
        assert (tmp_path / "b" / f).is_file()
    r = cli("biometry", "--dataset", ds, "--weights", seg, "--out", tmp_path / "c")
    assert r.code == 2 and "both --weights and --spurs" in r.err
    r = cli("evaluate", seg, ds, "--spurs", spur_run, "--out", tmp_path / "ev", "--split", "all", "--device", "cpu")
    assert r.code == 0, r.err
    assert (tmp_path / "ev" / "results.md").is_file() and (tmp_path / "ev" / "biometry" / "agreement.csv").is_file()


def _column(path, measure: str) -> dict[str, str]:
    return {r["case_id"]: r[measure] for r in read_csv(path)}


def test_spacing_overrides_the_dataset_with_predictions(tiny_run, tiny_spur_run, tmp_path, cli):
    """``--spacing`` with --dataset, --weights and --spurs (once dropped): twice the spacing, twice the lengths
    and four times the areas, for the same predictions and the same ground truth. (Not ACD: its search line
    is +-6 mm long, which a doubled 7 mm-wide phantom chamber overruns.) The spur wall check is off: its distances
    are in mm, so at twice the spacing it moves other spurs, and the predictions would differ."""
    ds, spur_run = tiny_spur_run
    sx, sy = load_dataset(ds).manifest.spacing_mm
    base = tmp_path / "base"
    res = run_biometry(base, dataset=ds, weights=tiny_run, spurs=spur_run, split="all", device="cpu", spur_wall_mm=0)
    assert res["mode"] == "predicted" and res["n_cases"] == 12
    r = cli(
        "biometry", "--dataset", ds, "--weights", tiny_run, "--spurs", spur_run, "--spacing", f"{2 * sx},{2 * sy}",
        "--out", tmp_path / "double", "--split", "all", "--device", "cpu", "--spur-wall", "0",
    )  # fmt: skip
    assert r.code == 0, r.err
    for table, measure, factor in (
        ("biometry_predicted.csv", "acw_mm", 2),
        ("biometry_ground_truth.csv", "acw_mm", 2),
        ("biometry_ground_truth.csv", "lv_mm", 2),
        ("biometry_ground_truth.csv", "ac_area_mm2", 4),
    ):
        a, b = _column(base / table, measure), _column(tmp_path / "double" / table, measure)
        assert a.keys() == b.keys() and len(a) == 12
        assert [k for k in a if a[k] == ""] == [k for k in b if b[k] == ""], (table, measure)
        measured = [k for k in a if a[k] != ""]
        assert measured, (table, measure)  # something to compare
        for k in measured:
            assert float(b[k]) == pytest.approx(factor * float(a[k]), rel=1e-9), (table, measure, k)
