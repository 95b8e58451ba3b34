"""The shipped models' card: what they are and what they measure, in ONE file beside the weights (package data
of :mod:`antseg.pretrained`).

``model_card.json`` is written by ``benchmarks/bench_model_card.py`` (the script that measures the figures) and
read by everything that quotes them: the report's "trained on synthetic data" box, ``antseg info default`` and
the documentation's results page. No figure is typed anywhere else.

Layout::

    {"card_version": 1, "models": {"segmentation": {...}, "landmarks": {...}},   # file, sha256, training
     "measured": [ {"name", "data", "kind": "synthetic"|"real", "scans", "date", "script", "settings",
                    "dice": {structure: mean}, "spurs_px": {"mean", "median", "max", "n"},
                    "biometry": {measure: {"mae", "bias", "icc", "n"}},
                    "flags": {"sensitivity", "false_alarm", "bad", "good"}}, ... ]}
"""

from __future__ import annotations

import json
import math
from importlib import resources
from pathlib import Path

from antseg.models.shipped import PACKAGE

CARD = "model_card.json"
CARD_VERSION = 1


def card_path() -> Path:
    return Path(str(resources.files(PACKAGE) / CARD))


def read_card(path: str | Path | None = None) -> dict:
    """The card (an empty card when the file is missing or unreadable)."""
    try:
        card = json.loads(Path(path or card_path()).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"card_version": CARD_VERSION, "models": {}, "measured": []}
    return card if isinstance(card, dict) else {"card_version": CARD_VERSION, "models": {}, "measured": []}


def _f(v: object, digits: int) -> str:
    return "n/a" if not isinstance(v, int | float) or math.isnan(float(v)) else f"{float(v):.{digits}f}"


def entry_summary(e: dict) -> str:
    """One measured entry as a sentence."""
    parts = []
    dice = e.get("dice") or {}
    if dice:
        parts.append("Dice " + ", ".join(f"{_f(v, 2)} {k.replace('_', ' ')}" for k, v in dice.items()))
    sp = e.get("spurs_px") or {}
    if sp:
        parts.append(f"scleral spurs {_f(sp.get('mean'), 1)} px mean error ({_f(sp.get('max'), 0)} px at worst)")
    bio = e.get("biometry") or {}
    for m, label in (("acd_mm", "ACD"), ("aod500_mm", "AOD500")):
        if m in bio:
            parts.append(f"{label} mean abs error {_f(bio[m].get('mae'), 3)} mm")
    flags = e.get("flags") or {}
    if flags.get("bad"):
        parts.append(f"{flags.get('flagged_bad', 0)} of {flags['bad']} scans with ACD off by more than "
                     f"{flags.get('threshold_mm', 0.2):g} mm flagged")  # fmt: skip
    return f"{e.get('data', 'unnamed data')} ({e.get('scans', '?')} scans): " + "; ".join(parts) + "."


def card_summary(card: dict | None = None) -> str:
    """What the card says the shipped models measure, as sentences for a report or a terminal."""
    card = card if card is not None else read_card()
    entries = card.get("measured") or []
    if not entries:
        return "No measured figures are recorded for these models."
    real = [e for e in entries if e.get("kind") == "real"]
    text = " ".join("Measured zero-shot on " + entry_summary(e) for e in real or entries)
    return text + " Other eyes and devices may do worse."
