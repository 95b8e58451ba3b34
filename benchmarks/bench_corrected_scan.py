"""Does it matter which scan the user corrects? ``antseg adapt --labels`` with each chosen scan as the one corrected.

Usage:
    python benchmarks/bench_corrected_scan.py LABELLED_DATASET [--scans 1,4,6,8] [--seeds 0,1] [--budget 300]
        [--route dataset|labelme [--keep-unchanged]] [--out results.json]

For each scan (1-based position in ``cases.csv``) and seed: ``antseg adapt default SCANS --labels THAT_SCAN`` (no
rounds, the default), scored on the dataset's other scans with the per-scan pipeline (Dice per structure, spur
error as reported, after the angle-wall check), beside the shipped pair on the same scans. The row also says
whether the fine-tuned spur model was kept (``labelled.spur_check``) and how long adaptation took. Measured on the
real development eye, the scan chosen moved the spurs of the others from 10 px to 260 px before the spur model was
fine-tuned at the adaptation's rate and checked on the user's other scans (``docs/results/adaptation.md``).

``--route labelme`` follows the documented loop instead of handing adaptation the corrected scan alone:
``antseg label default SCANS`` writes pre-labels for every scan, the chosen scan's JSON gets the labels (its
polygons of the labelled structures and its spur points; structures the labels do not draw keep their
pre-label), the others stay as written, and ``adapt --labels`` is given the whole LabelMe folder, as a user who
corrected one scan of many gives it (``--keep-unchanged``: adaptation trains on the scans left as written too, as
it did before it left them out). The row says how many scans adaptation fine-tuned on.

Nothing is written but ``--out``; data and adapted models live in a temporary folder, deleted after.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).parent))
from bench_adapt import _adapt, _images, _subset, _summary  # noqa: E402
from bench_zero_shot import evaluate  # noqa: E402

from antseg.data.canonical import load_dataset  # noqa: E402

SPUR = "spur_wall_error_px"


def labelme_route(data: Path, images: Path, corrected: str, tmp: Path, spacing) -> Path:
    """The LabelMe folder of ``antseg label default IMAGES`` with ``corrected``'s JSON given the dataset's labels."""
    from antseg.adaptation.labelling import GROUP, prelabel
    from antseg.data.exporters import run_exporter
    from antseg.scan.config import ScanConfig

    pre = tmp / "prelabels-all"
    if not pre.exists():
        prelabel("default", [images], pre, spurs="default", config=ScanConfig(spacing=tuple(spacing)))
    out = tmp / f"labels-{corrected}"
    shutil.copytree(pre, out)
    truth = tmp / f"truth-{corrected}"
    run_exporter("labelme", _subset(data, tmp, {corrected}, f"truth-ds-{corrected}"), truth, image_format="png")
    labelled = json.loads(next(truth.rglob(f"{corrected}.json")).read_text())["shapes"]
    drawn = {sh["label"] for sh in labelled}
    path = out / "labelme" / GROUP / "Annotated Images" / f"{corrected}.json"
    doc = json.loads(path.read_text())
    doc["shapes"] = [sh for sh in doc["shapes"] if sh["label"] not in drawn] + labelled
    path.write_text(json.dumps(doc))
    return out / "labelme"


def run(data: Path, scans: list[int], seeds: list[int], budget: float, tmp: Path, route: str = "dataset",
        keep_unchanged: bool = False) -> list[dict]:  # fmt: skip
    """One row per (scan, seed): the scores of ``adapt --labels`` with that scan and of the shipped pair."""
    ds = load_dataset(data)
    ids = [c.case_id for c in ds.cases]
    spacing = ds.manifest.spacing_mm
    images = _images(data, tmp / "scans")
    rows = []
    for k in scans:
        if not 1 <= k <= len(ids):
            raise SystemExit(f"--scans: {k} is not a scan of {data} (1 to {len(ids)})")
        corrected = ids[k - 1]
        rest = _subset(data, tmp, set(ids) - {corrected}, f"rest{k}")
        if route == "labelme":
            labels = labelme_route(data, images, corrected, tmp, spacing)
        else:
            labels = _subset(data, tmp, {corrected}, f"labels{k}")
        zero = _summary(evaluate(rest, "default", "default"))
        for seed in seeds:
            out, rec = _adapt(images, tmp / f"run{k}_{seed}", budget, spacing, seed, labels=labels, rounds=0,
                              keep_unchanged=keep_unchanged)  # fmt: skip
            check = rec["labelled"].get("spur_check", {})
            used = rec["labelled"]["scans"]
            rows.append({"scan": k, "case": corrected, "seed": seed, "route": route, "labels_used": used,
                         "zero-shot": zero,
                         "adapted": _summary(evaluate(rest, str(out), str(out))), "spur_kept": check.get("kept"),
                         "spur_check": check.get("why", ""), "wall_s": rec["wall_s"]})  # fmt: skip
    return rows


def table(rows: list[dict]) -> str:
    """The rows as a Markdown table, then the mean and the worst spur error over them."""
    keys = [k for k in ("dice_anterior_chamber", "dice_iris", "dice_cornea", SPUR) if k in rows[0]["adapted"]]
    head = "| scan (seed, route, scans fine-tuned on) | " + " | ".join(f"{k} zero-shot / adapted" for k in keys)
    out = [head + " | spur model | s |", "|---|" + "---|" * (len(keys) + 2)]
    for r in rows:
        cells = [f"{r['zero-shot'].get(k, float('nan')):.3f} / {r['adapted'].get(k, float('nan')):.3f}" for k in keys]
        kept = {True: "kept", False: "not kept", None: "not checked"}[r["spur_kept"]]
        row = f"| {r['scan']} ({r['seed']}, {r['route']}, {r['labels_used']} used) | "
        out.append(row + " | ".join(cells) + f" | {kept} | {r['wall_s']:.0f} |")
    if SPUR in keys:
        z = [r["zero-shot"][SPUR] for r in rows]
        a = [r["adapted"][SPUR] for r in rows]
        out.append(f"\nspurs over {len(rows)} runs: zero-shot mean {np.mean(z):.1f} px, adapted mean "
                   f"{np.mean(a):.1f} px, worst {max(a):.1f} px")  # fmt: skip
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="A labelled canonical dataset (scans, masks and spurs).")
    ap.add_argument("--scans", default="1,4,6,8", help="The scans to correct, one at a time (1-based).")
    ap.add_argument("--seeds", default="0", help="Seeds of each adaptation.")
    ap.add_argument("--budget", type=float, default=300.0, help="Adaptation budget, seconds.")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--route",
        choices=("dataset", "labelme"),
        default="dataset",
        help="dataset: adapt is given the corrected scan alone; labelme: the whole folder 'antseg label' "
        "wrote, one scan corrected (the documented loop).",
    )
    ap.add_argument(
        "--keep-unchanged",
        action="store_true",
        help="With --route labelme: adaptation also fine-tunes on the pre-labels left as written.",
    )
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    scans, seeds = ([int(v) for v in s.split(",") if v] for s in (args.scans, args.seeds))
    with tempfile.TemporaryDirectory(prefix="antseg-corrected-bench-") as tmp:
        rows = run(args.data, scans, seeds, args.budget, Path(tmp), args.route, args.keep_unchanged)
    print(table(rows))
    if args.out:
        args.out.write_text(json.dumps(rows, indent=2, default=float))


if __name__ == "__main__":
    main()
