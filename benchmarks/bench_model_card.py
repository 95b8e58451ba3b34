"""Measure the shipped default models and write their card, ``src/antseg/pretrained/model_card.json``: the one
file the report, ``antseg info default`` and the docs quote (see :mod:`antseg.models.model_card`).

Each entry runs :mod:`bench_trust` (the per-scan pipeline as ``predict``/``biometry``/``report`` run it) on one
labelled dataset: a fresh realistic phantom made here (exact truth, a seed the models never saw) and every
``--real NAME=PATH`` given (look-and-measure-only real data: only the figures are stored, nothing else).

Usage:
    python benchmarks/bench_model_card.py [--real "8 real CASIA SS-1000 scans of one eye (AGE challenge)=PATH"]
        [--phantom-n 32] [--out src/antseg/pretrained/model_card.json] [--dry-run]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import tempfile
from pathlib import Path

import torch
from bench_trust import evaluate

from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.io.digest import file_sha256
from antseg.models import read_checkpoint
from antseg.models.model_card import CARD_VERSION, card_path
from antseg.models.shipped import FILES, checkpoint
from antseg.scan import ScanConfig, ScanPipeline

SCRIPT = "benchmarks/bench_model_card.py"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def _entry(name: str, kind: str, data: Path, pipe: ScanPipeline, settings: str) -> dict:
    res = evaluate(data, pipe, plant_defects=False, bad=0.2, limit=None)
    s = res["summary"]
    bio = {}
    for m in ("acd_mm", "acw_mm", "lv_mm", "aod500_mm_left", "aod500_mm_right"):
        a = s[m]["all"]
        if a.get("n"):
            bio[m] = {"mae": a["mean_abs_error"], "bias": a["mean_error"], "icc": a["icc"], "n": a["n"],
                      "status": s[m]["status"]}  # fmt: skip
    both = [bio[k] for k in ("aod500_mm_left", "aod500_mm_right") if k in bio]
    if both:
        n = sum(b["n"] for b in both)
        bio["aod500_mm"] = {"mae": sum(b["mae"] * b["n"] for b in both) / n, "n": n}
    return {
        "name": name, "data": name, "kind": kind, "scans": s["n"], "date": dt.date.today().isoformat(),
        "script": SCRIPT, "commit": _commit(), "settings": settings, "dice": s.get("dice", {}),
        "spurs_px": s.get("spurs_px", {}), "biometry": bio, "flags": s["flags"],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--real", action="append", default=[], help="NAME=PATH of a labelled real canonical dataset.")
    ap.add_argument("--phantom-n", type=int, default=32)
    ap.add_argument("--phantom-seed", type=int, default=101)
    ap.add_argument("--out", type=Path, default=card_path())
    ap.add_argument("--dry-run", action="store_true", help="Print the card instead of writing it.")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    pipe = ScanPipeline("default", "default", ScanConfig(), "cpu")
    settings = "the per-scan pipeline's defaults (mirror pass, repairs, reflection bridge, spur wall 0.3 mm)"
    entries = []
    with tempfile.TemporaryDirectory(prefix="antseg-card-") as tmp:
        cfg = AsoctPhantomConfig(n=args.phantom_n, seed=args.phantom_seed, style="realistic",
                                 devices=("ss1000", "casia2", "narrow"))  # fmt: skip
        ph = generate_asoct_dataset(Path(tmp) / "phantom", cfg)
        name = f"a new realistic phantom (seed {args.phantom_seed}; SS-1000, CASIA2 and narrow-field geometries)"
        entries.append(_entry(name, "synthetic", ph, pipe, settings))
    for item in args.real:
        name, _, path = item.rpartition("=")
        entries.append(_entry(name or Path(path).name, "real", Path(path), pipe, settings))
    models = {}
    for task, file in FILES.items():
        path = checkpoint(task)
        meta = read_checkpoint(path).meta
        models[task] = {"file": file, "sha256": file_sha256(path), "synthetic": bool(meta.synthetic),
                        "dataset": meta.dataset, "trained_by": "python -m antseg.pretrained.train"}  # fmt: skip
    card = {"card_version": CARD_VERSION, "models": models, "measured": entries}
    text = json.dumps(card, indent=1, default=float) + "\n"
    if args.dry_run:
        print(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
