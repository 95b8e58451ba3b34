"""Patient-level, stratified, seeded splits (train/val/test) and cross-validation folds.

Cases of one patient (one video for surgical data) always land in the same part. Patients are
shuffled with the seed within their diagnosis group and dealt to the part furthest below its target
share, both within the group and overall, so every group's proportions stay close to the ratios.
"""

from __future__ import annotations

import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antseg import checks
from antseg.data.canonical import CanonicalDataset, load_dataset
from antseg.data.schema import Case
from antseg.errors import AntsegInputError

PARTS = ("train", "val", "test")


@dataclass
class SplitConfig:
    """Split settings.

    Attributes:
        ratios: train, val, test fractions summing to 1 (:func:`antseg.checks.ratios`; a zero part stays empty).
        folds: > 1: the non-test patients are dealt into this many folds (column ``fold``);
            their split is ``train`` and fold k's validation set is ``fold == k``.
        stratify: balance diagnosis groups across parts.
    """

    ratios: tuple[float, ...] = (0.7, 0.15, 0.15)
    folds: int = 0
    seed: int = 0
    stratify: bool = True


def patient_strata(cases: list[Case], stratify: bool) -> dict[str, tuple[str, int]]:
    """patient id -> (stratum, number of cases); the stratum is the patient's most common group."""
    groups: dict[str, Counter] = defaultdict(Counter)
    for c in cases:
        groups[c.patient_id][c.group if stratify else ""] += 1
    return {
        p: (sorted(cnt.items(), key=lambda kv: (-kv[1], kv[0]))[0][0], sum(cnt.values())) for p, cnt in groups.items()
    }


def deal(patients: list[tuple[str, str, int]], weights: list[float], seed: int) -> dict[str, int]:
    """Assign patients (id, stratum, n_cases) to parts with target shares ``weights``.

    Patients are shuffled within their stratum and interleaved across strata; each goes to the part
    with the largest relative shortfall, counted both within its stratum and over the whole set, so
    small strata still feed small parts and every part's size follows ``weights``.

    Returns:
        patient id -> part index.
    """
    w = np.array(weights, float) / sum(weights)
    strata: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for pid, st, n in sorted(patients):
        strata[st].append((pid, n))
    order: list[tuple[float, str, str, int]] = []
    for st, pats in sorted(strata.items()):
        rng = np.random.default_rng([seed, zlib.crc32(st.encode())])
        for rank, i in enumerate(rng.permutation(len(pats))):
            order.append(((rank + 0.5) / len(pats), st, *pats[i]))
    order.sort(key=lambda t: (t[0], zlib.crc32(f"{seed}:{t[2]}".encode())))
    total = sum(n for *_, n in order)
    st_total = {st: sum(n for _, n in pats) for st, pats in strata.items()}
    filled = np.zeros(len(w))
    st_filled = {st: np.zeros(len(w)) for st in strata}
    out: dict[str, int] = {}
    live = w > 0
    for _, st, pid, n in order:
        g_target, s_target = w * total, w * st_total[st]
        score = (g_target - filled) / np.maximum(g_target, 1e-9) + (s_target - st_filled[st]) / np.maximum(
            s_target, 1e-9
        )
        k = int(np.argmax(np.where(live, score, -np.inf)))
        out[pid] = k
        filled[k] += n
        st_filled[st][k] += n
    return out


def assign_splits(cases: list[Case], cfg: SplitConfig) -> None:
    """Set ``split`` and ``fold`` of every case in place."""
    checks.ratios(cfg.ratios, "--ratios (train,val,test)")
    if cfg.folds == 1 or cfg.folds < 0:
        raise AntsegInputError(None, "--folds must be 0 (no folds) or at least 2")
    strata = patient_strata(cases, cfg.stratify)
    patients = [(pid, st, n) for pid, (st, n) in sorted(strata.items())]
    if cfg.folds > len(patients):
        raise AntsegInputError(None, f"{cfg.folds} folds need at least {cfg.folds} patients, found {len(patients)}")
    fold_of: dict[str, int] = {}
    if cfg.folds:
        tr, va, te = cfg.ratios
        test_frac = te / (tr + va + te)
        part_idx = deal(patients, [1 - test_frac, 0.0, test_frac], cfg.seed)
        rest = [p for p in patients if part_idx[p[0]] == 0]
        fold_of = deal(rest, [1.0] * cfg.folds, cfg.seed + 1) if rest else {}
    else:
        part_idx = deal(patients, list(cfg.ratios), cfg.seed)
    for c in cases:
        c.split = PARTS[part_idx[c.patient_id]]
        c.fold = fold_of.get(c.patient_id)


def split_dataset(path: str | Path, cfg: SplitConfig) -> CanonicalDataset:
    """Assign splits (and folds) to a canonical dataset and rewrite its ``cases.csv`` atomically."""
    ds = load_dataset(path)
    if not ds.cases:
        raise AntsegInputError(Path(path) / "cases.csv", "no cases to split")
    assign_splits(ds.cases, cfg)
    ds.manifest.provenance["split"] = {
        "ratios": list(cfg.ratios),
        "folds": cfg.folds,
        "seed": cfg.seed,
        "stratify": cfg.stratify,
        "unit": "patient" if ds.manifest.modality == "asoct" else "video",
    }
    ds.save()
    return ds


def split_table(ds: CanonicalDataset) -> dict[str, dict[str, tuple[int, int]]]:
    """part -> group -> (cases, patients), for reports."""
    table: dict[str, dict[str, list[set | int]]] = defaultdict(lambda: defaultdict(lambda: [0, set()]))
    for c in ds.cases:
        key = c.split or "(none)"
        cell = table[key][c.group or "-"]
        cell[0] += 1
        cell[1].add(c.patient_id)
    return {p: {g: (v[0], len(v[1])) for g, v in gs.items()} for p, gs in table.items()}
