"""Numbers a clinician can trust: how far the per-scan pipeline's measures lie from the truth, and whether the
quality checks flag the scans that are off.

For each labelled canonical dataset (the real development eye, or phantoms with exact biometry) every scan goes
through :class:`antseg.scan.ScanPipeline` as ``predict``, ``biometry`` and ``report`` run it. The reference is
the dataset's ``biometry.csv`` (phantoms: analytic truth) or the measures of its labelled masks and spurs.

Printed per dataset: MAE, bias, ICC and worst error of ACD, ACW and AOD500 (all scans, and the scans whose status
is ``ok``); how many measures are ``ok`` / ``check`` / ``not measured``; the *sensitivity* (share of scans whose
ACD is off by more than ``--bad`` mm that get a status other than ok) and the *false alarms* (share of the other
scans flagged).

``--plant`` also plants the failures seen on real scans into the model's output (after the network, before the
pipeline's own steps), one kind per scan in turn: a hole on the ACD line, chamber islands, a lens blob in the
chamber, swapped irises; and reports the same table per kind. ``--no-repair`` / ``--no-mirror`` /
``--no-bridge`` switch pipeline steps off for comparison.

Usage:
    python benchmarks/bench_trust.py DATASET [DATASET ...] [--seg default] [--spurs default] [--plant]
        [--no-repair] [--no-mirror] [--no-bridge] [--bad 0.2] [--limit N] [--out results.json] [--threads 2]
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from antseg.biometry.agreement import agreement
from antseg.biometry.measure import measure
from antseg.data.canonical import load_dataset
from antseg.io.tables import read_csv
from antseg.metrics.segmentation import dice_iou
from antseg.scan import CHECK, NOT_MEASURED, OK, ScanConfig, ScanPipeline

MEASURES = ("acd_mm", "acw_mm", "aod500_mm_left", "aod500_mm_right", "lv_mm")
DEFECTS = ("none", "hole", "islands", "lens blob", "swapped irises")


class PlantingPipeline(ScanPipeline):
    """The pipeline with a failure planted into the network's probabilities (both views)."""

    defect = "none"

    def probabilities(self, image, grey):
        own, flipped = super().probabilities(image, grey)
        return plant(own, self.structures, self.defect), None if flipped is None else plant(
            flipped, self.structures, self.defect
        )


