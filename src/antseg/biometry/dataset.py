"""Biometry over a dataset (ground truth) or over predictions: CSV rows, flags, summaries, agreement."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.anatomy import MEASURES, SIDES
from antseg.biometry.agreement import agreement
from antseg.biometry.measure import measure
from antseg.biometry.overlay import draw_biometry
from antseg.biometry.units import rounded
from antseg.data.canonical import load_dataset
from antseg.errors import AntsegInputError
from antseg.io import meta_tables
from antseg.io.atomic import atomic_dir
from antseg.io.images import write_png
from antseg.io.output_folder import existing_paths
from antseg.io.tables import write_csv, write_json


@dataclass
class AngleThresholds:
    """An angle is flagged narrow when AOD500 or TISA500 is below these (mm, mm2)."""

    aod500_mm: float = 0.15
    tisa500_mm2: float = 0.05

    def __post_init__(self) -> None:
        """One check for every command that flags angles (report, biometry, the Python API)."""
        self.aod500_mm, self.tisa500_mm2 = checks.narrow_thresholds(self.aod500_mm, self.tisa500_mm2)


def flag_angles(v: dict[str, float], th: AngleThresholds) -> dict[str, str]:
    out = {}
    for s in SIDES:
        aod, tisa = v.get(f"aod500_mm_{s}", math.nan), v.get(f"tisa500_mm2_{s}", math.nan)
        if math.isnan(aod) and math.isnan(tisa):
            out[f"narrow_angle_{s}"] = ""
        else:
            out[f"narrow_angle_{s}"] = "yes" if (aod < th.aod500_mm or tisa < th.tisa500_mm2) else "no"
    return out


def measurement_row(values: dict[str, float], why: dict[str, str], th: AngleThresholds, **ids: str) -> dict:
    """One CSV row: identifiers, every measure, the narrow-angle flags and why any value is empty."""
    reasons = "; ".join(f"{k}: {r}" for k, r in why.items())
    shown = {k: rounded(k, v) for k, v in values.items()}
    return {**ids, **shown, **flag_angles(values, th), "reasons": reasons}


def group_summary(rows: list[dict]) -> list[dict]:
    """mean ± sd (and n) of every measure per diagnosis group, and over all."""
    out = []
    groups = sorted({r["group"] for r in rows}) + ["all"]
    for g in groups:
        rs = [r for r in rows if g == "all" or r["group"] == g]
        row = {"group": g or "-", "n": len(rs)}
        for m in MEASURES:
            vals = np.array([r[m] for r in rs], float)
            vals = vals[np.isfinite(vals)]
            row[f"{m}_mean"] = float(vals.mean()) if len(vals) else math.nan
            row[f"{m}_sd"] = float(vals.std(ddof=1)) if len(vals) > 1 else math.nan
        out.append(row)
    return out


def read_reference(path: Path) -> dict[str, dict[str, float]]:
    """A dataset's reference values: case id -> measure -> value (NaN where empty)."""
    return meta_tables.read_reference(path, MEASURES, "reference biometry").rows


def dataset_biometry(
    dataset: str | Path, out: str | Path, spacing: tuple[float, float] | None = None, split: str | None = None,
    thresholds: AngleThresholds | None = None, overlays: bool = True, overwrite: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict:  # fmt: skip
    """Measure the ground-truth masks and spurs of a canonical dataset.

    Writes ``biometry.csv`` (one row per scan; ``reasons`` says why a value is empty), ``by_group.csv``,
    ``agreement.csv`` when the dataset carries reference values, ``summary.json`` and one
    ``overlays/<case>.png`` per scan.
    """
    ds = load_dataset(dataset)
    th = thresholds or AngleThresholds()
    cases = [c for c in ds.cases if split is None or c.split == split]
    if not cases:
        raise AntsegInputError(ds.root, f"no cases{'' if split is None else f' in split {split!r}'}")
    rows = []
    with atomic_dir(out, overwrite=overwrite, inputs=existing_paths(dataset)) as tmp:
        if overlays:
            (tmp / "overlays").mkdir()
        for i, c in enumerate(cases):
            sp = spacing or ds.spacing(c)
            if sp is None:
                raise AntsegInputError(ds.root, f"case {c.case_id}: pixel spacing unknown (give --spacing)")
            masks = dict(zip(ds.structures, ds.load_masks(c), strict=True))
            v, why = measure(masks, c.landmarks, sp)
            rows.append(measurement_row(v, why, th, case_id=c.case_id, group=c.group))
            if overlays:
                write_png(
                    tmp / "overlays" / f"{c.case_id}.png",
                    draw_biometry(ds.load_image(c, grayscale=True), masks, c.landmarks, v, sp),
                )
            if progress:
                progress(i + 1, len(cases))
        write_csv(tmp / "biometry.csv", rows, blank_nan=True)
        summary = group_summary(rows)
        write_csv(tmp / "by_group.csv", summary)
        result = {"dataset": str(ds.root), "n_cases": len(rows), "by_group": summary, "thresholds": vars(th)}
        if ds.manifest.reference_biometry:
            ref = read_reference(ds.root / ds.manifest.reference_biometry)
            agree = []
            for m in MEASURES:
                pairs = [(r[m], ref[r["case_id"]].get(m, math.nan)) for r in rows if r["case_id"] in ref]
                if pairs:
                    a = agreement(np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs]))
                    agree.append({"measure": m, **a})
            write_csv(tmp / "agreement.csv", agree)
            result["agreement"] = agree
        write_json(tmp / "summary.json", result)
    return result
