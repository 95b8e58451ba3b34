"""``antseg adapt surgical FRAMES_OR_VIDEO --out RUN``: fit a surgical-video model to a user's microscope footage
without labels.

Self-training, round by round, as for AS-OCT scans (:mod:`antseg.adaptation.run`): frames are sampled evenly from
the videos and folders given (:mod:`.surgical_frames`), the current model labels them and the labels the video
pipeline's trust checks accept are kept (:mod:`.surgical_pseudo`: the limbus a plausible, confident ellipse that
the mirrored frame agrees with, the pupil plausible inside it), surgical phantom frames with exact labels are
mixed in, and the model is fine-tuned from the current weights; the next round labels the frames with the
fine-tuned model. Seeded, resumable (a finished round is kept), bounded by a time budget. ``RUN/best.pt`` is used
wherever a surgical model is (``antseg predict RUN surgery.mp4``); its metadata says it was adapted, and
``RUN/adaptation.json`` what was done (frames accepted and why the others were not, per round).
"""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from antseg.adaptation.config import AdaptConfig, train_budget
from antseg.adaptation.pseudo import merge
from antseg.adaptation.record import WORK, new_run_folder, read_record, write_record
from antseg.adaptation.surgical_frames import find_sources, sample_frames
from antseg.adaptation.surgical_pseudo import (
    FrameLabeller,
    SurgicalPseudoConfig,
    pseudo_label_frames,
    surgical_rehearsal,
)
from antseg.config import dump_config
from antseg.errors import AntsegInputError
from antseg.inference.backends import video_threads
from antseg.inference.video_surgical import applies_to
from antseg.inference.video_trust import Calibration
from antseg.io.output_folder import existing_paths, write_owner_marker
from antseg.models import read_checkpoint, runs, save_checkpoint
from antseg.models.shipped import is_shipped, surgical_card, surgical_checkpoint

#: The word that names the shipped surgical model as the model to adapt (``default`` is the AS-OCT one).
SURGICAL = "surgical"
FRAMES = "frames"
#: The shipped surgical model's training augmentation, kept while fine-tuning it.
AUGMENT = {"rotate_deg": 25.0, "scale": (0.75, 1.3), "translate": 0.12, "blur": (0.0, 1.2), "gamma": (0.6, 1.6),
           "contrast": (0.7, 1.3)}  # fmt: skip


def surgical_start(weights: str | Path) -> Path | None:
    """The checkpoint to adapt when ``weights`` names a surgical model (the word ``surgical``, or a checkpoint or
    run folder whose metadata says surgical video), else None (an AS-OCT model, or nothing readable: the AS-OCT
    route reports it)."""
    if str(weights).strip().lower() == SURGICAL and not Path(str(weights)).exists():
        return surgical_checkpoint()
    try:
        path = runs.segmentation_checkpoint(weights)
        meta = read_checkpoint(path).meta
    except (AntsegInputError, OSError, RuntimeError, ValueError):
        return None
    surgical = meta.modality == "surgical" or (not meta.modality and meta.in_channels == 3 and applies_to(meta))
    return path if surgical else None