def plant(probs: np.ndarray, names: list[str], defect: str) -> np.ndarray:
    """``probs`` with one kind of failure seen on real scans (see the module docstring)."""
    if defect == "none" or "anterior_chamber" not in names:
        return probs
    p = probs.copy()
    ac = names.index("anterior_chamber")
    m = p[ac] > 0.5
    if not m.any():
        return p
    rows, cols = np.nonzero(m)
    cx, top, bottom = int(cols.mean()), int(rows.min()), int(rows.max())
    h, w = m.shape
    yy, xx = np.mgrid[:h, :w]
    if defect == "hole":  # the chamber missing on the ACD line, as under the reflection band
        r = max(3, (bottom - top) // 4)
        disc = (xx - cx) ** 2 + (yy - (top + bottom) // 2) ** 2 < r * r
        p[ac][disc] = 0.0
    elif defect == "islands":  # chamber painted in the lens and above the cornea
        for y, x in ((min(h - 5, bottom + (h - bottom) // 2), cx), (max(2, top // 3), cx + w // 6)):
            p[ac][(xx - x) ** 2 + (yy - y) ** 2 < 100] = 1.0
    elif defect == "lens blob" and "lens" in names:  # lens painted inside the chamber
        blob = (xx - cx) ** 2 / 4 + (yy - (top + bottom) // 2) ** 2 < ((bottom - top) // 5) ** 2
        p[names.index("lens")][blob] = 1.0
        p[ac][blob] = 0.0
    elif defect == "swapped irises" and {"left_iris", "right_iris"} <= set(names):
        li, ri = names.index("left_iris"), names.index("right_iris")
        p[[li, ri]] = p[[ri, li]]
    return p


def reference(ds, case) -> dict[str, float]:
    """Analytic biometry when the dataset has it, else the measures of the labelled masks and spurs."""
    table = getattr(ds, "_bench_reference", None)
    if table is None:
        path = ds.root / "biometry.csv"
        table = {r["case_id"]: r for r in read_csv(path)} if path.is_file() else {}
        ds._bench_reference = table
    if case.case_id in table:
        row = table[case.case_id]
        return {m: float(row[m]) if row.get(m) not in ("", None) else math.nan for m in MEASURES}
    masks = dict(zip(ds.structures, ds.load_masks(case), strict=True))
    values, _ = measure(masks, case.landmarks, ds.spacing(case))
    return {m: values[m] for m in MEASURES}


def evaluate(data: Path, pipe: ScanPipeline, plant_defects: bool, bad: float, limit: int | None) -> dict:
    ds = load_dataset(data)
    cases = ds.cases[:limit] if limit else ds.cases
    rows = []
    for i, c in enumerate(cases):
        defect = DEFECTS[i % len(DEFECTS)] if plant_defects else "none"
        if isinstance(pipe, PlantingPipeline):
            pipe.defect = defect
        res = pipe.run(ds.load_image(c), name=c.case_id, spacing=ds.spacing(c))
        ref = reference(ds, c)
        row = {"case_id": c.case_id, "defect": defect, "in_domain": res.in_domain}
        truth = dict(zip(ds.structures, ds.load_masks(c), strict=True))
        for s in ds.structures:
            if s in res.structures:
                row[f"dice_{s}"] = dice_iou(res.mask(s), truth[s])[0]
        if {"left_iris", "right_iris"} <= set(ds.structures) & set(res.structures):
            both = res.mask("left_iris") | res.mask("right_iris")
            row["dice_iris"] = dice_iou(both, truth["left_iris"] | truth["right_iris"])[0]
        for n, p in res.spurs.items():
            at = c.landmarks.get(n)
            if at is not None:
                row[f"spur_err_{n}"] = math.nan if p["x"] is None else math.hypot(p["x"] - at[0], p["y"] - at[1])
        for m in MEASURES:
            meas = res.measures.get(m)
            row[m] = meas.value if meas else math.nan
            row[f"{m}_ref"] = ref[m]
            row[f"{m}_status"] = meas.status if meas else NOT_MEASURED
            row[f"{m}_reasons"] = "; ".join(meas.reasons) if meas else ""
        rows.append(row)
    return {"dataset": str(data), "rows": rows, "summary": summarise(rows, bad)}


def summarise(rows: list[dict], bad: float) -> dict:
    out: dict = {"n": len(rows)}
    keys = sorted({k for r in rows for k in r if k.startswith("dice_")})
    out["dice"] = {k[5:]: float(np.nanmean([r.get(k, math.nan) for r in rows])) for k in keys}
    errs = np.array([v for r in rows for k, v in r.items() if k.startswith("spur_err_")], float)
    found = errs[np.isfinite(errs)]
    if len(errs):
        out["spurs_px"] = {"mean": float(found.mean()) if len(found) else math.nan,
                           "median": float(np.median(found)) if len(found) else math.nan,
                           "max": float(found.max()) if len(found) else math.nan, "n": int(len(found)),
                           "missed": int((~np.isfinite(errs)).sum())}  # fmt: skip
    for m in MEASURES:
        v = np.array([r[m] for r in rows], float)
        ref = np.array([r[f"{m}_ref"] for r in rows], float)
        ok = np.array([r[f"{m}_status"] == OK for r in rows])
        out[m] = {
            "all": agreement(v, ref), "ok": agreement(v[ok], ref[ok]),
            "status": dict(Counter(r[f"{m}_status"] for r in rows if math.isfinite(r[f"{m}_ref"]))),
        }  # fmt: skip
    err = np.array([abs(r["acd_mm"] - r["acd_mm_ref"]) for r in rows], float)
    flagged = np.array([r["acd_mm_status"] != OK for r in rows])
    known = np.isfinite(np.array([r["acd_mm_ref"] for r in rows], float))
    is_bad = known & ((err > bad) | ~np.isfinite(err))
    good = known & ~is_bad
    out["flags"] = {
        "threshold_mm": bad, "bad": int(is_bad.sum()), "flagged_bad": int((is_bad & flagged).sum()),
        "good": int(good.sum()), "flagged_good": int((good & flagged).sum()),
        "sensitivity": float((is_bad & flagged).sum() / is_bad.sum()) if is_bad.any() else math.nan,
        "false_alarm": float((good & flagged).sum() / good.sum()) if good.any() else math.nan,
    }  # fmt: skip
    return out


def _f(v, d=3) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.{d}f}"


def print_summary(name: str, s: dict) -> None:
    print(f"\n## {name} ({s['n']} scans)")
    if s.get("dice"):
        print("Dice: " + ", ".join(f"{k} {v:.3f}" for k, v in s["dice"].items()))
    if s.get("spurs_px"):
        sp = s["spurs_px"]
        print(f"spurs: mean {_f(sp['mean'], 1)} / median {_f(sp['median'], 1)} / max {_f(sp['max'], 0)} px "
              f"({sp['n']} found, {sp['missed']} missed)")  # fmt: skip
    print("| measure | MAE all | bias | ICC | max | MAE ok | n ok | ok / check / not measured |")
    print("|---|---|---|---|---|---|---|---|")
    for m in MEASURES:
        a, o, st = s[m]["all"], s[m]["ok"], s[m]["status"]
        print(f"| {m} | {_f(a.get('mean_abs_error'))} | {_f(a.get('mean_error'))} | {_f(a.get('icc'))} | "
              f"{_f(a.get('max_abs_error'))} | {_f(o.get('mean_abs_error'))} | {o.get('n', 0)} | "
              f"{st.get(OK, 0)} / {st.get(CHECK, 0)} / {st.get(NOT_MEASURED, 0)} |")  # fmt: skip
    f = s["flags"]
    print(f"ACD off by > {f['threshold_mm']} mm: {f['flagged_bad']} of {f['bad']} flagged (sensitivity "
          f"{_f(f['sensitivity'], 2)}); good scans flagged: {f['flagged_good']} of {f['good']} (false alarms "
          f"{_f(f['false_alarm'], 2)})")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", type=Path, nargs="+", help="Labelled canonical datasets (never copied).")
    ap.add_argument("--seg", default="default")
    ap.add_argument("--spurs", default="default")
    ap.add_argument("--plant", action="store_true", help="Plant failures into the model output (see above).")
    ap.add_argument("--no-repair", action="store_true")
    ap.add_argument("--no-mirror", action="store_true")
    ap.add_argument("--no-bridge", action="store_true")
    ap.add_argument("--bad", type=float, default=0.2, help="ACD error (mm) that makes a scan bad (default 0.2).")
    ap.add_argument("--limit", type=int, default=None, help="Only the first N scans of each dataset.")
    ap.add_argument("--verbose", action="store_true", help="Print every scan.")
    ap.add_argument("--out", type=Path, default=None, help="Write rows and summaries as JSON.")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = replace(ScanConfig(), repair=not args.no_repair, mirror=not args.no_mirror,
                  bridge_reflection=not args.no_bridge)  # fmt: skip
    pipe = PlantingPipeline(args.seg, args.spurs, cfg, "cpu")
    results = []
    for data in args.datasets:
        res = evaluate(data, pipe, args.plant, args.bad, args.limit)
        results.append(res)
        if args.verbose:
            for r in res["rows"]:
                print(r["case_id"], r["defect"], " ".join(
                    f"{m}={_f(r[m])}/{_f(r[m + '_ref'])}:{r[m + '_status']}" for m in MEASURES[:2]))  # fmt: skip
        print_summary(f"{data} (repair {cfg.repair}, mirror {cfg.mirror}, bridge {cfg.bridge_reflection})",
                      res["summary"])  # fmt: skip
        if args.plant:
            for d in DEFECTS:
                sub = [r for r in res["rows"] if r["defect"] == d]
                if sub:
                    print_summary(f"planted: {d}", summarise(sub, args.bad))
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, default=str))


if __name__ == "__main__":
    main()
