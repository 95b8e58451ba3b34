"""Biometry from tiny trained models: the output files, the mode checks, and --spacing in every mode."""

from __future__ import annotations

import pytest

from antseg.data.canonical import load_dataset
from antseg.io.tables import read_csv
from antseg.scan.biometry import run_biometry


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
    # --spurs is scored as the spur model of a run folder is: its table printed and written
    assert "| Left |" in r.out and "| Right |" in r.out
    assert (tmp_path / "ev" / "landmarks" / "landmarks_summary.csv").is_file()


def _column(path, measure: str) -> dict[str, str]:
    return {r["case_id"]: r[measure] for r in read_csv(path)}


def test_spacing_overrides_the_dataset_with_predictions(tiny_spur_run, tmp_path, cli):
    """``--spacing`` with --dataset, --weights and --spurs (once dropped): 1.5 times the spacing, 1.5 times the
    lengths and 2.25 times the areas (to the tables' precision), for the same predictions and the same ground
    truth. (Twice the spacing makes the phantom's cornea 1.1 mm thick, which the anatomy checks refuse as a
    magnified or mis-scaled scan.)
    The shipped models, whose masks pass the pipeline's anatomy checks (the tiny test models' do not, so they
    get no numbers at all). The spur wall check is off: its distances are in mm, so at twice the spacing it
    moves other spurs."""
    ds, _ = tiny_spur_run
    tiny_run = spur_run = "default"
    sx, sy = load_dataset(ds).manifest.spacing_mm
    base = tmp_path / "base"
    res = run_biometry(base, dataset=ds, weights=tiny_run, spurs=spur_run, split="all", device="cpu", spur_wall_mm=0)
    assert res["mode"] == "predicted" and res["n_cases"] == 12
    r = cli(
        "biometry", "--dataset", ds, "--weights", tiny_run, "--spurs", spur_run, "--spacing", f"{1.5 * sx},{1.5 * sy}",
        "--out", tmp_path / "double", "--split", "all", "--device", "cpu", "--spur-wall", "0",
    )  # fmt: skip
    assert r.code == 0, r.err
    for table, measure, factor in (
        ("biometry_predicted.csv", "acw_mm", 1.5),
        ("biometry_predicted.csv", "acd_mm", 1.5),
        ("biometry_ground_truth.csv", "acw_mm", 1.5),
        ("biometry_ground_truth.csv", "lv_mm", 1.5),
        ("biometry_ground_truth.csv", "ac_area_mm2", 2.25),
    ):
        a, b = _column(base / table, measure), _column(tmp_path / "double" / table, measure)
        assert a.keys() == b.keys() and len(a) == 12
        assert [k for k in a if a[k] == ""] == [k for k in b if b[k] == ""], (table, measure)
        measured = [k for k in a if a[k] != ""]
        assert measured, (table, measure)  # something to compare
        for k in measured:
            assert float(b[k]) == pytest.approx(factor * float(a[k]), abs=factor * 1e-3), (table, measure, k)