def adapt_surgical(
    weights: str | Path,
    sources: list[Path],
    out: str | Path,
    cfg: AdaptConfig | None = None,
    pseudo: SurgicalPseudoConfig | None = None,
    resume: bool = False,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Adapt the surgical model ``weights`` to the unlabelled frames and videos ``sources``; writes ``out``.

    Args:
        weights: ``surgical`` (the shipped model), or a surgical checkpoint or run folder.
        sources: videos, folders of frames or videos, frame files.
        cfg: rounds, budget, frames (``max_scans``), ``min_accepted``, rehearsal frames, epochs, lr, seed, ...
            (``spurs`` and ``spacing`` do not apply).
        pseudo: when a frame's masks become a pseudo-label.
        resume: continue an interrupted adaptation in ``out`` from its last finished round.

    Returns:
        the record written to ``out/adaptation.json``.
    """
    cfg, pseudo = cfg or AdaptConfig(), pseudo or SurgicalPseudoConfig()
    cfg = replace(cfg, rounds=2) if cfg.rounds is None else cfg
    start = surgical_start(weights)
    if start is None:
        raise AntsegInputError(weights, "is not a surgical-video model (give 'surgical' or a surgical run folder)")
    out = Path(out)
    if resume:
        state = read_record(out)
        if state.get("modality") != "surgical" or "frames" not in state:
            raise AntsegInputError(out, "is not a surgical adaptation: resume it with the model it started from")
        return _adapt(Path(state["from"]["checkpoint"]), out, cfg, pseudo, state, log, progress)
    found = find_sources([Path(p) for p in sources])  # bad input is refused before anything is written
    new_run_folder(out, overwrite, existing_paths(sources, weights))
    state = {"modality": "surgical", "from": {"segmentation": str(weights), "checkpoint": str(start)},
             "sources": [str(p) for p in sources], "config": asdict(cfg), "pseudo_labels": asdict(pseudo),
             "rounds": [], "done": False}  # fmt: skip
    try:
        t0 = time.monotonic()
        state["frames"] = sample_frames(found, cfg.max_scans, out / WORK / FRAMES, pseudo.frame_width)
        state["frames_seconds"] = time.monotonic() - t0
        videos = sum(s.video for s in found)
        log(f"{len(state['frames'])} frames sampled from {videos} video(s) and {len(found) - videos} frame file(s)")
        dump_config(cfg, out / "adapt_config.yaml")
        write_record(out, state)
        return _adapt(start, out, cfg, pseudo, state, log, progress)
    except BaseException:
        if not state["rounds"]:
            shutil.rmtree(out, ignore_errors=True)  # nothing finished: leave nothing behind
        raise


def _adapt(start: Path, out: Path, cfg: AdaptConfig, pseudo: SurgicalPseudoConfig, state: dict, log, progress) -> dict:
    import torch

    threads = torch.get_num_threads()
    try:
        return _rounds(start, out, cfg, pseudo, state, log, progress)
    finally:
        torch.set_num_threads(threads)  # the rounds set the threads they need; the caller's setting comes back


def _rounds(start: Path, out: Path, cfg: AdaptConfig, pseudo: SurgicalPseudoConfig, state: dict, log, progress):
    t0 = time.monotonic() - state.get("frames_seconds", 0.0) - sum(r["seconds"] for r in state["rounds"])
    # The shipped model's confidence is calibrated by its card; the calibration is kept for the rounds after it.
    cal = Calibration.from_card(surgical_card()) if is_shipped(start) else Calibration()
    frames = [out / WORK / FRAMES / f["file"] for f in state["frames"]]
    now = state["rounds"][-1]["segmentation"] if state["rounds"] else str(start)
    for k in range(len(state["rounds"]), cfg.rounds):
        left = cfg.limit_s - (time.monotonic() - t0)
        if left <= 0:
            log(f"budget spent after {k} round(s)")
            break
        r0 = time.monotonic()
        rnd = _round(k, now, frames, out, cfg, pseudo, cal, left / (cfg.rounds - k), log)
        rnd["seconds"] = time.monotonic() - r0
        state["rounds"].append(rnd)
        now = rnd["segmentation"]
        write_record(out, state)
        if progress:
            progress(k + 1, cfg.rounds)
    if not state["rounds"]:
        raise AntsegInputError(out, "the time budget ended before the first round: give a larger --budget")
    _install(out, now, state)
    state["done"] = True
    state["seconds"] = time.monotonic() - t0
    write_record(out, state)
    write_owner_marker(out)
    return state


def _round(k: int, seg: str, frames: list[Path], out: Path, cfg: AdaptConfig, pseudo: SurgicalPseudoConfig,
           cal: Calibration, budget: float, log: Callable[[str], None]) -> dict:  # fmt: skip
    """One round: label the frames with the current model, keep what the trust checks accept, fine-tune."""
    from antseg.training import TrainConfig, train_segmentation

    work = out / WORK / f"round{k + 1}"
    if work.exists():
        shutil.rmtree(work)  # an interrupted round starts again
    t0 = time.monotonic()
    # All cores but one by default: on a shared CPU one more thread than free cores slows PyTorch many times over.
    threads = cfg.threads or video_threads()
    labeller = FrameLabeller(seg, cfg.device, cal, pseudo, threads)
    made = pseudo_label_frames(labeller, frames, work / "pseudo")
    accepted = [lab for _, lab in made if lab.accepted]
    t_label = time.monotonic() - t0
    why = Counter(lab.why.split(" (")[0] for _, lab in made if not lab.accepted)
    log(f"round {k + 1}: {len(accepted)} of {len(made)} frames pass the trust checks"
        + (f" (rejected: {', '.join(f'{n} {w}' for w, n in why.most_common(3))})" if why else ""))  # fmt: skip
    if len(accepted) < cfg.min_accepted:
        raise AntsegInputError(None, f"only {len(accepted)} of {len(made)} frames pass the trust checks (need "
                               f"{cfg.min_accepted}): {'; '.join(w for w, _ in why.most_common(3))}")  # fmt: skip
    phantom = None
    if cfg.rehearsal > 0:
        phantom = surgical_rehearsal(work / "phantom", cfg.rehearsal, cfg.seed + 1000 * (k + 1), labeller.names)
    data = merge(work / "pseudo", phantom, work / "data", seed=cfg.seed + k)
    t_data = time.monotonic() - t0
    meta = labeller.meta
    # The trainer stops after the epoch that passes its budget: a tenth is kept for that epoch and the start-up.
    tcfg = TrainConfig(init=str(seg), input_size=tuple(meta.input_size), in_channels=int(meta.in_channels),
                       normalization=meta.normalization, epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size,
                       seed=cfg.seed + k, threads=threads, device=cfg.device, augment_args=dict(AUGMENT),
                       time_budget_s=train_budget(0.9 * (budget - (time.monotonic() - t0))), val_every=1)  # fmt: skip
    res = train_segmentation(data, work / "seg", tcfg, log=lambda s: None)
    # The last epoch, not the best on validation: the validation frames are the model's own pseudo-labels and a
    # few phantom frames, which favour the first epochs; measured, the last epoch is as good or better.
    log(f"round {k + 1}: fine-tuned for {res.epochs_done} epoch(s) (validation Dice {res.best_score:.3f} on "
        "pseudo-labels and phantom)")  # fmt: skip
    return {"round": k + 1, "scans": len(made), "accepted": len(accepted), "rejected_why": dict(why),
            "rejected": {n: lab.why for n, lab in made if not lab.accepted},
            "confidence_accepted": sorted(round(lab.confidence, 3) for lab in accepted),
            "segmentation": str(work / "seg" / runs.LAST), "phantom_rehearsal": cfg.rehearsal if phantom else 0,
            "epochs": res.epochs_done, "val_dice": res.best_score,
            "stage_seconds": {"label": round(t_label, 1), "rehearsal": round(t_data - t_label, 1),
                              "train": round(time.monotonic() - t0 - t_data, 1)}}  # fmt: skip


def _install(out: Path, seg: str, state: dict) -> None:
    """Copy the last round's checkpoint to ``out/best.pt``, its metadata saying that it was adapted."""
    n, sources = len(state["frames"]), state["sources"]
    what = (f"adapted without labels (self-training, {len(state['rounds'])} round(s)) on {n} frames of "
            f"{len(sources)} source(s), from {state['from']['segmentation']}")  # fmt: skip
    ck = read_checkpoint(runs.segmentation_checkpoint(seg))
    meta = replace(ck.meta, dataset=what, recipe="adapted", synthetic=False, modality="surgical")
    save_checkpoint(out / runs.BEST, ck.build(), meta)
