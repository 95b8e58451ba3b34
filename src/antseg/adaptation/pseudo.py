"""Pseudo-labels: the per-scan pipeline labels the user's unlabelled scans, and only what its checks trust is kept.

A scan's masks become a pseudo-label when the scan is an anterior-segment B-scan (in domain) and every measure
that needs no spur agrees with the mirrored scan (none has the status ``check``): the masks are the pipeline's,
averaged over both views and made anatomically consistent, so they are better than the network's own output. A
spur becomes a pseudo-label when it is confident, on the angle wall (not moved) and found again on the mirrored
scan. Realistic phantom scans with exact labels are mixed in (rehearsal), so that what the pseudo-labels do not
say (a structure a device never shows) is not forgotten.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from antseg.adaptation.restyle import StyleBank
from antseg.anatomy import SPURS, default_colour
from antseg.biometry.ranges import base_measure
from antseg.data.canonical import load_dataset, write_dataset_files, write_mask
from antseg.data.phantom.writer import AsoctPhantomConfig, generate_asoct_dataset
from antseg.data.schema import Case, Manifest, Structure
from antseg.io.images import read_image, write_png
from antseg.scan.config import QualityLimits
from antseg.scan.pipeline import ScanPipeline
from antseg.scan.quality import SPUR_FREE, spur_astray
from antseg.scan.result import CHECK, ScanResult

#: However short the time, at least this many scans are labelled (fewer teach too little).
MIN_LABELLED = 12


def spread(files: list[Path], n: int) -> list[Path]:
    """At most ``n`` of ``files``, evenly spread (a long series keeps its variety)."""
    if len(files) <= n:
        return files
    step = len(files) / n
    return [files[int(i * step)] for i in range(n)]


@dataclass
class Pseudo:
    """What one scan gave: accepted or not, why, and the accepted spurs."""

    name: str
    accepted: bool
    why: str
    spurs: dict[str, tuple[float, float] | None]
    path: str = ""
    in_domain: bool = True


def judge(res: ScanResult, spur_mirror_mm: float, spur_confidence: float) -> tuple[bool, str, dict]:
    """(masks accepted, why not, trusted spurs name -> (x, y) or None) for one pipeline result (a spur the checks
    find astray is never trusted)."""
    limits = QualityLimits()
    spurs = {}
    for n, p in res.spurs.items():
        mirror = p.get("mirror_mm", math.nan)
        moved = p.get("moved_mm", math.nan)
        trusted = (
            p.get("visible") and p.get("x") is not None and p["confidence"] >= spur_confidence
            and not (isinstance(moved, float) and moved > 0) and math.isfinite(mirror) and mirror <= spur_mirror_mm
            and not spur_astray(p, limits)
        )  # fmt: skip
        spurs[n] = (float(p["x"]), float(p["y"])) if trusted else None
    if not res.in_domain:
        return False, "not an anterior-segment B-scan: " + (res.warnings[0] if res.warnings else ""), spurs
    doubted = [k for k, m in res.measures.items() if base_measure(k)[0] in SPUR_FREE and m.status == CHECK]
    if doubted:
        return False, f"{doubted[0]}: " + "; ".join(res.measures[doubted[0]].reasons), spurs
    return True, "", spurs


def pseudo_label(
    pipe: ScanPipeline, files: list[Path], out: Path, spur_mirror_mm: float,
    progress: Callable[[int, int], None] | None = None, deadline: float | None = None,
    min_labelled: int = MIN_LABELLED,
) -> list[Pseudo]:  # fmt: skip
    """Run the pipeline on ``files`` and write the accepted ones into ``out`` (a canonical dataset, ``train``
    split; images as PNG so every input format works the same). Returns one :class:`Pseudo` per file labelled.

    Args:
        deadline: a ``time.monotonic()`` after which no further scan is labelled (the rest of a round's budget
            is for training), once at least ``min_labelled`` scans are labelled (fewer teach too little, whatever
            the machine's speed).
    """
    import time

    (out / "images").mkdir(parents=True, exist_ok=True)
    cases, made = [], []
    for i, f in enumerate(files):
        if deadline is not None and len(made) >= min_labelled and time.monotonic() > deadline:
            break
        res = pipe.run(read_image(f), name=f.name)
        ok, why, spurs = judge(res, spur_mirror_mm, pipe.config.limits.spur_confidence)
        made.append(Pseudo(f.name, ok, why, spurs, str(f), res.in_domain))
        if ok:
            cid = f"u{i:04d}"
            write_png(out / "images" / f"{cid}.png", res.image)
            h, w = res.image.shape
            sx, sy = res.spacing if res.spacing else (None, None)
            cases.append(Case(
                case_id=cid, patient_id=cid, image=f"images/{cid}.png", width=w, height=h,
                mask=write_mask(out, cid, res.masks), group="unlabelled", split="train",
                spacing=None if sx is None else (sx, sy), landmarks=dict(spurs),
                extra={"source": f.name},
            ))  # fmt: skip
        if progress:
            progress(i + 1, len(files))
    # Written even when no scan is accepted: a round may then adapt to the device's look alone.
    manifest = Manifest(
        name="pseudo-labels", modality="asoct",
        structures=[Structure(n, k + 1, default_colour(n, k)) for k, n in enumerate(pipe.structures)],
        landmarks=list(SPURS), spacing_mm=None, groups=["unlabelled"], provenance={"generator": "antseg adapt"},
    )  # fmt: skip
    write_dataset_files(out, manifest, cases)
    return made


def rehearsal_phantom(out: Path, n: int, seed: int, structures: list[str]) -> Path:
    """``n`` realistic phantom scans (three device geometries) for rehearsal, split 80/20 train/val."""
    from antseg.data.split import SplitConfig, split_dataset

    cfg = AsoctPhantomConfig(n=n, seed=seed, style="realistic", devices=("ss1000", "casia2", "narrow"), workers=1,
                             cornea="cornea" in structures)  # fmt: skip
    generate_asoct_dataset(out, cfg)
    split_dataset(out, SplitConfig(ratios=(0.8, 0.2, 0.0)))
    return out


def merge(
    pseudo: Path, phantom: Path | None, out: Path, val_share: float = 0.15, seed: int = 0, spurs: bool = False,
    look: StyleBank | None = None, labelled: Path | None = None,
) -> Path:  # fmt: skip
    """One dataset for fine-tuning: the pseudo-labelled scans (a few held out for validation) and the phantom.

    Args:
        spurs: for the spur model: only the scans whose two spurs are both trusted (an untrusted spur is
            unknown, not absent, and must not teach the model that it is absent).
        look: the user's scans the phantom's training scans take their look from (None: the phantom's own); its
            validation scans keep the phantom's look, so that validation still sees what the model knew.
        labelled: the user's corrected scans (a canonical dataset), trained on in every round when they label
            every structure of the pseudo-labels (a structure they leave out would be taught as absent).
    """
    import shutil

    rng = np.random.default_rng(seed)
    ps = load_dataset(pseudo)
    if spurs:
        ps.cases = [c for c in ps.cases if all(v is not None for v in c.landmarks.values())]
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "masks").mkdir(exist_ok=True)
    cases = []
    n_val = max(1, round(val_share * len(ps.cases))) if len(ps.cases) > 2 else 0
    val = set(rng.choice(len(ps.cases), n_val, replace=False).tolist()) if n_val else set()
    for k, c in enumerate(ps.cases):
        shutil.copy(pseudo / c.image, out / c.image)
        shutil.copy(pseudo / c.mask, out / c.mask)
        c.split = "val" if k in val else "train"
        cases.append(c)
    manifest = ps.manifest
    extra = [(labelled, "labelled", "lab_")] if labelled is not None else []
    extra += [(phantom, "phantom", "ph_")] if phantom is not None else []
    for root, group, prefix in extra:
        ds = load_dataset(root)
        if not set(ps.structures) <= set(ds.structures):
            continue
        order = [ds.structures.index(s) for s in ps.structures]
        for c in ds.cases:
            if spurs and group == "labelled" and any(c.landmarks.get(n) is None for n in manifest.landmarks):
                continue  # a spur left unmarked is unknown, not absent
            cid, suffix = f"{prefix}{c.case_id}", Path(c.image).suffix
            if look is not None and group == "phantom" and c.split != "val":
                write_png(out / "images" / f"{cid}{suffix}", look.apply(read_image(root / c.image)))
            else:
                shutil.copy(root / c.image, out / "images" / f"{cid}{suffix}")
            masks = ds.load_masks(c)[order]
            split = "train" if group == "labelled" else (c.split if c.split in ("train", "val") else "train")
            landmarks = {n: c.landmarks.get(n) for n in manifest.landmarks}
            cases.append(Case(
                case_id=cid, patient_id=f"{prefix}{c.patient_id}", image=f"images/{cid}{suffix}", width=c.width,
                height=c.height, mask=write_mask(out, cid, masks), group=group, split=split, spacing=c.spacing,
                landmarks=landmarks,
            ))  # fmt: skip
    manifest.groups = ["unlabelled"] + [g for _, g, _ in extra]
    write_dataset_files(out, manifest, cases)
    return out
