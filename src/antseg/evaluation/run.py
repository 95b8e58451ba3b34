"""Evaluate a run: segmentation, spurs and, when both models are there, biometry (one call for the CLI)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

from antseg.data.canonical import load_dataset
from antseg.evaluation.segmentation import evaluate_segmentation
from antseg.evaluation.spurs import evaluate_spurs
from antseg.io.output_folder import check_output_folder, existing_paths, write_owner_marker
from antseg.models.checkpoint import TASK_LANDMARKS, TASK_SEGMENTATION, modality_name, read_checkpoint, require_modality
from antseg.models.runs import checkpoints_in, spur_checkpoint

#: ``progress(description)`` -> a context manager yielding ``update(done, total)``.
ProgressFactory = Callable[[str], AbstractContextManager[Callable[[int, int], None] | None]]


def evaluate_run(
    weights: str | Path,
    dataset: str | Path,
    out: str | Path,
    split: str = "test",
    spurs: str | Path | None = None,
    device: str = "auto",
    overwrite: bool = False,
    progress: ProgressFactory | None = None,
    report: Callable[[str], None] | None = None,
) -> dict[str, dict]:
    """Evaluate every model in ``weights`` (a run folder with ``best.pt`` and/or ``spur.pt``, or a checkpoint).

    Segmentation: Dice, IoU, HD95, ASSD. Spurs: errors, PCK, misses. With both a segmentation and a spur model
    (``spurs`` or the run folder's ``spur.pt``), also biometry predicted vs reference values.
    With one model in ``weights`` its tables go to ``out``; with several, to ``out/segmentation`` and
    ``out/landmarks``. The spur model ``spurs`` (it replaces a ``spur.pt`` in ``weights``) goes to
    ``out/landmarks``, and biometry to ``out/biometry``.

    Args:
        progress: optional factory of progress callbacks, one per step.
        report: called with each step's markdown table as soon as it is ready.

    Returns:
        task (``segmentation``, ``landmarks``, ``biometry``) -> that step's result.
    """
    out = Path(out)
    progress = progress or (lambda _desc: nullcontext(None))
    jobs = checkpoints_in(weights)
    check_output_folder(out, overwrite, existing_paths(dataset, weights, spurs))  # before any work
    modality = load_dataset(dataset).manifest.modality
    steps = [(task, path, out if len(jobs) == 1 else out / task) for task, path in jobs]
    if spurs is not None:  # scored like a run folder's spur.pt (which it replaces)
        steps = [s for s in steps if s[0] != TASK_LANDMARKS] + [
            (TASK_LANDMARKS, spur_checkpoint(spurs), out / TASK_LANDMARKS)
        ]
    for _task, path, _dest in steps:
        require_modality(read_checkpoint(path).meta, path, modality, f"evaluation on {modality_name(modality)} dataset")
    results: dict[str, dict] = {}
    for task, path, dest in steps:
        fn = evaluate_segmentation if task == TASK_SEGMENTATION else evaluate_spurs
        with progress(f"evaluate {task} on {split}") as update:
            results[task] = fn(path, dataset, dest, split=split, device=device, overwrite=overwrite, progress=update)
        if report:
            report(results[task]["markdown"])
    seg = next((p for t, p in jobs if t == TASK_SEGMENTATION), None)
    spur = spurs or next((p for t, p in jobs if t == TASK_LANDMARKS), None)
    if seg is not None and spur is not None:
        from antseg.scan.biometry import predicted_biometry

        dest = out / "biometry" if len(jobs) > 1 or spurs is not None else out
        with progress(f"biometry on {split}") as update:
            results["biometry"] = predicted_biometry(
                seg, spur, dataset, dest, split=split, device=device, overwrite=overwrite, progress=update
            )
        if report:
            report(results["biometry"]["markdown"])
    if all(dest != out for *_, dest in steps):
        write_owner_marker(out)  # the folder holding the steps' folders
    return results
