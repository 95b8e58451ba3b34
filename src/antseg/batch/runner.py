"""One resumable run over many scans: items sent to a backend, results written and journaled in order.

A worker returns :class:`Done`: the files it made (encoded bytes) and the rows it adds to the run's tables. This
process writes the files into the run's work folder (:class:`~antseg.io.resumable.ResumableDir`), then journals
the item: the work folder only ever holds whole items, and a killed run resumes after the last item journaled.
Items are journaled in the input's order (:func:`antseg.batch.backends.ordered`), so tables made from the journal
are the same for 1 or N workers, and for a run killed and resumed.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from antseg.errors import AntsegInputError
from antseg.io.resumable import ResumableDir


@dataclass
class Done:
    """What a worker made of one item.

    Attributes:
        key: the item's name in the run's journal; also its place in the work folder.
        files: name -> bytes. ``folder=True``: files inside the item's folder ``<key>/``; otherwise one entry, the
            file ``<key>`` itself.
        record: the data the item adds to the run's tables (JSON).
    """

    key: str
    files: dict[str, bytes]
    record: dict
    folder: bool = True


@dataclass
class RunStats:
    """How a run went: items in all, already done before it, done by it, and its wall time (s)."""

    total: int = 0
    skipped: int = 0
    done: int = 0
    seconds: float = 0.0
    workers: int = 1
    backend: str = "inline"

    @property
    def per_item_s(self) -> float:
        return self.seconds / self.done if self.done else float("nan")


def encode_image(rgb: np.ndarray, fmt: str = ".png", quality: int = 85, compression: int = 1) -> bytes:
    """``rgb`` ((H, W) grey or (H, W, 3) RGB uint8) encoded as antseg writes it (PNG level 1, JPEG 85)."""
    arr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    params = [cv2.IMWRITE_JPEG_QUALITY, quality] if fmt == ".jpg" else [cv2.IMWRITE_PNG_COMPRESSION, compression]
    ok, buf = cv2.imencode(fmt, arr, params)
    if not ok:
        raise AntsegInputError(None, f"could not encode an image as {fmt}")
    return buf.tobytes()


def write_done(job: ResumableDir, done: Done) -> None:
    """Put an item's files in place, whole: a folder through a temporary folder, a file through a temporary file."""
    if done.folder:
        with job.item(done.key) as tmp:
            for name, data in done.files.items():
                (tmp / name).write_bytes(data)
        return
    (data,) = done.files.values()
    path = job.partial / done.key
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def sweep_temp_files(folder: Path) -> None:
    """Remove the temporary files a killed run left in ``folder`` (``.<name>.tmp-<pid>``)."""
    if folder.is_dir():
        for p in folder.glob(".*.tmp-*"):
            if p.is_file():
                p.unlink(missing_ok=True)


def run_items(
    job: ResumableDir,
    items: Iterable[Any],
    key: Callable[[Any], str],
    task: Any,
    backend: Any,
    progress: Callable[[int, int], None] | None = None,
) -> RunStats:
    """Process the ``items`` not yet in ``job``'s journal on ``backend``; write and journal each, in order.

    Args:
        key: an item's journal key (what :class:`Done` comes back with).
        progress: called with (items finished, items in all) after each.
    """
    items = list(items)
    todo = [it for it in items if key(it) not in job.done]
    stats = RunStats(total=len(items), skipped=len(items) - len(todo), workers=backend.workers, backend=backend.name)
    t0 = time.perf_counter()
    finished = stats.skipped
    if progress and finished:
        progress(finished, len(items))
    for done in backend.map(task, todo):
        write_done(job, done)
        job.record(done.key, done.record)
        stats.done += 1
        finished += 1
        if progress:
            progress(finished, len(items))
    stats.seconds = time.perf_counter() - t0
    return stats


@contextlib.contextmanager
def resumable_dir(
    out: str | Path, header: dict, resume: bool = False, overwrite: bool = False, inputs: Iterable[str | Path] = (),
    log: Callable[[str], None] | None = None, unit: str = "scans",
) -> Iterator[ResumableDir]:  # fmt: skip
    """A :class:`~antseg.io.resumable.ResumableDir` for the block, finished when it ends without error.

    On a bad input met mid-run the finished items are kept and the error says to ``--resume``; on any other
    error (Ctrl-C, a killed worker) they are kept too and ``log`` says so. A run that finished nothing leaves
    nothing behind.
    """
    job = ResumableDir(out, header, resume=resume, overwrite=overwrite, inputs=inputs)
    try:
        yield job
    except AntsegInputError as exc:
        if job.abandon():
            kept = f"{len(job.done)} finished {unit} are kept: fix it and run again with --resume"
            raise AntsegInputError(exc.path, f"{exc.problem} ({kept})") from None
        raise
    except BaseException:
        if job.abandon() and log:
            log(f"stopped after {len(job.done)} {unit}; run the same command with --resume to continue")
        raise
    job.finish()
