"""The models an adaptation installs in its run folder, with metadata that says how they were adapted."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from antseg.models import read_checkpoint, runs, save_checkpoint


def install_models(out: Path, seg: str, spur: str | None, state: dict, n_scans: int, spacing=None) -> None:
    """Copy the installed checkpoints to ``out/best.pt`` and ``out/spur.pt``, saying in their metadata how they
    were adapted (reports made with them say so); a spur model no round changed is copied as it was, and a
    segmentation no kept round changed keeps its own description, with why the adaptation was not kept. The
    check of the rounds (``look_check`` or ``rounds_check``) says what was measured on the user's scans."""
    check = state.get("look_check") or state.get("rounds_check")
    rounds = state["rounds"]
    if check and not check["kept"]:
        rounds = rounds[: check["first_round"] - 1]  # the rounds whose model is installed
    parts = []
    if state.get("labelled"):
        parts.append(f"fine-tuned on {state['labelled']['scans']} corrected scan(s)")
    if rounds:
        last = rounds[-1]
        look = ", phantom scans in their grey levels" if state["config"].get("rehearsal_look") == "histogram" else ""
        alone = sum(1 for r in rounds if r.get("look_alone"))
        alone_text = f"; {alone} round(s) the look alone, too few scans passed the checks" if alone else ""
        parts.append(f"adapted without labels ({len(rounds)} round(s) on {n_scans} scans, "
                     f"{last['accepted']} trusted as pseudo-labels{look}{alone_text})")  # fmt: skip
    what = ", then ".join(parts)
    verdict = f"; {check['why']}" if check else ""
    if spur and spur == state["from"]["spurs"]:  # not fine-tuned, or no round's spur model was kept: as given
        shutil.copyfile(runs.spur_checkpoint(spur), out / runs.SPUR)
        spur = None
    for src, name in ((seg, runs.BEST), (spur, runs.SPUR)):
        if not src:
            continue
        ck = read_checkpoint(runs.segmentation_checkpoint(src) if name == runs.BEST else runs.spur_checkpoint(src))
        origin = state["from"]["segmentation" if name == runs.BEST else "spurs"]
        if parts:
            meta = replace(ck.meta, dataset=f"{what}, from {origin}{verdict}", recipe="adapted", synthetic=False)
        else:  # nothing kept: the starting model, as it was
            meta = replace(ck.meta, dataset=f"{ck.meta.dataset or origin}; not adapted to {n_scans} scans{verdict}")
        meta = replace(meta, spacing_mm=list(spacing) if spacing else ck.meta.spacing_mm)
        save_checkpoint(out / name, ck.build(), meta, refiner=ck.build_refiner() if ck.refiner is not None else None)
