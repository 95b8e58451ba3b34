"""The shipped models' measured figures as Markdown tables, read from their card (``model_card.json``).

The card is written by ``benchmarks/bench_model_card.py``; this script only formats it, so no figure is typed by
hand. It fills the blocks between ``<!-- model-card:NAME -->`` and ``<!-- /model-card:NAME -->`` in README.md
(``summary``) and docs/results/trust.md (``dice``, ``biometry``, ``flags``).

Usage:
    python docs/scripts/model_card_tables.py            # rewrite the blocks from the card
    python docs/scripts/model_card_tables.py --check    # exit 1 when a block differs from the card (tests run this)
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from pathlib import Path

from antseg.models.model_card import read_card

ROOT = Path(__file__).resolve().parents[2]
FILES = {"README.md": ("summary",), "docs/results/trust.md": ("dice", "biometry", "flags")}
STRUCTURES = ("anterior_chamber", "lens", "nucleus", "left_iris", "right_iris", "iris", "cornea")
MEASURES = {"acd_mm": "ACD", "acw_mm": "ACW", "lv_mm": "LV", "aod500_mm_left": "AOD500 left",
            "aod500_mm_right": "AOD500 right", "aod500_mm": "AOD500 (both sides)"}  # fmt: skip


def _f(v: object, digits: int) -> str:
    return "" if not isinstance(v, int | float) or math.isnan(float(v)) else f"{float(v):.{digits}f}"


def _label(e: dict) -> str:
    """The dataset's name without its parenthesised details (the pages describe the datasets)."""
    return str(e.get("data", "?")).split(" (")[0]


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def _table(head: list[str], rows: list[list[str]]) -> str:
    return "\n".join([_row(head), _row(["---"] * len(head)), *(_row(r) for r in rows)])


def _spurs(sp: dict) -> str:
    if not sp:
        return ""
    return f"{_f(sp.get('mean'), 1)} / {_f(sp.get('median'), 1)} / {_f(sp.get('max'), 0)} px"


def summary(card: dict) -> str:
    """The README's table: one row per measured dataset."""
    rows = []
    for e in card.get("measured", []):
        d, bio = e.get("dice", {}), e.get("biometry", {})
        rows.append([
            _label(e), str(e.get("scans", "")), _f(d.get("anterior_chamber"), 3), _f(d.get("iris"), 3),
            _f(d.get("cornea"), 3), _f(d.get("lens"), 3), _spurs(e.get("spurs_px", {})),
            _f(bio.get("acd_mm", {}).get("mae"), 3), _f(bio.get("aod500_mm", {}).get("mae"), 3),
        ])  # fmt: skip
    head = ["data", "scans", "Dice chamber", "Dice iris", "Dice cornea", "Dice lens",
            "spur error mean / median / max", "ACD MAE (mm)", "AOD500 MAE (mm)"]  # fmt: skip
    return _table(head, rows)


def dice(card: dict) -> str:
    """Dice per structure and the spur errors, per measured dataset."""
    head = ["data", "scans", *(s.replace("_", " ") for s in STRUCTURES), "spurs: mean / median / max", "missed"]
    rows = []
    for e in card.get("measured", []):
        d, sp = e.get("dice", {}), e.get("spurs_px", {})
        missed = f"{sp.get('missed', '')} of {sp.get('n', '')}" if sp else ""
        rows.append([_label(e), str(e.get("scans", "")), *(_f(d.get(s), 3) for s in STRUCTURES), _spurs(sp), missed])
    return _table(head, rows)


def biometry(card: dict) -> str:
    """Agreement of each measure with the reference, per measured dataset."""
    head = ["data", "measure", "n", "MAE (mm)", "bias (mm)", "ICC", "status"]
    rows = []
    for e in card.get("measured", []):
        for key, name in MEASURES.items():
            m = e.get("biometry", {}).get(key)
            if m is None:
                continue
            status = ", ".join(f"{k} {v}" for k, v in sorted(m.get("status", {}).items()))
            rows.append([_label(e), name, str(m.get("n", "")), _f(m.get("mae"), 3), _f(m.get("bias"), 3),
                         _f(m.get("icc"), 3), status])  # fmt: skip
    return _table(head, rows)


def flags(card: dict) -> str:
    """Whether the quality checks flag the scans whose ACD is off."""
    head = [
        "data",
        "ACD off by more than",
        "such scans",
        "flagged",
        "sensitivity",
        "other scans",
        "flagged (false alarms)",
    ]
    rows = []
    for e in card.get("measured", []):
        f = e.get("flags")
        if not f:
            continue
        rows.append([_label(e), f"{f.get('threshold_mm', 0.2):g} mm", str(f.get("bad", "")),
                     str(f.get("flagged_bad", "")), _f(f.get("sensitivity"), 2), str(f.get("good", "")),
                     f"{f.get('flagged_good', '')} ({_f(f.get('false_alarm'), 2)})"])  # fmt: skip
    return _table(head, rows)


BLOCKS = {"summary": summary, "dice": dice, "biometry": biometry, "flags": flags}


def render(text: str, names: tuple[str, ...], card: dict) -> str:
    """``text`` with each named block replaced by the table made from ``card``."""
    for name in names:
        pattern = re.compile(rf"(<!-- model-card:{name} -->\n)(?:.*?\n)?(<!-- /model-card:{name} -->)", re.S)
        if not pattern.search(text):
            raise ValueError(f"no <!-- model-card:{name} --> block")
        text = pattern.sub(lambda m: m.group(1) + BLOCKS[name](card) + "\n" + m.group(2), text)  # noqa: B023
    return text


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 when a block is out of date, change nothing")
    args = ap.parse_args(argv)
    card, stale = read_card(), []
    for rel, names in FILES.items():
        path = ROOT / rel
        old = path.read_text(encoding="utf-8")
        new = render(old, names, card)
        if new != old:
            stale.append(rel)
            if not args.check:
                path.write_text(new, encoding="utf-8")
    if args.check and stale:
        print("out of date with model_card.json: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
