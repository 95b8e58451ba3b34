"""``antseg adapt``: fit the segmentation and spur models to a user's device from unlabelled scans.

Self-training, round by round: the per-scan pipeline (mirror pass, repairs, quality checks) labels the scans
with the current models, the labels its checks trust are kept (:mod:`antseg.adaptation.pseudo`), realistic
phantom scans with exact labels are mixed in, and both models are fine-tuned on that; the next round labels the
scans with the fine-tuned models. The run folder is used wherever ``default`` is (``predict``, ``biometry``,
``report``, ``--init``), and ``adaptation.json`` beside the weights says what was done and measured.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from antseg.adaptation.config import AdaptConfig, train_budget
from antseg.adaptation.install import install_models
from antseg.adaptation.labelled import LABELS_SHARE, fine_tune_on_labels, labelled_dataset
from antseg.adaptation.look_check import check_look_rounds, look_alone_start
from antseg.adaptation.pseudo import MIN_LABELLED, merge, pseudo_label, rehearsal_phantom, spread
from antseg.adaptation.record import WORK, new_run_folder, read_record, write_record
from antseg.adaptation.restyle import StyleBank, check_style
from antseg.adaptation.rounds_check import check_rounds
from antseg.adaptation.spur_guard import CHECK_SCANS, judge_spur_round
from antseg.config import dump_config
from antseg.data.canonical import load_dataset
from antseg.errors import AntsegInputError
from antseg.inference.inputs import collect_inputs
from antseg.io.output_folder import existing_paths, write_owner_marker
from antseg.models import read_checkpoint, runs
from antseg.scan.config import ScanConfig
from antseg.scan.pipeline import ScanPipeline

#: The share of a round's time that labelling may take (the rest trains).
LABEL_SHARE = 0.45

#: After the last round the adapted model labels the check's scans again and is installed; the last round's
#: training leaves that time: the check's scans at the round's own labelling pace times this margin, plus
#: :data:`INSTALL_S`. Measured on 50 phantom scans: with the scans at the round's pace alone, the whole adaptation
#: took 304 s of its 300 s budget (the check's pipeline loads its models again, and the trainer's last epoch
#: overruns by a little).
CHECK_PACE_MARGIN = 1.5
#: Seconds kept for installing the adapted models (two checkpoints written, their descriptions).
INSTALL_S = 5.0

#: The structures the rehearsal phantom draws: a model with others gets no rehearsal.
REHEARSED = {"anterior_chamber", "lens", "nucleus", "left_iris", "right_iris", "cornea"}


def _shuffled(files: list[Path], seed: int) -> list[Path]:
    """``files`` in a seeded random order: any prefix of it is a sample of the whole series."""
    import numpy as np

    return [files[k] for k in np.random.default_rng(seed).permutation(len(files))]


def final_reserve(per_scan: float, scans: int) -> float:
    """Seconds the last round leaves for what follows it: checking the adapted model on ``scans`` scans labelled
    at ``per_scan`` seconds each, and installing it."""
    return CHECK_PACE_MARGIN * per_scan * scans + INSTALL_S


def _rehearsal(folder: Path, cfg: AdaptConfig, structures: list[str]) -> Path:
    """The rehearsal phantom, rendered once per adaptation (rendering costs more than a round's labelling)."""
    from antseg.data.canonical import load_dataset

    try:
        if len(load_dataset(folder).cases) == cfg.rehearsal:
            return folder
    except Exception:  # noqa: BLE001 - absent or cut short by an interruption: render it again
        pass
    if folder.exists():
        shutil.rmtree(folder)
    return rehearsal_phantom(folder, cfg.rehearsal, cfg.seed + 1000, structures)


def adapt(
    weights: str | Path,
    scans: list[Path],
    out: str | Path,
    spurs: str | Path | None = None,
    cfg: AdaptConfig | None = None,
    labels: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    log: Callable[[str], None] = print,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """Adapt ``weights`` (and ``spurs``) to the unlabelled ``scans``; writes the run folder ``out``.

    Args:
        weights: segmentation model to start from (``default``, a run folder or a checkpoint); ``surgical`` or a
            surgical-video model adapts to cataract-surgery frames (:mod:`antseg.adaptation.surgical`).
        scans: scan files and folders (any format ``predict`` reads); for a surgical model, videos and frames.
        spurs: spur model to put in the run folder, fine-tuned with ``cfg.spurs`` or corrected spurs (None: none).
        labels: corrected scans (``antseg label``'s LabelMe folder, corrected, or a canonical dataset): both
            models are fine-tuned on them first (:mod:`antseg.adaptation.labelled`); self-training rounds follow
            only when ``cfg.rounds`` asks for them, and the corrected scans join every round.
        resume: continue an interrupted adaptation in ``out`` from its last finished round.
        progress: ``(rounds done, rounds)``.

    Returns:
        the record written to ``out/adaptation.json``: settings, per round the scans accepted and the time taken.
    """
    from antseg.adaptation.surgical import adapt_surgical, surgical_start

    cfg = cfg or AdaptConfig()
    if cfg.rounds is None:  # measured: rounds after corrected scans undo part of what they taught
        cfg = replace(cfg, rounds=0 if labels is not None else 2)
    if surgical_start(weights) is not None:  # a surgical-video model: frames or videos (spurs do not apply)
        if labels is not None:
            raise AntsegInputError(Path(labels), "--labels is for AS-OCT models; fine-tune a surgical model with "
                                   "'antseg train seg' on labelled frames")  # fmt: skip
        return adapt_surgical(weights, scans, out, cfg, resume=resume, overwrite=overwrite, log=log, progress=progress)
    check_style(cfg.rehearsal_look)
    if labels is not None and not Path(labels).is_dir():
        raise AntsegInputError(Path(labels), "not a folder: give the LabelMe folder 'antseg label' wrote, or a dataset")
    if cfg.rounds < (0 if labels is not None else 1):
        raise AntsegInputError(None, f"rounds must be at least {0 if labels is not None else 1}, got {cfg.rounds}")
    out = Path(out)
    files = spread(collect_inputs([Path(p) for p in scans]), cfg.max_scans)
    inputs = existing_paths(scans, weights, spurs, labels)
    if resume:
        state = read_record(out)
        labels = labels if labels is not None else state["from"].get("labels")
    else:
        new_run_folder(out, overwrite, inputs)
        state = {"from": {"segmentation": str(weights), "spurs": None if spurs is None else str(spurs),
                          "labels": None if labels is None else str(labels)},
                 "scans": [str(f) for f in files], "config": asdict(cfg), "rounds": [], "done": False}  # fmt: skip
        dump_config(cfg, out / "adapt_config.yaml")
        write_record(out, state)
    try:
        return _adapt(weights, spurs, labels, files, out, cfg, state, log, progress)
    except BaseException:
        if not resume and not state["rounds"] and "labelled" not in state:
            shutil.rmtree(out, ignore_errors=True)  # nothing finished: leave nothing behind
        raise


def _adapt(weights, spurs, labels, files, out, cfg, state, log, progress) -> dict:
    if cfg.spacing is None:
        # Every round measures with the starting model's spacing: the fine-tuned checkpoints are trained on
        # pseudo-labels of mixed spacing and record none, and the quality checks need one.
        sp = read_checkpoint(runs.segmentation_checkpoint(weights)).meta.spacing_mm
        cfg = replace(cfg, spacing=tuple(float(v) for v in sp) if sp else None)
    t0 = time.monotonic() - sum(r["seconds"] for r in state["rounds"]) - state.get("labelled", {}).get("seconds", 0)
    data = None
    if labels is not None:
        data, unchanged = labelled_dataset(Path(labels), out / WORK / "labelled", cfg.spacing, cfg.keep_unchanged)
        if unchanged:
            log(f"{len(unchanged)} scan(s) in {labels} are the pre-labels as 'antseg label' wrote them, not corrected: "
                "left out (--keep-unchanged uses them)")  # fmt: skip
        have = set(load_dataset(data).structures)
        missing = [n for n in read_checkpoint(runs.segmentation_checkpoint(weights)).meta.structures if n not in have]
        if missing and cfg.rounds:
            log(f"the corrected scans do not label {', '.join(missing)}: they teach the first fine-tuning only, "
                "not the rounds (a structure left out would be taught as absent)")  # fmt: skip
        if "labelled" not in state:
            share = LABELS_SHARE if cfg.rounds else 1.0
            start_spur = None if spurs is None else str(spurs)
            state["labelled"] = fine_tune_on_labels(str(weights), start_spur, data, out / WORK / "corrected", cfg,
                                                    share * cfg.limit_s, log, scans=files)  # fmt: skip
            state["labelled"]["unchanged_left_out"] = unchanged
            write_record(out, state)
    fitted = state.get("labelled", {})
    seg_now = state["rounds"][-1]["segmentation"] if state["rounds"] else fitted.get("segmentation", str(weights))
    kept = [r["spurs"] for r in state["rounds"] if r.get("spurs")]
    spur_now = kept[-1] if kept else (fitted.get("spurs") or (None if spurs is None else str(spurs)))
    for k in range(len(state["rounds"]), cfg.rounds):
        left = cfg.limit_s - (time.monotonic() - t0)
        if left <= 0:
            log(f"budget spent after {k} round(s)")
            break
        r0 = time.monotonic()
        after_look = bool(state["rounds"]) and state["rounds"][-1].get("look_alone", False)
        rnd = _round(k, seg_now, spur_now, files, out, cfg, left / (cfg.rounds - k), log, data, after_look)
        rnd["seconds"] = time.monotonic() - r0
        state["rounds"].append(rnd)
        seg_now, spur_now = rnd["segmentation"], rnd.get("spurs") or spur_now
        write_record(out, state)
        if progress:
            progress(k + 1, cfg.rounds)
        if not rnd.get("trained", True):
            break
    if not state["rounds"] and not fitted:
        raise AntsegInputError(out, "the time budget ended before the first round: give a larger --budget")
    j = look_alone_start(state["rounds"])
    if j is not None:
        if "look_check" not in state:
            order = [str(f) for f in _shuffled(files, cfg.seed + len(state["rounds"]))]
            verdict = check_look_rounds(j, seg_now, order, state["rounds"], out / WORK / "look_check", cfg, t0)
            log(verdict.why)
            state["look_check"] = verdict.as_record()
            write_record(out, state)
        if not state["look_check"]["kept"]:
            seg_now = state["rounds"][j - 1]["segmentation"] if j else fitted.get("segmentation", str(weights))
    elif state["rounds"]:
        if "rounds_check" not in state:
            order = [str(f) for f in _shuffled(files, cfg.seed)]  # round 1's order
            corrected = (fitted["segmentation"], data) if fitted and data is not None else None
            verdict = check_rounds(seg_now, order, state["rounds"][0], out / WORK / "rounds_check", cfg, corrected)
            state["rounds_check"] = verdict.as_record() if verdict else None
            if verdict:
                log(verdict.why)
            write_record(out, state)
        if state["rounds_check"] and not state["rounds_check"]["kept"]:
            seg_now = fitted.get("segmentation", str(weights))
    install_models(out, seg_now, spur_now, state, len(files), cfg.spacing)
    state["done"] = True
    state["seconds"] = time.monotonic() - t0
    write_record(out, state)
    write_owner_marker(out)
    return state


def _round(k: int, seg: str, spur: str | None, files: list[Path], out: Path, cfg: AdaptConfig, budget: float,
           log: Callable[[str], None], labelled: Path | None = None, after_look: bool = False) -> dict:  # fmt: skip
    """One round: label the scans with the current models, keep what the checks trust, fine-tune both.

    After a round that learnt the look alone (``after_look``), a round whose scans still do not pass the checks
    trains nothing: its labelling has shown that the look did not make the models consistent."""
    from antseg.training import TrainConfig, train_segmentation

    work = out / WORK / f"round{k + 1}"
    if work.exists():
        shutil.rmtree(work)  # an interrupted round starts again
    # Without spur fine-tuning no spur is needed: whether masks are trusted depends on spur-free measures only.
    pipe = ScanPipeline(seg, spur if cfg.spurs else None, ScanConfig(spacing=cfg.spacing), cfg.device)
    t0 = time.monotonic()
    # Labelling may take at most LABEL_SHARE of the round, in an order spread over the scans, so a slow machine
    # still trains on a varied subset instead of labelling everything and training on nothing.
    made = pseudo_label(pipe, _shuffled(files, cfg.seed + k), work / "pseudo", cfg.spur_mirror_mm,
                        deadline=t0 + LABEL_SHARE * budget)  # fmt: skip
    per_scan = (time.monotonic() - t0) / max(len(made), 1)
    if len(made) < len(files):
        log(f"round {k + 1}: labelled {len(made)} of {len(files)} scans within the round's labelling time")
    accepted = [p for p in made if p.accepted]
    scans = [Path(p.path) for p in made if p.in_domain]  # the device's look: every anterior-segment B-scan
    spurs_ok = sum(v is not None for p in accepted for v in p.spurs.values())
    log(f"round {k + 1}: {len(accepted)} of {len(made)} scans pass the checks ({spurs_ok} spurs trusted)")
    too_few = len(accepted) < cfg.min_accepted
    labelled_scans = {"round": k + 1, "scans": len(made), "accepted": len(accepted), "spurs_trusted": spurs_ok,
                      "rejected": {p.name: p.why for p in made if not p.accepted},
                      "accepted_scans": [p.path for p in accepted]}  # fmt: skip
    can_rehearse = cfg.rehearsal > 0 and set(pipe.structures) <= REHEARSED
    look_alone = can_rehearse and cfg.rehearsal_look == "histogram" and len(scans) >= cfg.min_in_domain
    if too_few and not look_alone:
        reasons = sorted({p.why.split(":")[0] for p in made if not p.accepted})
        raise AntsegInputError(None, f"only {len(accepted)} of {len(made)} scans pass the quality checks (need "
                               f"{cfg.min_accepted}): {'; '.join(reasons[:3])}")  # fmt: skip
    if too_few and after_look:
        log(f"round {k + 1}: still too few scans pass the checks after learning the device's look; no further round")
        return {**labelled_scans, "look_alone": True, "trained": False, "segmentation": str(seg)}
    if too_few:
        # The scans are B-scans of the device but the models are not consistent enough on them to teach
        # themselves: the look alone is learnt, from phantom scans with exact labels in the scans' grey levels.
        log(f"round {k + 1}: too few scans pass the checks to teach the models; adapting to the device's look "
            f"alone (phantom scans in the grey levels of {len(scans)} of your scans)")  # fmt: skip
    phantom = _rehearsal(out / WORK / "phantom", cfg, pipe.structures) if can_rehearse else None
    look = None
    if phantom is not None and cfg.rehearsal_look == "histogram":
        look = StyleBank(scans, seed=cfg.seed + k)
    data = merge(work / "pseudo", phantom, work / "data", seed=cfg.seed + k, look=look, labelled=labelled)
    left = budget - (time.monotonic() - t0)
    if k == cfg.rounds - 1:
        # The model of the last round is checked on the scans afterwards (rounds_check, or look_check after a
        # look-alone round): keep the time that takes.
        left -= final_reserve(per_scan, min(len(files), CHECK_SCANS if not too_few else MIN_LABELLED))
    seg_budget = left * (0.6 if spur and cfg.spurs else 1.0)
    tcfg = TrainConfig(init=str(seg), epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, seed=cfg.seed + k,
                       threads=cfg.threads, device=cfg.device, time_budget_s=train_budget(seg_budget),
                       val_every=1)  # fmt: skip
    res = train_segmentation(data, work / "seg", tcfg, log=lambda s: None)
    new_seg = str(work / "seg" / runs.BEST)
    log(f"round {k + 1}: segmentation fine-tuned for {res.epochs_done} epoch(s) (validation Dice "
        f"{res.best_score:.3f} on pseudo-labels and phantom)")  # fmt: skip
    record = {**labelled_scans, "look_alone": too_few, "segmentation": new_seg,
              "phantom_rehearsal": 0 if phantom is None else cfg.rehearsal}  # fmt: skip
    both = sum(all(v is not None for v in p.spurs.values()) for p in accepted)
    if spur and cfg.spurs and both >= cfg.min_accepted:
        from antseg.training.spurs import SpurConfig, train_spurs

        # A quarter of the trusted scans are held out: the guard checks the candidate on them.
        sdata = merge(work / "pseudo", phantom, work / "spur_data", val_share=0.25, seed=cfg.seed + k, spurs=True,
                      look=look, labelled=labelled)  # fmt: skip
        left = budget - (time.monotonic() - t0)
        scfg = replace(tcfg, init=str(spur), epochs=cfg.spur_epochs, time_budget_s=train_budget(0.6 * left))
        sres = train_spurs(sdata, work / "spur", scfg, SpurConfig(refine_steps=cfg.refine_steps), log=lambda s: None)
        v = judge_spur_round(spur, sres["checkpoint"], sdata, cfg.spacing, cfg.spur_limit_mm, cfg.device)
        record["spur_check"] = {"kept": v.keep, "why": v.why, "phantom_px_before_after": list(v.phantom_px),
                                "held_out_worst_mm": v.held_out_mm, "held_out_spurs": v.held_out_n}  # fmt: skip
        if v.keep:
            record["spurs"] = str(sres["checkpoint"])
            log(f"round {k + 1}: spur model fine-tuned on {both} scans with both spurs trusted, and kept")
        else:
            log(f"round {k + 1}: the fine-tuned spur model is not kept: {v.why}")
    elif spur and cfg.spurs:
        why = f"only {both} scan(s) with both spurs trusted (need {cfg.min_accepted}): not fine-tuned"
        record["spur_check"] = {"kept": False, "why": why}
        log(f"round {k + 1}: spur model {why}")
    return record
